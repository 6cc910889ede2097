"""Hash chains over the append-only tables: audit, exclusions, published scores.

Each row stores `prev_hash` (the previous row's `row_hash`, or GENESIS for the first)
and `row_hash` = SHA-256 of the canonical JSON of {table, prev, row content}. Editing a
row breaks its own hash; deleting or inserting one breaks the next row's link. Triggers
(migration 1780) refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) on these tables, so
a change needs someone who bypasses the database's own rules, and `verify` then names
the first row where the chain no longer holds.

Appends are serialised per table: SQLite's `BEGIN IMMEDIATE` does it already; on
PostgreSQL a transaction-scoped advisory lock does, so two app servers never link two
rows to the same predecessor.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from survey.storage.engine import Db

GENESIS = "0" * 64

# the content columns each row hash covers (everything but id and the two hash columns)
CHAINED: dict[str, tuple[str, ...]] = {
    "audit": ("at", "actor", "action", "entity", "entity_id", "detail"),
    "exclusions": ("response_id", "action", "reason", "actor", "at"),
    "published_scores": ("wave", "published_at", "published_by", "config_name", "config_hash", "data_hash",
                         "result_hash", "record", "result", "snapshot"),
}
_LOCK_BASE = 7_160_500  # pg_advisory_xact_lock keys: "issue 16, chains" + table index


def canonical(value: Any) -> str:
    """The one canonical JSON text hashed: sorted keys, no spaces, Chinese as written."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def row_hash(table: str, row: dict[str, Any], prev: str) -> str:
    content = {col: row.get(col) for col in CHAINED[table]}
    return hashlib.sha256(canonical({"table": table, "prev": prev, "row": content}).encode("utf-8")).hexdigest()


def append(db: Db, table: str, row: dict[str, Any]) -> int:
    """Insert one chained row into `table` and return its id (the caller's transaction, or its own)."""
    if not db.in_transaction:
        db.begin()
        try:
            new_id = append(db, table, row)
        except BaseException:
            db.rollback()
            raise
        db.commit()
        return new_id
    if db.pg:
        db.execute("SELECT pg_advisory_xact_lock(?)", [_LOCK_BASE + list(CHAINED).index(table)])
    prev = db.scalar(f"SELECT row_hash FROM {table} ORDER BY id DESC LIMIT 1") or GENESIS
    values = {col: row.get(col) for col in CHAINED[table]}
    values["prev_hash"], values["row_hash"] = prev, row_hash(table, values, prev)
    cols = list(values)
    return db.insert_id(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                        list(values.values()))


@dataclass(frozen=True)
class ChainCheck:
    """The walk of one chain: rows seen, the head hash, and the first row that breaks it (if any)."""
    table: str
    rows: int
    head: str
    broken_id: int | None = None
    problem: str = ""  # "altered" (content no longer matches its hash) or "link" (a row missing or inserted)

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def _rows(db: Db, table: str, chunk: int = 5000) -> Iterator[dict[str, Any]]:
    cols = ", ".join(("id", *CHAINED[table], "prev_hash", "row_hash"))
    result = db.execute(f"SELECT {cols} FROM {table} ORDER BY id")
    keys = list(result.keys())
    while True:
        batch = result.fetchmany(chunk)
        if not batch:
            return
        for values in batch:
            yield dict(zip(keys, values))


def walk(db: Db, table: str) -> ChainCheck:
    """Walk a chain in id order; stop at the first row whose hash or link does not hold."""
    prev, count = GENESIS, 0
    for row in _rows(db, table):
        if row["prev_hash"] != prev:
            return ChainCheck(table, count, prev, int(row["id"]), "link")
        if row["row_hash"] != row_hash(table, row, prev):
            return ChainCheck(table, count, prev, int(row["id"]), "altered")
        prev, count = row["row_hash"], count + 1
    return ChainCheck(table, count, prev)


def heads(db: Db, tables: Sequence[str] = tuple(CHAINED)) -> dict[str, dict[str, Any]]:
    """The last row (id, hash) of each chain: what a publication records to pin the chains' past."""
    out: dict[str, dict[str, Any]] = {}
    for table in tables:
        row = db.execute(f"SELECT id, row_hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
        out[table] = {"id": int(row[0]), "hash": row[1]} if row else {"id": 0, "hash": GENESIS}
    return out


def backfill(db: Db, table: str) -> None:
    """Hash the rows a store held before it had chains (migration 1780), in id order."""
    prev = GENESIS
    for row in list(_rows(db, table)):
        h = row_hash(table, row, prev)
        db.execute(f"UPDATE {table} SET prev_hash = ?, row_hash = ? WHERE id = ?", [prev, h, row["id"]])
        prev = h
