"""Moving a store between engines (`python -m survey copy`): every table, counts verified.

The destination is migrated to the same schema and must hold no data yet; all rows go
in one transaction, so a failed copy leaves the destination as empty as it was.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from survey.storage.engine import StoreError, to_json  # noqa: F401  (to_json: the rule both sides share)
from survey.storage.migrations import NAMES

if TYPE_CHECKING:
    from survey.storage.store import Store

# parents before children, so foreign keys hold at every row
TABLES = ("questionnaires", "waves", "accounts", "responses", "audit", "assignments", "exclusions",
          "published_scores", "appeal_windows", "objections", "cases", "attempts", "interview_drafts", "paper_forms", "paper_entries",
          "backchecks", "web_secrets", "web_tokens", "web_links", "web_drafts", "web_submissions",
          "qc_runs", "qc_flags", "login_throttle", "login_sessions", "recordings", "recording_reviews")
SEEDED = {"web_secrets"}  # rows a migration writes itself: the source's replace them
CHUNK = 2000


def _has_identity_id(db, table: str) -> bool:
    """Whether `table.id` is a generated number on PostgreSQL (waves and questionnaires have text ids)."""
    return bool(db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
                          "AND table_name = ? AND column_name = 'id' AND is_identity = 'YES'", [table]))


def copy_store(src: Store, dst: Store) -> dict[str, int]:
    """Copy every table of `src` into the empty store `dst`; returns rows per table, verified on both sides."""
    src_names, dst_names = src.applied_migrations(), dst.applied_migrations()
    if src_names != sorted(NAMES) or dst_names != sorted(NAMES):
        raise StoreError("both stores must be at this version's schema: open each once to migrate it")
    missing = sorted(set(src.db.table_names()) - set(TABLES) - {"schema_migrations"})
    if missing:
        raise StoreError(f"the copy does not know the tables {', '.join(missing)}")
    for table in TABLES:
        if table not in SEEDED and dst.db.scalar(f"SELECT count(*) FROM {table}"):
            raise StoreError(f"the destination holds data already (table {table}): copy into an empty store")
    counts: dict[str, int] = {}
    with dst.tx() as out:
        for table in TABLES:
            rows = src.db.execute(f"SELECT * FROM {table}")
            cols = list(rows.keys())
            sql = (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})")
            if table in SEEDED:
                sql += f" ON CONFLICT ({cols[0]}) DO UPDATE SET " + ", ".join(
                    f"{c} = excluded.{c}" for c in cols[1:])
            n = 0
            while True:
                chunk = rows.fetchmany(CHUNK)
                if not chunk:
                    break
                out.insert_many(sql, chunk)
                n += len(chunk)
            counts[table] = n
            if out.pg and n and _has_identity_id(out, table):  # identity columns continue after the copied ids
                out.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        for table, n in counts.items():
            got = out.scalar(f"SELECT count(*) FROM {table}")
            if got != n or src.db.scalar(f"SELECT count(*) FROM {table}") != n:
                raise StoreError(f"table {table}: {n} rows read but {got} stored; nothing was copied")
    return counts
