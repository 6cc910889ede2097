"""Published scores: stored for good, the table refuses updates and deletes."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from survey.storage.engine import (Database, IntegrityError, StoreError, audit, decoded, from_json, now,
                                   placeholders, to_json, where)


class ScoresStore(Database):
    def publish_score(self, wave: str | None, actor: str, config_name: str, config_hash: str, data_hash: str,
                      result_hash: str, record: dict[str, Any], result: list[dict[str, Any]]) -> int:
        """Store a score run for good; the table refuses updates and deletes (triggers)."""
        with self.tx() as db:
            score_id = db.insert_id(
                "INSERT INTO published_scores (wave, published_at, published_by, config_name, config_hash, "
                "data_hash, result_hash, record, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [wave, now(), actor, config_name, config_hash, data_hash, result_hash,
                 to_json(record),
                 to_json(result)])
            audit(db, actor, "publish", "score", str(score_id),
                        {"wave": wave, "config": config_name, "result_hash": result_hash})
        return score_id

    def published_scores(self, wave: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM published_scores" + (" WHERE wave = ?" if wave else "") + " ORDER BY id DESC"
        rows = self.query(sql, [wave] if wave else [])
        return [decoded(r, "record", "result") for r in rows]


# --------------------------------------------------------------------------------------
# Migrations of fieldwork: cases, attempts, quotas, drafts (0600_*) — add below
