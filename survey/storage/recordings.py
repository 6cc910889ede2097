"""Evidence files (call recordings, door recordings and entrance photos) and recording reviews.

The files themselves live outside the database (survey.recordings writes them); a row
keeps where the file is, its sha256 and size, and what it belongs to: a wave, a case
and attempt (call-centre imports) and/or a response. One file is stored once per wave
and kind: the same content again stores nothing (an import run twice is harmless).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from survey.storage.engine import StoreError, audit, now, placeholders
from survey.storage.responses import ResponsesStore

RECORDING_FIELDS = ("kind", "sha256", "path", "size_bytes", "file_name", "wave", "case_id", "attempt_id",
                    "response_id", "interviewer", "firm", "recorded_at", "source", "created_by")


class RecordingsStore(ResponsesStore):
    def add_recordings(self, rows: list[dict[str, Any]], actor: str, wave: str,
                       detail: dict[str, Any]) -> int:
        """Store recording rows and one audit row in one transaction; returns the rows new to the store."""
        cols = ", ".join(RECORDING_FIELDS)
        marks = ", ".join("?" for _ in RECORDING_FIELDS)
        created = 0
        with self.tx() as db:
            for row in rows:
                got = db.execute(f"INSERT INTO recordings ({cols}, created_at) VALUES ({marks}, ?) "
                                 "ON CONFLICT (wave, kind, sha256) DO NOTHING RETURNING id",
                                 [row.get(f) for f in RECORDING_FIELDS] + [now()]).fetchone()
                created += got is not None
            if created:
                audit(db, actor, "recordings", "wave", wave, {**detail, "created": created})
        return created

    def recordings(self, wave: str, *, response_ids: Iterable[str] | None = None, firm: str | None = None,
                   kind: str | None = None) -> list[dict[str, Any]]:
        """Recording rows of a wave (of some responses, one firm, one kind), oldest first."""
        sql, params = "SELECT * FROM recordings WHERE wave = ?", [wave]
        if response_ids is not None:
            ids = list(response_ids)
            sql += f" AND response_id IN ({placeholders(ids)})"
            params += ids
        for col, val in (("firm", firm), ("kind", kind)):
            if val is not None:
                sql += f" AND {col} = ?"
                params.append(val)
        return self.query(sql + " ORDER BY recorded_at, id", params)

    def recording(self, recording_id: int) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM recordings WHERE id = ?", [recording_id])
        return rows[0] if rows else None

    def recorded_response_ids(self, wave: str, kind: str = "audio") -> set[str]:
        rows = self.db.execute("SELECT DISTINCT response_id FROM recordings WHERE wave = ? AND kind = ? "
                               "AND response_id IS NOT NULL", [wave, kind]).fetchall()
        return {r[0] for r in rows}

    def add_review(self, response_id: str, outcome: str, reason: str, actor: str,
                   exclusion_reason: str | None = None) -> bool:
        """Record a review outcome (and the response's exclusion, in the same transaction).

        The same outcome and reason as the latest review, with no exclusion asked, stores nothing.
        """
        with self.tx() as db:
            if not db.execute("SELECT 1 FROM responses WHERE response_id = ?", [response_id]).fetchone():
                raise StoreError(f"no response `{response_id}`")
            last = db.execute("SELECT outcome, reason FROM recording_reviews WHERE response_id = ? "
                              "ORDER BY id DESC LIMIT 1", [response_id]).fetchone()
            if last is not None and tuple(last) == (outcome, reason) and exclusion_reason is None:
                return False
            excluded = False
            if exclusion_reason is not None:
                excluded = self.set_exclusion(response_id, True, exclusion_reason, actor)  # joins this transaction
            db.execute("INSERT INTO recording_reviews (response_id, outcome, reason, excluded, actor, at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", [response_id, outcome, reason, int(excluded), actor, now()])
            audit(db, actor, "recording_review", "response", response_id,
                  {"outcome": outcome, "reason": reason, "excluded": excluded})
        return True

    def latest_reviews(self, wave: str, firm: str | None = None) -> dict[str, dict[str, Any]]:
        """The latest review of each reviewed response of a wave (one firm's), by response id."""
        sql = """SELECT v.* , r.firm FROM recording_reviews v JOIN responses r ON r.response_id = v.response_id
                 WHERE r.wave = ? AND v.id = (SELECT max(id) FROM recording_reviews WHERE response_id = v.response_id)"""
        params: list[Any] = [wave]
        if firm is not None:
            sql += " AND r.firm = ?"
            params.append(firm)
        return {r["response_id"]: r for r in self.query(sql, params)}

    def review_history(self, response_id: str) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM recording_reviews WHERE response_id = ? ORDER BY id", [response_id])

    def door_paradata(self, wave: str, firm: str | None = None) -> list[dict[str, Any]]:
        """Door interviews of a wave (one firm's) with their paradata text, for the location checks and map."""
        sql = ("SELECT response_id, interviewer, firm, unit, started_at, submitted_at, paradata FROM responses "
               "WHERE wave = ? AND mode = 'door'")
        params: list[Any] = [wave]
        if firm is not None:
            sql += " AND firm = ?"
            params.append(firm)
        return self.query(sql + " ORDER BY response_id", params)
