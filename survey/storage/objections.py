"""Appeals of published scores: each publication's appeal window, the objections filed by a
unit's liaison and their decisions, and the evidence counts a liaison may see."""
from __future__ import annotations

from typing import Any

from survey.storage.engine import Database, StoreError, audit, decoded, now, to_json


class ObjectionsStore(Database):
    # -- appeal windows ------------------------------------------------------------
    def set_appeal_deadline(self, publication_id: int, deadline: str, actor: str) -> None:
        """Set (or move) the deadline of a publication's appeal window; the audit row keeps the old one."""
        with self.tx() as db:
            if not db.scalar("SELECT 1 FROM published_scores WHERE id = ?", [publication_id]):
                raise StoreError(f"no publication #{publication_id}")
            old = db.scalar("SELECT deadline FROM appeal_windows WHERE publication_id = ?", [publication_id])
            if old == deadline:
                return
            db.execute("INSERT INTO appeal_windows (publication_id, deadline, set_by, set_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (publication_id) DO UPDATE SET deadline = excluded.deadline, "
                       "set_by = excluded.set_by, set_at = excluded.set_at",
                       [publication_id, deadline, actor, now()])
            audit(db, actor, "set_deadline", "publication", str(publication_id), {"deadline": deadline, "old": old})

    def appeal_deadline(self, publication_id: int) -> str | None:
        return self.db.scalar("SELECT deadline FROM appeal_windows WHERE publication_id = ?", [publication_id])

    def publication(self, publication_id: int) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM published_scores WHERE id = ?", [publication_id])
        return decoded(rows[0], "record", "result") if rows else None

    # -- objections ----------------------------------------------------------------
    def add_objection(self, publication_id: int, wave: str, unit: str, kind: str, response_ids: list[str],
                      reason: str, actor: str) -> int:
        """Store one objection and its audit row together."""
        with self.tx() as db:
            oid = db.insert_id(
                "INSERT INTO objections (publication_id, wave, unit, kind, response_ids, reason, filed_by, filed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [publication_id, wave, unit, kind, to_json(response_ids), reason, actor, now()])
            audit(db, actor, "file", "objection", str(oid),
                  {"publication": publication_id, "unit": unit, "kind": kind, "responses": response_ids,
                   "reason": reason})
        return oid

    def objection(self, objection_id: int) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM objections WHERE id = ?", [objection_id])
        return _objection(rows[0]) if rows else None

    def objections(self, *, publication_id: int | None = None, wave: str | None = None, unit: str | None = None,
                   status: str | None = None) -> list[dict[str, Any]]:
        from survey.storage.engine import where
        sql, params = where([("publication_id", publication_id), ("wave", wave), ("unit", unit), ("status", status)])
        return [_objection(r) for r in self.query("SELECT * FROM objections" + sql + " ORDER BY id", params)]

    def decide_objection(self, objection_id: int, upheld: bool, reason: str, actor: str,
                         new_publication_id: int | None = None) -> bool:
        """Record a decision once; False when the objection was decided already (nothing written)."""
        status = "upheld" if upheld else "rejected"
        with self.tx() as db:
            cur = db.execute("UPDATE objections SET status = ?, decided_by = ?, decided_at = ?, decision_reason = ?, "
                             "new_publication_id = ? WHERE id = ? AND status = 'open'",
                             [status, actor, now(), reason, new_publication_id, objection_id])
            if cur.rowcount == 0:
                if not db.scalar("SELECT 1 FROM objections WHERE id = ?", [objection_id]):
                    raise StoreError(f"no objection #{objection_id}")
                return False
            audit(db, actor, "decide", "objection", str(objection_id),
                  {"status": status, "reason": reason, "new_publication": new_publication_id})
        return True

    # -- evidence ------------------------------------------------------------------
    def unit_evidence_counts(self, wave: str, unit: str) -> dict[str, int]:
        """Counts behind a unit's completes, without any personal data: responses by mode, back-checks,
        reviewed recordings (0 where that table does not exist yet) and door interviews with a GPS fix."""
        db = self.db
        out: dict[str, int] = {}
        for row in db.query("SELECT mode, count(*) AS n FROM responses WHERE wave = ? AND unit = ? GROUP BY mode",
                            [wave, unit]):
            out[f"responses_{row['mode']}"] = int(row["n"])
        out["responses"] = sum(v for k, v in out.items() if k.startswith("responses_"))
        out["excluded"] = int(db.scalar(
            """SELECT count(*) FROM responses r WHERE r.wave = ? AND r.unit = ? AND 'exclude' = (
                   SELECT e.action FROM exclusions e WHERE e.response_id = r.response_id ORDER BY e.id DESC LIMIT 1)""",
            [wave, unit]) or 0)
        out["backchecked"] = int(db.scalar(
            "SELECT count(DISTINCT b.response_id) FROM backchecks b JOIN responses r ON r.response_id = b.response_id "
            "WHERE r.wave = ? AND r.unit = ?", [wave, unit]) or 0)
        out["backcheck_confirmed"] = int(db.scalar(
            "SELECT count(DISTINCT b.response_id) FROM backchecks b JOIN responses r ON r.response_id = b.response_id "
            "WHERE r.wave = ? AND r.unit = ? AND b.outcome = 'confirmed'", [wave, unit]) or 0)
        out["recordings_reviewed"] = 0
        for table in ("recording_reviews",):  # 录音复核 (issue 17, point 3) where the store has it
            if table in db.table_names():
                out["recordings_reviewed"] = int(db.scalar(
                    f"SELECT count(DISTINCT v.response_id) FROM {table} v JOIN responses r "
                    "ON r.response_id = v.response_id WHERE r.wave = ? AND r.unit = ?", [wave, unit]) or 0)
        # a position: paradata `geo` (ODK import, other paths) or `evidence.geo` (the door page)
        located = " OR ".join(f"{db.json_text('r.paradata', key)} LIKE '%\"lat\"%'" for key in ("geo", "evidence"))
        out["door_with_gps"] = int(db.scalar(
            f"SELECT count(*) FROM responses r WHERE r.wave = ? AND r.unit = ? AND r.mode = 'door' AND ({located})",
            [wave, unit]) or 0)
        run = db.scalar("SELECT max(id) FROM qc_runs WHERE wave = ?", [wave])
        out["gps_flagged"] = int(db.scalar(
            "SELECT count(DISTINCT f.response_id) FROM qc_flags f JOIN responses r ON r.response_id = f.response_id "
            "WHERE f.run_id = ? AND r.unit = ? AND f.flag LIKE 'gps%'", [run, unit]) or 0) if run else 0
        return out


def _objection(row: dict[str, Any]) -> dict[str, Any]:
    return decoded(row, "response_ids")
