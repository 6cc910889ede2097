"""Quality-control runs and their flag sets."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from survey.storage.engine import (Database, IntegrityError, StoreError, audit, decoded, from_json, now,
                                   placeholders, to_json, where)


class QcStore(Database):
    def qc_contact_hashes(self, wave: str) -> list[tuple[str, str]]:
        """(response_id, contact_hash) of a wave: from paradata, or from a `cases` table when it has one."""
        db = self.db
        value = db.json_text("paradata", "contact_hash")
        rows = db.execute(f"SELECT response_id, {value} FROM responses WHERE wave = ? AND {value} IS NOT NULL",
                          [wave]).fetchall()
        found = {r[0]: r[1] for r in rows}
        for rid, h in self.db.execute(
                "SELECT r.response_id, c.contact_hash FROM responses r "
                "JOIN cases c ON c.wave = r.wave AND c.case_id = r.case_id "
                "WHERE r.wave = ? AND c.contact_hash IS NOT NULL AND c.contact_hash != ''", [wave]).fetchall():
            found.setdefault(rid, h)
        return sorted(found.items())

    def replace_qc_flags(self, wave: str, flags: list[dict[str, Any]], settings: dict[str, Any],
                         actor: str) -> int | None:
        """Make `flags` the wave's current flag set as a new QC run; the earlier runs stay as history.

        Returns the new run id, or None when the set equals the current one (nothing stored).
        """
        def key(f: dict[str, Any]) -> tuple[str, str, str]:
            return (str(f["response_id"]), str(f["flag"]), str(f.get("detail") or ""))

        with self.tx() as db:
            last = db.execute("SELECT id FROM qc_runs WHERE wave = ? ORDER BY id DESC LIMIT 1", [wave]).fetchone()
            if last is not None:
                current = {tuple(r) for r in db.execute(
                    "SELECT response_id, flag, detail FROM qc_flags WHERE run_id = ?", [last[0]]).fetchall()}
                if current == {key(f) for f in flags}:
                    return None
            counts: dict[str, int] = {}
            for f in flags:
                counts[f["flag"]] = counts.get(f["flag"], 0) + 1
            run_id = db.insert_id("INSERT INTO qc_runs (wave, at, actor, settings, counts) VALUES (?, ?, ?, ?, ?)",
                             [wave, now(), actor, to_json(settings),
                              to_json(counts)])
            db.executemany("INSERT INTO qc_flags (run_id, response_id, flag, detail) VALUES (?, ?, ?, ?)",
                           [(run_id, *key(f)) for f in flags])
            audit(db, actor, "qc", "wave", wave, {"run": run_id, "counts": counts})
        return run_id

    def qc_runs(self, wave: str) -> list[dict[str, Any]]:
        """Every QC run of a wave, newest first (the history of flag sets)."""
        rows = self.query("SELECT * FROM qc_runs WHERE wave = ? ORDER BY id DESC", [wave])
        return [decoded(r, "settings", "counts") for r in rows]

    def qc_flags(self, wave: str, run_id: int | None = None) -> list[dict[str, Any]]:
        """Flags of one QC run (default: the wave's latest, i.e. the current set) with response columns."""
        if run_id is None:
            row = self.db.execute("SELECT max(id) FROM qc_runs WHERE wave = ?", [wave]).fetchone()
            run_id = row[0] if row else None
            if run_id is None:
                return []
        return self.query("""SELECT f.response_id, f.flag, f.detail, f.run_id, r.unit, r.mode, r.interviewer, r.firm
                             FROM qc_flags f JOIN responses r ON r.response_id = f.response_id
                             WHERE f.run_id = ? ORDER BY f.response_id, f.flag""", [run_id])
