"""Published scores: stored for good and chained; the table refuses updates and deletes."""
from __future__ import annotations

from typing import Any

from survey.storage.chain import append, heads
from survey.storage.engine import Database, audit, decoded, now, to_json


class ScoresStore(Database):
    def publish_score(self, wave: str | None, actor: str, config_name: str, config_hash: str, data_hash: str,
                      result_hash: str, record: dict[str, Any], result: list[dict[str, Any]],
                      response_ids: list[str] | None = None) -> int:
        """Store a score run for good; the table refuses updates and deletes (triggers).

        The row is chained (survey.storage.chain) and keeps a snapshot: the ids of the
        responses scored and the heads of the audit and exclusion chains at this moment,
        so `verify` recomputes the publication from the very rows it was computed from.
        """
        with self.tx() as db:
            snapshot = {"response_ids": sorted(response_ids) if response_ids is not None else None,
                        "chains": heads(db, ("audit", "exclusions"))}
            score_id = append(db, "published_scores", {
                "wave": wave, "published_at": now(), "published_by": actor, "config_name": config_name,
                "config_hash": config_hash, "data_hash": data_hash, "result_hash": result_hash,
                "record": to_json(record), "result": to_json(result), "snapshot": to_json(snapshot)})
            audit(db, actor, "publish", "score", str(score_id),
                  {"wave": wave, "config": config_name, "result_hash": result_hash})
        return score_id

    def published_scores(self, wave: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM published_scores" + (" WHERE wave = ?" if wave else "") + " ORDER BY id DESC"
        rows = self.query(sql, [wave] if wave else [])
        return [decoded(r, "record", "result", "snapshot") for r in rows]

    def published_score(self, score_id: int) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM published_scores WHERE id = ?", [score_id])
        return decoded(rows[0], "record", "result", "snapshot") if rows else None

    def chain_checks(self) -> list[Any]:
        """Walk every chain (audit, exclusions, published scores): survey.storage.chain.ChainCheck each."""
        from survey.storage.chain import CHAINED, walk
        return [walk(self.db, table) for table in CHAINED]

    def chain_row_hash(self, table: str, row_id: int) -> str | None:
        """The stored row hash of one row of a chained table (None if the row is gone)."""
        from survey.storage.chain import CHAINED
        if table not in CHAINED:
            raise ValueError(f"not a chained table: {table}")
        return self.db.scalar(f"SELECT row_hash FROM {table} WHERE id = ?", [row_id])
