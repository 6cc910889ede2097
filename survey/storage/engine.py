"""Connections, transactions, the JSON rule and the audit helper: the plumbing under every domain module.

`SURVEY_DB` names the store: a path (SQLite, the embedded default) or a URL
(`sqlite:///path`, `postgresql://user@host:port/db`, driven by psycopg 3). The domain
modules write one SQL text with `?` placeholders; `Db.execute` hands it to the driver
in its own parameter style, and the few spots where the dialects differ ask
`Db.pg` / `Db.json_value` instead of branching in their callers.

Each thread holds one connection per store (Streamlit serves each browser session on
its own thread). Connections run in autocommit mode; `Database.tx()` opens an explicit
transaction: `BEGIN IMMEDIATE` on SQLite (writers queue on the busy timeout instead of
failing), `BEGIN` on PostgreSQL (READ COMMITTED; conflicts are settled by `ON CONFLICT`,
unique constraints and `FOR UPDATE SKIP LOCKED`).
"""
from __future__ import annotations

from common.errors import Rejected

import datetime as dt
import json
import os
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool

BUSY_TIMEOUT_MS = 30_000


StoreError = Rejected  # a refusal a user can act on (common.errors)


def now() -> str:
    """Local wall-clock time as ISO seconds: what pollsters and analysts read."""
    return dt.datetime.now().isoformat(timespec="seconds")


def to_json(value: Any) -> str:
    """The one JSON encoding of the store: sorted keys, Chinese kept as written.

    One rule means equal values are equal texts, so `answers = ?` comparisons and
    content hashes hold on every engine.
    """
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def from_json(text: str | None, empty: Any = None) -> Any:
    """Parse a JSON text column; an empty one reads as `empty` ({} unless told)."""
    if not text:
        return {} if empty is None else empty
    return json.loads(text)


def decoded(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    """A copy of a row with its JSON text columns parsed (an empty one reads as {})."""
    row = dict(row)
    for col in columns:
        row[col] = from_json(row.get(col))
    return row


def is_url(target: str | Path) -> bool:
    return isinstance(target, str) and "://" in target


@dataclass(frozen=True)
class Target:
    """Where a store lives: its SQLAlchemy URL and the path its side files (contact key) sit by."""
    url: str
    path: Path

    @property
    def dialect(self) -> str:
        return "postgresql" if self.url.startswith("postgresql") else "sqlite"


def resolve(target: str | Path | None = None) -> Target:
    """A path, a `sqlite:///` URL or a `postgresql://` URL (default: `SURVEY_DB`, else data/survey.db)."""
    from survey.config import DATA_DIR, db_target
    if target is None:
        target = db_target()
    if is_url(target):
        url = str(target)
        if url.startswith("sqlite:///"):
            path = Path(url[len("sqlite:///"):])
            return Target(f"sqlite:///{path.resolve()}", path)
        if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            parsed = sa.engine.make_url(url.replace("postgres://", "postgresql://", 1))
            parsed = parsed.set(drivername="postgresql+psycopg")
            # the contact key sits in the data folder, named for the database (or SURVEY_KEY_FILE)
            key_dir = Path(os.environ.get("SURVEY_KEY_DIR", str(DATA_DIR)))
            return Target(parsed.render_as_string(hide_password=False), key_dir / f"{parsed.database}.pg")
        raise StoreError(f"SURVEY_DB: not a store address: {url} (a file path, sqlite:///… or postgresql://…)")
    path = Path(target)
    return Target(f"sqlite:///{path.resolve()}", path)


# --------------------------------------------------------------------------------------
# Engines (one per URL and process) and per-thread connections
# --------------------------------------------------------------------------------------
_engines: dict[tuple[int, str], sa.Engine] = {}
_engines_lock = threading.Lock()
_open: "weakref.WeakSet[Db]" = weakref.WeakSet()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we say BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.close()


def engine_for(target: Target) -> sa.Engine:
    """The process's engine for a URL (a forked worker makes its own)."""
    key = (os.getpid(), target.url)
    with _engines_lock:
        eng = _engines.get(key)
        if eng is None:
            if target.dialect == "sqlite":
                target.path.parent.mkdir(parents=True, exist_ok=True)
                eng = sa.create_engine(target.url, poolclass=NullPool,
                                       connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                                     "check_same_thread": False})
                event.listen(eng, "connect", _sqlite_pragmas)
            else:
                eng = sa.create_engine(target.url, poolclass=NullPool)
            _engines[key] = eng
        return eng


