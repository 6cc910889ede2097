"""Questionnaires and waves: registration, settings, status."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from survey.storage.engine import (Database, IntegrityError, StoreError, audit, decoded, from_json, now,
                                   placeholders, to_json, where)


class WavesStore(Database):
    def add_questionnaire(self, qid: str, version: int, title: str, spec: str, sha256: str,
                          actor: str | None = None) -> bool:
        """Register a questionnaire version; refuse a changed spec under a used id."""
        with self.tx() as db:
            row = db.execute("SELECT sha256 FROM questionnaires WHERE id = ?", [qid]).fetchone()
            if row is not None:
                if row[0] != sha256:
                    raise StoreError(f"questionnaire `{qid}` is already registered with other content; "
                                     "a questionnaire in use is never edited in place: save it under a new id")
                return False
            db.execute("INSERT INTO questionnaires VALUES (?, ?, ?, ?, ?, ?)",
                       [qid, version, title, spec, sha256, now()])
            audit(db, actor, "create", "questionnaire", qid, {"sha256": sha256})
        return True

    def questionnaire_spec(self, qid: str) -> str | None:
        row = self.db.execute("SELECT spec FROM questionnaires WHERE id = ?", [qid]).fetchone()
        return row[0] if row else None

    def questionnaires(self) -> list[dict[str, Any]]:
        return self.query("SELECT id, version, title, sha256, created_at FROM questionnaires ORDER BY id")

    def add_wave(self, wave: str, questionnaire_id: str, units: list[str], actor: str | None,
                 opens_at: str | None = None, closes_at: str | None = None,
                 settings: dict[str, Any] | None = None) -> None:
        with self.tx() as db:
            if db.execute("SELECT 1 FROM waves WHERE id = ?", [wave]).fetchone():
                raise StoreError(f"wave `{wave}` exists already")
            if not db.execute("SELECT 1 FROM questionnaires WHERE id = ?", [questionnaire_id]).fetchone():
                raise StoreError(f"questionnaire `{questionnaire_id}` is not registered")
            db.execute("INSERT INTO waves (id, questionnaire_id, units, status, opens_at, closes_at, settings, "
                       "created_at, created_by) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)",
                       [wave, questionnaire_id, to_json(units), opens_at, closes_at,
                        to_json(settings or {}), now(), actor])
            audit(db, actor, "create", "wave", wave, {"questionnaire_id": questionnaire_id, "units": units})

    def update_wave(self, wave: str, actor: str, **fields: Any) -> None:
        """Change status, dates or settings of a wave (never its questionnaire)."""
        allowed = {"status", "opens_at", "closes_at", "settings", "units"}
        bad = set(fields) - allowed
        if bad:
            raise StoreError(f"cannot change {', '.join(sorted(bad))} of a wave")
        values = {k: to_json(v) if k in ("settings", "units") else v
                  for k, v in fields.items()}
        with self.tx() as db:
            sets = ", ".join(f"{k} = ?" for k in values)
            db.execute(f"UPDATE waves SET {sets} WHERE id = ?", [*values.values(), wave])
            audit(db, actor, "update", "wave", wave, fields)

    def wave(self, wave: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM waves WHERE id = ?", [wave])
        return decoded(rows[0], "units", "settings") if rows else None

    def waves(self) -> list[dict[str, Any]]:
        return [self.wave(r["id"]) for r in self.query("SELECT id FROM waves ORDER BY id")]  # type: ignore[misc]