class Db:
    """One connection in autocommit mode, speaking `?`-placeholder SQL on either engine."""

    def __init__(self, target: Target):
        self.target = target
        self.pg = target.dialect == "postgresql"
        if not self.pg and not target.path.exists():
            # a new store is private (0600): SQLite gives its -wal/-shm files the same mode
            target.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(target.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self.conn = engine_for(target).connect().execution_options(isolation_level="AUTOCOMMIT")
        self.in_transaction = False
        self.pid = os.getpid()
        _open.add(self)

    # -- SQL -----------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s") if self.pg else sql

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sa.CursorResult:
        try:
            return self.conn.exec_driver_sql(self._sql(sql), tuple(params) if not isinstance(params, dict)
                                             else params)
        except sa.exc.IntegrityError as err:
            raise IntegrityError(str(err.orig)) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one statement over many rows; returns the rows changed in all."""
        rows = [tuple(r) for r in rows]
        if not rows:
            return 0
        if self.pg:  # psycopg's executemany reports no total rowcount: count row by row
            return sum(max(self.execute(sql, r).rowcount, 0) for r in rows)
        try:
            cur = self.conn.connection.dbapi_connection.cursor()
            cur.executemany(sql, rows)
            return max(cur.rowcount, 0)
        except Exception as err:
            import sqlite3
            if isinstance(err, sqlite3.IntegrityError):
                raise IntegrityError(str(err)) from None
            raise

    def insert_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows with the driver's batch path (no row counts needed)."""
        if rows:
            try:
                self.conn.exec_driver_sql(self._sql(sql), [tuple(r) for r in rows])
            except sa.exc.IntegrityError as err:
                raise IntegrityError(str(err.orig)) from None

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.execute(sql, params).mappings()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.execute(sql, params).fetchone()
        return row[0] if row else None

    def insert_id(self, sql: str, params: Sequence[Any]) -> int:
        """Run an INSERT into a table with an `id` key and return the new id (RETURNING on both engines)."""
        return int(self.execute(sql + " RETURNING id", params).fetchone()[0])

    # -- dialect spots -------------------------------------------------------------
    def json_value(self, column: str, key: str) -> str:
        """SQL for one key of a JSON text column, typed as in the document (number stays number)."""
        return f"({column}::jsonb -> '{key}')" if self.pg else f"json_extract({column}, '$.{key}')"

    def json_text(self, column: str, key: str) -> str:
        """SQL for one key of a JSON text column as text (for comparing with a text parameter)."""
        return f"({column}::jsonb ->> '{key}')" if self.pg else f"json_extract({column}, '$.{key}')"

    def table_names(self) -> list[str]:
        return sorted(sa.inspect(self.conn).get_table_names())

    # -- transactions --------------------------------------------------------------
    def begin(self) -> None:
        self.execute("BEGIN" if self.pg else "BEGIN IMMEDIATE")
        self.in_transaction = True

    def commit(self) -> None:
        self.in_transaction = False
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.in_transaction = False
        try:
            self.execute("ROLLBACK")
        except Exception:  # the connection itself failed: nothing to roll back
            pass

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            _open.discard(self)


class IntegrityError(StoreError):
    """A constraint refused a row (duplicate key, missing parent) on either engine."""


def close_all(url: str | None = None) -> None:
    """Close every open connection of this process (to one URL); a test drops its database after."""
    for db in list(_open):
        if (url is None or db.target.url == url) and db.pid == os.getpid():
            db.close()
    _local.__dict__.clear() if url is None else None
    with _engines_lock:
        for key in [k for k in _engines if url is None or k[1] == url]:
            _engines.pop(key).dispose()


_local = threading.local()


class Database:
    """A handle on one store: cheap to create, connections are per thread."""

    def __init__(self, target: str | Path | Target | None = None):
        self.target = target if isinstance(target, Target) else resolve(target)
        self.path = self.target.path
        self.url = self.target.url

    @property
    def dialect(self) -> str:
        return self.target.dialect

    @property
    def db(self) -> Db:
        conns: dict[str, Db] = getattr(_local, "conns", None) or {}
        _local.conns = conns
        db = conns.get(self.url)
        # a forked worker never touches its parent's connection: it opens its own
        if db is None or db.pid != os.getpid() or db.conn.closed:
            db = conns[self.url] = Db(self.target)
        return db

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        db = (getattr(_local, "conns", None) or {}).pop(self.url, None)
        if db is not None:
            db.close()

    @contextmanager
    def tx(self) -> Iterator[Db]:
        """One atomic write, rolled back on any error; nested use joins the outer transaction."""
        db = self.db
        if db.in_transaction:
            yield db
            return
        db.begin()
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        db.commit()

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return self.db.query(sql, params)


def audit(db: Db, actor: str | None, action: str, entity: str, entity_id: str | None,
          detail: dict[str, Any] | None = None) -> None:
    """One audit row, written in the caller's transaction: who did what to which entity, and how.

    The row is chained (survey.storage.chain): it carries the hash of its content and of the row before.
    """
    from survey.storage.chain import append
    append(db, "audit", {"at": now(), "actor": actor, "action": action, "entity": entity,
                         "entity_id": entity_id, "detail": to_json(detail or {})})


def placeholders(values: Sequence[Any]) -> str:
    """`?, ?, ?` for an IN list; an empty list matches nothing on both engines."""
    return ", ".join("?" for _ in values) if values else "NULL"


def where(conditions: Iterable[tuple[str, Any]], base: Sequence[str] = (),
          params: Sequence[Any] = ()) -> tuple[str, list[Any]]:
    """` WHERE a = ? AND b = ?` from (column, value) pairs, leaving out the None values."""
    clauses, values = list(base), list(params)
    for col, val in conditions:
        if val is not None:
            clauses.append(f"{col} = ?")
            values.append(val)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), values
