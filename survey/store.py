"""The store: the only module that speaks SQL.

SQLite through sqlite-utils, in WAL mode with a busy timeout and one connection per
thread (Streamlit serves each browser session on its own thread, and an sqlite3
connection must not cross threads). Every write runs in one `BEGIN IMMEDIATE`
transaction, so a write is all or nothing and writers queue instead of failing.

Schema changes are named migrations recorded in `schema_migrations`; opening an older
file applies the missing ones and keeps its data. Add a migration with
`@migration("NNNN_name")` in the section of the feature that needs it; names sort in
the order they run.

Nothing is deleted: edits and exclusions are rows in `audit` / `exclusions`.
"""
from __future__ import annotations

from common.errors import Rejected

import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from survey.config import db_path

BUSY_TIMEOUT_MS = 30_000

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: dict[str, Migration] = {}


def migration(name: str) -> Callable[[Migration], Migration]:
    """Register a schema migration under a unique, sortable name."""
    def register(fn: Migration) -> Migration:
        if name in MIGRATIONS:
            raise RuntimeError(f"migration {name} registered twice")
        MIGRATIONS[name] = fn
        return fn
    return register


def now() -> str:
    """Local wall-clock time as ISO seconds: what pollsters and analysts read."""
    return dt.datetime.now().isoformat(timespec="seconds")


def _decoded(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    """A copy of a row with its JSON text columns parsed (an empty one reads as {})."""
    row = dict(row)
    for col in columns:
        row[col] = json.loads(row.get(col) or "{}")
    return row


StoreError = Rejected  # a write refused for a reason a user can act on (common.errors)


# ======================================================================================
# Schema
# ======================================================================================
@migration("0001_initial")
def _m0001(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE questionnaires (
        id TEXT PRIMARY KEY, version INTEGER NOT NULL, title TEXT NOT NULL,
        spec TEXT NOT NULL, sha256 TEXT NOT NULL, created_at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE waves (
        id TEXT PRIMARY KEY, questionnaire_id TEXT NOT NULL REFERENCES questionnaires(id),
        units TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open',
        opens_at TEXT, closes_at TEXT, settings TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL, created_by TEXT)""")
    db.execute("""CREATE TABLE accounts (
        username TEXT PRIMARY KEY, display_name TEXT, role TEXT NOT NULL, firm TEXT,
        password_hash TEXT NOT NULL, failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT, active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE responses (
        response_id TEXT PRIMARY KEY, submit_key TEXT NOT NULL UNIQUE,
        wave TEXT NOT NULL, questionnaire_id TEXT NOT NULL, unit TEXT NOT NULL,
        mode TEXT NOT NULL, interviewer TEXT, firm TEXT, case_id TEXT, source TEXT NOT NULL,
        started_at TEXT, submitted_at TEXT NOT NULL, duration_s REAL,
        answers TEXT NOT NULL, created_by TEXT, created_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX responses_wave ON responses(wave, unit, mode)")
    db.execute("CREATE INDEX responses_interviewer ON responses(interviewer)")
    db.execute("""CREATE TABLE audit (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT, action TEXT NOT NULL,
        entity TEXT NOT NULL, entity_id TEXT, detail TEXT)""")
    db.execute("CREATE INDEX audit_entity ON audit(entity, entity_id)")


@migration("0002_assignments_exclusions_paradata")
def _m0002(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE assignments (
        username TEXT NOT NULL REFERENCES accounts(username), wave TEXT NOT NULL REFERENCES waves(id),
        assigned_at TEXT NOT NULL, assigned_by TEXT, PRIMARY KEY (username, wave))""")
    db.execute("""CREATE TABLE exclusions (
        id INTEGER PRIMARY KEY, response_id TEXT NOT NULL REFERENCES responses(response_id),
        action TEXT NOT NULL CHECK (action IN ('exclude', 'restore')),
        reason TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL)""")
    db.execute("CREATE INDEX exclusions_response ON exclusions(response_id, id)")
    db.execute("ALTER TABLE responses ADD COLUMN paradata TEXT NOT NULL DEFAULT '{}'")
    db.execute("ALTER TABLE responses ADD COLUMN content_hash TEXT")


# ======================================================================================
# Connections
# ======================================================================================
_local = threading.local()


def _connect(path: Path) -> sqlite_utils.Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():  # a new store is private (0600): SQLite gives its -wal/-shm files the same mode
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn)


class Store:
    """A handle on one store file; cheap to create, connections are per thread."""

    def __init__(self, path: str | Path | None = None, *, migrate: bool = True,
                 upto: str | None = None):
        self.path = Path(path) if path is not None else db_path()
        if migrate:
            self.migrate(upto=upto)

    # -- plumbing ------------------------------------------------------------------
    @property
    def db(self) -> sqlite_utils.Database:
        conns: dict[str, sqlite_utils.Database] = getattr(_local, "conns", None) or {}
        _local.conns = conns
        key = str(self.path.resolve())
        if key not in conns:
            conns[key] = _connect(self.path)
        return conns[key]

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conns = getattr(_local, "conns", {})
        db = conns.pop(str(self.path.resolve()), None)
        if db is not None:
            db.conn.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite_utils.Database]:
        """One atomic write: BEGIN IMMEDIATE ... COMMIT, rolled back on any error.

        Use `db.execute` inside: sqlite-utils' own write helpers commit on their own.
        """
        db = self.db
        if db.conn.in_transaction:  # nested use joins the outer transaction
            yield db
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.conn.rollback()
            raise
        db.execute("COMMIT")

    def query(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    # -- migrations ----------------------------------------------------------------
    def applied_migrations(self) -> list[str]:
        if "schema_migrations" not in self.db.table_names():
            return []
        return [r["name"] for r in self.db.query("SELECT name FROM schema_migrations ORDER BY name")]

    def schema_version(self) -> int:
        return len(self.applied_migrations())

    def migrate(self, upto: str | None = None) -> list[str]:
        """Apply missing migrations in name order (up to and including `upto`)."""
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = set(self.applied_migrations())
        applied = []
        for name in sorted(MIGRATIONS):
            if upto is not None and name > upto:
                break
            if name in done:
                continue
            with self.tx() as db:
                MIGRATIONS[name](db)
                db.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, now()])
            applied.append(name)
        return applied

    def backup(self, out: str | Path) -> None:
        """Copy the live store with SQLite's online backup (safe while others write)."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        dest = sqlite3.connect(str(out))
        try:
            self.db.conn.backup(dest)
        finally:
            dest.close()

    # -- audit ---------------------------------------------------------------------
    @staticmethod
    def _audit(db: sqlite_utils.Database, actor: str | None, action: str, entity: str,
               entity_id: str | None, detail: dict[str, Any] | None = None) -> None:
        db.execute("INSERT INTO audit (at, actor, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                   [now(), actor, action, entity, entity_id,
                    json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)])

    def audit_log(self, entity: str | None = None, entity_id: str | None = None,
                  limit: int = 500) -> list[dict[str, Any]]:
        where, params = [], []
        if entity:
            where.append("entity = ?")
            params.append(entity)
        if entity_id:
            where.append("entity_id = ?")
            params.append(entity_id)
        sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "")
        return self.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])

    # ==================================================================================
    # Questionnaires and waves
    # ==================================================================================
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
            self._audit(db, actor, "create", "questionnaire", qid, {"sha256": sha256})
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
                       [wave, questionnaire_id, json.dumps(units, ensure_ascii=False), opens_at, closes_at,
                        json.dumps(settings or {}, ensure_ascii=False), now(), actor])
            self._audit(db, actor, "create", "wave", wave, {"questionnaire_id": questionnaire_id, "units": units})

    def update_wave(self, wave: str, actor: str, **fields: Any) -> None:
        """Change status, dates or settings of a wave (never its questionnaire)."""
        allowed = {"status", "opens_at", "closes_at", "settings", "units"}
        bad = set(fields) - allowed
        if bad:
            raise StoreError(f"cannot change {', '.join(sorted(bad))} of a wave")
        values = {k: json.dumps(v, ensure_ascii=False) if k in ("settings", "units") else v
                  for k, v in fields.items()}
        with self.tx() as db:
            sets = ", ".join(f"{k} = ?" for k in values)
            db.execute(f"UPDATE waves SET {sets} WHERE id = ?", [*values.values(), wave])
            self._audit(db, actor, "update", "wave", wave, fields)

    def wave(self, wave: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM waves WHERE id = ?", [wave])
        return _decoded(rows[0], "units", "settings") if rows else None

    def waves(self) -> list[dict[str, Any]]:
        return [self.wave(r["id"]) for r in self.query("SELECT id FROM waves ORDER BY id")]  # type: ignore[misc]

    # ==================================================================================
    # Accounts
    # ==================================================================================
    def add_account(self, username: str, role: str, password_hash: str, actor: str | None,
                    firm: str | None = None, display_name: str | None = None) -> None:
        with self.tx() as db:
            if db.execute("SELECT 1 FROM accounts WHERE username = ?", [username]).fetchone():
                raise StoreError(f"account `{username}` exists already")
            db.execute("INSERT INTO accounts (username, display_name, role, firm, password_hash, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", [username, display_name, role, firm, password_hash, now()])
            self._audit(db, actor, "create", "account", username, {"role": role, "firm": firm})

    def account(self, username: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM accounts WHERE username = ?", [username])
        return rows[0] if rows else None

    def accounts(self) -> list[dict[str, Any]]:
        return self.query("SELECT username, display_name, role, firm, active, locked_until, created_at "
                          "FROM accounts ORDER BY role, username")

    def count_accounts(self) -> int:
        return self.db.execute("SELECT count(*) FROM accounts").fetchone()[0]

    def update_account(self, username: str, actor: str | None, audit_action: str | None = "update",
                       **fields: Any) -> None:
        allowed = {"password_hash", "failed_logins", "locked_until", "active", "firm", "role", "display_name"}
        bad = set(fields) - allowed
        if bad:
            raise StoreError(f"cannot change {', '.join(sorted(bad))} of an account")
        with self.tx() as db:
            sets = ", ".join(f"{k} = ?" for k in fields)
            cur = db.execute(f"UPDATE accounts SET {sets} WHERE username = ?", [*fields.values(), username])
            if cur.rowcount == 0:
                raise StoreError(f"no account `{username}`")
            if audit_action:
                shown = {k: v for k, v in fields.items() if k != "password_hash"}
                if "password_hash" in fields:
                    shown["password"] = "changed"
                self._audit(db, actor, audit_action, "account", username, shown)

    def record_login(self, username: str, ok: bool, failed_logins: int, locked_until: str | None) -> None:
        """Store the outcome of a login attempt and its audit row together."""
        with self.tx() as db:
            db.execute("UPDATE accounts SET failed_logins = ?, locked_until = ? WHERE username = ?",
                       [failed_logins, locked_until, username])
            self._audit(db, username, "login" if ok else "login_failed", "account", username,
                        {"locked_until": locked_until} if locked_until else {})

    def assign(self, username: str, wave: str, actor: str) -> None:
        with self.tx() as db:
            db.execute("INSERT OR IGNORE INTO assignments VALUES (?, ?, ?, ?)", [username, wave, now(), actor])
            self._audit(db, actor, "assign", "account", username, {"wave": wave})

    def assigned_waves(self, username: str) -> list[str]:
        return [r["wave"] for r in self.query("SELECT wave FROM assignments WHERE username = ? ORDER BY wave",
                                              [username])]

    # ==================================================================================
    # Responses
    # ==================================================================================
    RESPONSE_FIELDS = ("response_id", "submit_key", "wave", "questionnaire_id", "unit", "mode", "interviewer",
                       "firm", "case_id", "source", "started_at", "submitted_at", "duration_s", "answers",
                       "created_by", "paradata", "content_hash")

    def insert_responses(self, records: list[dict[str, Any]], actor: str | None) -> list[tuple[str, bool]]:
        """Store responses in one transaction; a submit key seen before stores nothing.

        Returns (response_id, created) per record: a repeated submit key answers with the
        response it stored the first time, so a double-clicked submit is harmless.
        """
        out: list[tuple[str, bool]] = []
        cols = ", ".join(self.RESPONSE_FIELDS)
        marks = ", ".join("?" for _ in self.RESPONSE_FIELDS)
        stamp = now()
        with self.tx() as db:
            for rec in records:
                row = db.execute("SELECT response_id FROM responses WHERE submit_key = ?",
                                 [rec["submit_key"]]).fetchone()
                if row is not None:
                    out.append((row[0], False))
                    continue
                values = {**rec, "answers": json.dumps(rec["answers"], ensure_ascii=False, sort_keys=True),
                          "paradata": json.dumps(rec.get("paradata") or {}, ensure_ascii=False, sort_keys=True)}
                try:
                    db.execute(f"INSERT INTO responses ({cols}, created_at) VALUES ({marks}, ?)",
                               [values.get(f) for f in self.RESPONSE_FIELDS] + [stamp])
                except sqlite3.IntegrityError as err:
                    raise StoreError(f"response `{rec['response_id']}` cannot be stored: {err}") from None
                out.append((rec["response_id"], True))
            created = [rid for rid, new in out if new]
            if created:
                self._audit(db, actor, "submit", "response", created[0] if len(created) == 1 else None,
                            {"count": len(created)} if len(created) > 1 else {})
        return out

    def response(self, response_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM responses WHERE response_id = ?", [response_id])
        return _decoded(rows[0], "answers", "paradata") if rows else None

    @staticmethod
    def _responses_sql(select: str, wave: str | None, interviewer: str | None, firm: str | None,
                       include_excluded: bool, ordered: bool = True) -> tuple[str, list[Any]]:
        """The responses query of one scope (wave, pollster, firm), excluded ones left out or not."""
        where, params = [], []
        for col, val in (("r.wave", wave), ("r.interviewer", interviewer), ("r.firm", firm)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if not include_excluded:
            where.append("x.response_id IS NULL")
        sql = f"""SELECT {select} FROM responses r
                  LEFT JOIN ({_CURRENT_EXCLUSIONS}) x ON x.response_id = r.response_id"""
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql + (" ORDER BY r.submitted_at, r.response_id" if ordered else ""), params

    def responses(self, wave: str | None = None, *, interviewer: str | None = None, firm: str | None = None,
                  include_excluded: bool = False) -> list[dict[str, Any]]:
        """Responses with their current exclusion state (`excluded_reason`, None if included)."""
        sql, params = self._responses_sql("r.*, x.reason AS excluded_reason", wave, interviewer, firm,
                                          include_excluded)
        return [_decoded(r, "answers", "paradata") for r in self.db.query(sql, params)]

    def response_table(self, wave: str, answer_keys: Iterable[str], *, interviewer: str | None = None,
                       firm: str | None = None, include_excluded: bool = False
                       ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Flat rows for analysis: paradata columns plus answers pulled out by SQLite's json_extract.

        Decoding 100,000 JSON documents in Python takes seconds; SQLite does it in C.
        """
        keys = list(answer_keys)
        for key in keys:
            if not key.replace("_", "").isalnum():
                raise StoreError(f"not an answer key: {key!r}")
        base = ["response_id", "wave", "unit", "mode", "interviewer", "submitted_at", "duration_s"]
        select = ", ".join([f"r.{c}" for c in base] + [f"json_extract(r.answers, '$.{k}')" for k in keys]
                           + ["x.reason"])
        sql, params = self._responses_sql(select, wave, interviewer, firm, include_excluded, ordered=False)
        return [*base, *keys, "excluded_reason"], self.db.execute(sql, params).fetchall()

    def count_responses(self, wave: str | None = None) -> int:
        if wave is None:
            return self.db.execute("SELECT count(*) FROM responses").fetchone()[0]
        return self.db.execute("SELECT count(*) FROM responses WHERE wave = ?", [wave]).fetchone()[0]

    def edit_response(self, response_id: str, answers: dict[str, Any], actor: str, reason: str) -> None:
        """Change answers; the audit row keeps the old and new values."""
        with self.tx() as db:
            row = db.execute("SELECT answers FROM responses WHERE response_id = ?", [response_id]).fetchone()
            if row is None:
                raise StoreError(f"no response `{response_id}`")
            old = json.loads(row[0])
            changed = {k: {"old": old.get(k), "new": v} for k, v in answers.items() if old.get(k) != v}
            if not changed:
                return
            db.execute("UPDATE responses SET answers = ? WHERE response_id = ?",
                       [json.dumps({**old, **answers}, ensure_ascii=False, sort_keys=True), response_id])
            self._audit(db, actor, "edit", "response", response_id, {"reason": reason, "changes": changed})

    def set_exclusion(self, response_id: str, exclude: bool, reason: str, actor: str) -> bool:
        """Exclude or restore a response; returns False when it was already in that state."""
        with self.tx() as db:
            if not db.execute("SELECT 1 FROM responses WHERE response_id = ?", [response_id]).fetchone():
                raise StoreError(f"no response `{response_id}`")
            row = db.execute("SELECT action FROM exclusions WHERE response_id = ? ORDER BY id DESC LIMIT 1",
                             [response_id]).fetchone()
            currently = row is not None and row[0] == "exclude"
            if currently == exclude:
                return False
            action = "exclude" if exclude else "restore"
            db.execute("INSERT INTO exclusions (response_id, action, reason, actor, at) VALUES (?, ?, ?, ?, ?)",
                       [response_id, action, reason, actor, now()])
            self._audit(db, actor, action, "response", response_id, {"reason": reason})
        return True

    def current_exclusions(self, wave: str) -> list[dict[str, Any]]:
        """Responses of a wave excluded now, with the reason, who and when."""
        return self.query(f"""SELECT e.response_id, e.reason, e.actor, e.at FROM exclusions e
            JOIN responses r ON r.response_id = e.response_id
            WHERE r.wave = ? AND e.id = (SELECT max(id) FROM exclusions WHERE response_id = e.response_id)
              AND e.action = 'exclude' ORDER BY e.response_id""", [wave])

    def exclusions(self, wave: str | None = None) -> list[dict[str, Any]]:
        """Every exclusion and restore event (the history, newest first)."""
        sql = ("SELECT e.* FROM exclusions e JOIN responses r ON r.response_id = e.response_id"
               + (" WHERE r.wave = ?" if wave else "") + " ORDER BY e.id DESC")
        return self.query(sql, [wave] if wave else [])

    def counts_by(self, wave: str, *columns: str) -> list[dict[str, Any]]:
        """Included responses counted by columns of the responses table (e.g. unit, mode)."""
        allowed = {"unit", "mode", "interviewer", "firm", "source"}
        if not columns or set(columns) - allowed:
            raise StoreError(f"can count by {', '.join(sorted(allowed))} only")
        cols = ", ".join(f"r.{c}" for c in columns)
        return self.query(f"""SELECT {cols}, count(*) AS n FROM responses r
                              LEFT JOIN ({_CURRENT_EXCLUSIONS}) x ON x.response_id = r.response_id
                              WHERE r.wave = ? AND x.response_id IS NULL GROUP BY {cols} ORDER BY {cols}""",
                          [wave])

    # ==================================================================================
    # Fieldwork: cases, contacts, attempts, quotas, interview drafts — add below
    # ==================================================================================
    CASE_FIELDS = ("wave", "case_id", "unit", "mode", "contact_kind", "contact_enc", "contact_hash", "contact_mask",
                   "strata", "firm")
    ATTEMPT_FIELDS = ("attempt_key", "wave", "case_id", "unit", "mode", "interviewer", "firm", "attempted_at",
                      "disposition", "label", "callback_at", "response_id", "note", "source")

    def add_cases(self, cases: list[dict[str, Any]], actor: str) -> int:
        """Store new cases of a sample in one transaction; a case id already stored is left as it is."""
        cols = ", ".join(self.CASE_FIELDS)
        marks = ", ".join("?" for _ in self.CASE_FIELDS)
        added = 0
        with self.tx() as db:
            stamp = now()
            for case in cases:
                values = {**case, "strata": json.dumps(case.get("strata") or {}, ensure_ascii=False, sort_keys=True)}
                cur = db.execute(f"INSERT OR IGNORE INTO cases ({cols}, created_at) VALUES ({marks}, ?)",
                                 [values.get(f) for f in self.CASE_FIELDS] + [stamp])
                added += cur.rowcount
            if added:
                self._audit(db, actor, "import", "cases", cases[0]["wave"], {"count": added})
        return added

    def cases(self, wave: str, *, pollster: str | None = None, firm: str | None = None,
              case_ids: Iterable[str] | None = None, unit: str | None = None) -> list[dict[str, Any]]:
        """Cases of a wave (one pollster's, one firm's, some ids, one unit), contact still sealed."""
        where, params = ["wave = ?"], [wave]
        for col, val in (("pollster", pollster), ("firm", firm), ("unit", unit)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if case_ids is not None:
            ids = list(case_ids)
            where.append(f"case_id IN ({', '.join('?' for _ in ids)})" if ids else "0")
            params.extend(ids)
        rows = self.query(f"SELECT * FROM cases WHERE {' AND '.join(where)} ORDER BY case_id", params)
        return [_decoded(r, "strata") for r in rows]

    def case_waves(self, case_id: str) -> list[str]:
        return [r["wave"] for r in self.query("SELECT wave FROM cases WHERE case_id = ? ORDER BY wave", [case_id])]

    def case_hashes(self, wave: str) -> dict[str, str]:
        """Keyed contact hash -> case id, for duplicate numbers within a wave."""
        return {r["contact_hash"]: r["case_id"]
                for r in self.query("SELECT contact_hash, case_id FROM cases WHERE wave = ?", [wave])}

    def assign_cases(self, wave: str, case_ids: list[str], pollster: str, firm: str | None, actor: str) -> int:
        """Give cases to a pollster (and the pollster's firm); returns how many changed hands."""
        changed = 0
        with self.tx() as db:
            stamp = now()
            for case_id in case_ids:
                cur = db.execute("UPDATE cases SET pollster = ?, firm = ?, assigned_at = ? WHERE wave = ? "
                                 "AND case_id = ? AND (pollster IS NOT ? OR firm IS NOT ?)",
                                 [pollster, firm, stamp, wave, case_id, pollster, firm])
                changed += cur.rowcount
            if changed:
                self._audit(db, actor, "assign", "cases", wave,
                            {"pollster": pollster, "count": changed, "case_ids": case_ids[:50]})
        return changed

    def add_attempts(self, attempts: list[dict[str, Any]], actor: str) -> int:
        """Store contact attempts in one transaction; an attempt key seen before stores nothing."""
        cols = ", ".join(self.ATTEMPT_FIELDS)
        marks = ", ".join("?" for _ in self.ATTEMPT_FIELDS)
        added = 0
        with self.tx() as db:
            stamp = now()
            cur = db.conn.executemany(f"INSERT OR IGNORE INTO attempts ({cols}, created_at) VALUES ({marks}, ?)",
                                      [[att.get(f) for f in self.ATTEMPT_FIELDS] + [stamp] for att in attempts])
            added = max(cur.rowcount, 0)  # rows inserted over the whole batch
            if added:
                one = added == 1 and len(attempts) == 1
                self._audit(db, actor, "attempt" if one else "import", "attempts",
                            f"{attempts[0]['wave']}/{attempts[0]['case_id']}" if one else attempts[0]["wave"],
                            {"disposition": attempts[0]["disposition"]} if one else {"count": added})
        return added

    def attempts(self, wave: str, *, interviewer: str | None = None, firm: str | None = None,
                 case_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Attempts of a wave in the order they were made."""
        where, params = ["wave = ?"], [wave]
        for col, val in (("interviewer", interviewer), ("firm", firm)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if case_ids is not None:
            ids = list(case_ids)
            where.append(f"case_id IN ({', '.join('?' for _ in ids)})" if ids else "0")
            params.extend(ids)
        return self.query(f"SELECT * FROM attempts WHERE {' AND '.join(where)} ORDER BY attempted_at, id", params)

    def attempt_rows(self, wave: str, columns: Iterable[str], *, interviewer: str | None = None,
                     firm: str | None = None) -> list[tuple[Any, ...]]:
        """Attempts of a wave as plain tuples of `columns` (fast path for rate tables of 100,000s)."""
        cols = list(columns)
        bad = [c for c in cols if c not in self.ATTEMPT_FIELDS]
        if bad:
            raise StoreError(f"not an attempts column: {', '.join(bad)}")
        where, params = ["wave = ?"], [wave]
        for col, val in (("interviewer", interviewer), ("firm", firm)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        return self.db.execute(f"SELECT {', '.join(cols)} FROM attempts WHERE {' AND '.join(where)} "
                               "ORDER BY attempted_at, id", params).fetchall()

    def attempt_by_key(self, attempt_key: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM attempts WHERE attempt_key = ?", [attempt_key])
        return rows[0] if rows else None

    def log_contact_export(self, wave: str, actor: str, count: int) -> None:
        """Audit a decryption of a wave's contacts (an export with contacts)."""
        with self.tx() as db:
            self._audit(db, actor, "export_contacts", "cases", wave, {"count": count})

    def count_quota_cell(self, wave: str, unit: str, sex: str | None = None, age_group: str | None = None) -> int:
        """Included responses of a wave and unit (and sex / age group when given): a quota cell's fill."""
        where, params = ["r.wave = ?", "r.unit = ?", "x.response_id IS NULL"], [wave, unit]
        for key, val in (("sex", sex), ("age_group", age_group)):
            if val is not None:
                where.append(f"json_extract(r.answers, '$.{key}') = ?")
                params.append(val)
        return self.db.execute(f"""SELECT count(*) FROM responses r
                                   LEFT JOIN ({_CURRENT_EXCLUSIONS}) x ON x.response_id = r.response_id
                                   WHERE {' AND '.join(where)}""", params).fetchone()[0]

    # -- interview drafts (phone and door): one open draft per account, form and case ----------
    def interview_draft(self, draft_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM interview_drafts WHERE draft_id = ?", [draft_id])
        return _decoded(rows[0], "answers", "paradata") if rows else None

    def open_interview_draft(self, account: str, form: str, case_id: str = "") -> dict[str, Any] | None:
        """The draft this account left open on this form (and case), if any."""
        rows = self.query("SELECT * FROM interview_drafts WHERE account = ? AND form = ? AND case_id = ? "
                          "AND status = 'open'", [account, form, case_id])
        return _decoded(rows[0], "answers", "paradata") if rows else None

    def open_interview_drafts(self, account: str, form: str) -> list[dict[str, Any]]:
        """Every draft this account left open on this form (any case), latest first."""
        rows = self.query("SELECT * FROM interview_drafts WHERE account = ? AND form = ? AND status = 'open' "
                          "ORDER BY updated_at DESC", [account, form])
        return [_decoded(r, "answers", "paradata") for r in rows]

    def start_interview_draft(self, draft: dict[str, Any]) -> dict[str, Any]:
        """Create an open draft unless one is open for the same account, form and case; return the open one."""
        with self.tx() as db:
            cur = db.execute(
                "INSERT INTO interview_drafts (draft_id, account, form, case_id, wave, unit, mode, answers, paradata, "
                "submit_key, status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?) "
                "ON CONFLICT DO NOTHING",
                [draft["draft_id"], draft["account"], draft["form"], draft.get("case_id") or "", draft["wave"],
                 draft["unit"], draft["mode"], json.dumps(draft.get("answers") or {}, ensure_ascii=False),
                 json.dumps(draft.get("paradata") or {}, ensure_ascii=False), draft["submit_key"],
                 draft["started_at"], draft["started_at"]])
            if cur.rowcount:
                self._audit(db, draft["account"], "start", "interview_draft", draft["draft_id"],
                            {"form": draft["form"], "case_id": draft.get("case_id") or "", "wave": draft["wave"]})
        found = self.open_interview_draft(draft["account"], draft["form"], draft.get("case_id") or "")
        if found is None:
            raise StoreError(f"draft {draft['draft_id']} could not be opened")
        return found

    def save_interview_draft(self, draft_id: str, *, wave: str, unit: str, answers: dict[str, Any],
                             paradata: dict[str, Any]) -> bool:
        """Overwrite an open draft's answers (a step of the interview); False when it is closed or unchanged."""
        a = json.dumps(answers, ensure_ascii=False, sort_keys=True)
        p = json.dumps(paradata, ensure_ascii=False, sort_keys=True)
        with self.tx() as db:
            cur = db.execute("UPDATE interview_drafts SET wave = ?, unit = ?, answers = ?, paradata = ?, "
                             "updated_at = ?, saves = saves + 1 WHERE draft_id = ? AND status = 'open' "
                             "AND NOT (wave = ? AND unit = ? AND answers = ? AND paradata = ?)",
                             [wave, unit, a, p, now(), draft_id, wave, unit, a, p])
            return cur.rowcount > 0

    def close_interview_draft(self, draft_id: str, status: str, actor: str,
                              response_id: str | None = None, reason: str = "") -> bool:
        """Mark an open draft done (with its response) or abandoned; kept, never deleted."""
        if status not in ("done", "abandoned"):
            raise StoreError(f"a draft closes as done or abandoned, not {status}")
        with self.tx() as db:
            cur = db.execute("UPDATE interview_drafts SET status = ?, response_id = ?, updated_at = ? "
                             "WHERE draft_id = ? AND status = 'open'", [status, response_id, now(), draft_id])
            if cur.rowcount:
                self._audit(db, actor, status, "interview_draft", draft_id,
                            {"response_id": response_id, "reason": reason})
            return cur.rowcount > 0

    # ==================================================================================
    # Fieldwork: paper keying (double entry), back-checks, supervision — add below
    # ==================================================================================
    def paper_form(self, wave: str, paper_id: str) -> dict[str, Any] | None:
        """One paper questionnaire's keying state with its entries (entry 1 first)."""
        rows = self.query("SELECT * FROM paper_forms WHERE wave = ? AND paper_id = ?", [wave, paper_id])
        if not rows:
            return None
        form = rows[0]
        form["entries"] = [_decoded(e, "answers") for e in self.query(
            "SELECT * FROM paper_entries WHERE wave = ? AND paper_id = ? ORDER BY entry_no", [wave, paper_id])]
        return form

    def paper_forms(self, wave: str, *, firm: str | None = None,
                    status: str | None = None) -> list[dict[str, Any]]:
        """Paper questionnaires of a wave (one firm's, one status) with their entries."""
        where, params = ["f.wave = ?"], [wave]
        for col, val in (("f.firm", firm), ("f.status", status)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        forms = self.query(f"SELECT f.* FROM paper_forms f WHERE {' AND '.join(where)} ORDER BY f.paper_id", params)
        entries: dict[str, list[dict[str, Any]]] = {}
        for e in self.query(f"""SELECT e.* FROM paper_entries e JOIN paper_forms f
                                ON f.wave = e.wave AND f.paper_id = e.paper_id
                                WHERE {' AND '.join(where)} ORDER BY e.paper_id, e.entry_no""", params):
            entries.setdefault(e["paper_id"], []).append(_decoded(e, "answers"))
        for form in forms:
            form["entries"] = entries.get(form["paper_id"], [])
        return forms

    def paper_entry_by_key(self, entry_key: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM paper_entries WHERE entry_key = ?", [entry_key])
        return _decoded(rows[0], "answers") if rows else None

    def add_paper_entry(self, entry: dict[str, Any], *, firm: str | None, double_entry: bool, status: str,
                        response: dict[str, Any] | None, actor: str) -> tuple[str | None, bool]:
        """Store one keying of a paper form, move the form to `status`, store the response if given.

        All in one transaction. The form's state is re-checked inside it (a second entry
        only while the form awaits one), so two keyers racing for the same form cannot
        both succeed. Returns (response_id, created); a repeated entry key stores nothing.
        """
        with self.tx() as db:
            if db.execute("SELECT 1 FROM paper_entries WHERE entry_key = ?", [entry["entry_key"]]).fetchone():
                row = db.execute("SELECT response_id FROM paper_forms WHERE wave = ? AND paper_id = ?",
                                 [entry["wave"], entry["paper_id"]]).fetchone()
                return (row[0] if row else None), False
            stamp = now()
            key = [entry["wave"], entry["paper_id"]]
            if entry["entry_no"] == 1:
                try:
                    db.execute("INSERT INTO paper_forms (wave, paper_id, firm, double_entry, status, created_at, "
                               "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               [*key, firm, int(double_entry), status, stamp, stamp])
                except sqlite3.IntegrityError:
                    raise StoreError(f"paper questionnaire {entry['paper_id']} was keyed already") from None
            else:
                cur = db.execute("UPDATE paper_forms SET status = ?, updated_at = ? WHERE wave = ? AND paper_id = ? "
                                 "AND status = 'awaiting_second'", [status, stamp, *key])
                if cur.rowcount != 1:
                    raise StoreError(f"paper questionnaire {entry['paper_id']} does not await a second entry")
            db.execute("INSERT INTO paper_entries (wave, paper_id, entry_no, entry_key, keyer, unit, interviewer, "
                       "answers, started_at, keyed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [*key, entry["entry_no"], entry["entry_key"], entry["keyer"], entry["unit"],
                        entry.get("interviewer"), json.dumps(entry["answers"], ensure_ascii=False, sort_keys=True),
                        entry.get("started_at"), stamp])
            response_id, created = None, False
            if response is not None:
                [(response_id, created)] = self.insert_responses([response], actor)
                db.execute("UPDATE paper_forms SET response_id = ? WHERE wave = ? AND paper_id = ?",
                           [response_id, *key])
            self._audit(db, actor, "key", "paper", f"{entry['wave']}/{entry['paper_id']}",
                        {"entry_no": entry["entry_no"], "status": status, "response_id": response_id})
        return response_id, created

    def resolve_paper_form(self, wave: str, paper_id: str, response: dict[str, Any], actor: str,
                           choices: dict[str, Any]) -> tuple[str, bool]:
        """Store the response of a mismatched form as resolved by a supervisor (once)."""
        with self.tx() as db:
            cur = db.execute("UPDATE paper_forms SET status = 'stored', resolved_by = ?, updated_at = ? "
                             "WHERE wave = ? AND paper_id = ? AND status = 'mismatch'",
                             [actor, now(), wave, paper_id])
            if cur.rowcount != 1:
                row = db.execute("SELECT response_id FROM paper_forms WHERE wave = ? AND paper_id = ?",
                                 [wave, paper_id]).fetchone()
                if row is None or row[0] is None:
                    raise StoreError(f"paper questionnaire {paper_id} has no mismatch to resolve")
                return row[0], False
            [(response_id, created)] = self.insert_responses([response], actor)
            db.execute("UPDATE paper_forms SET response_id = ? WHERE wave = ? AND paper_id = ?",
                       [response_id, wave, paper_id])
            self._audit(db, actor, "resolve", "paper", f"{wave}/{paper_id}",
                        {"choices": choices, "response_id": response_id})
        return response_id, created

    def backcheck_candidates(self, wave: str, firm: str | None) -> list[dict[str, Any]]:
        """Every pollster's completes of a wave (excluded ones too: an exclusion must not reshuffle the list)."""
        sql, params = self._responses_sql("r.response_id, r.interviewer, r.firm, r.unit, r.mode, r.submitted_at, "
                                          "x.reason AS excluded_reason", wave, None, firm, include_excluded=True,
                                          ordered=False)
        cur = self.db.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall() if row[1]]

    def add_backcheck(self, response_id: str, outcome: str, note: str, actor: str) -> bool:
        """Record a back-check outcome; the same outcome and note as the latest one stores nothing."""
        with self.tx() as db:
            if not db.execute("SELECT 1 FROM responses WHERE response_id = ?", [response_id]).fetchone():
                raise StoreError(f"no response `{response_id}`")
            last = db.execute("SELECT outcome, note FROM backchecks WHERE response_id = ? ORDER BY id DESC LIMIT 1",
                              [response_id]).fetchone()
            if last is not None and tuple(last) == (outcome, note):
                return False
            db.execute("INSERT INTO backchecks (response_id, outcome, note, actor, at) VALUES (?, ?, ?, ?, ?)",
                       [response_id, outcome, note, actor, now()])
            self._audit(db, actor, "backcheck", "response", response_id, {"outcome": outcome, "note": note})
        return True

    def latest_backchecks(self, wave: str, firm: str | None = None) -> dict[str, dict[str, Any]]:
        """The latest back-check outcome of each response of a wave (one firm's), by response id."""
        # CROSS JOIN keeps back-checks as the outer loop: there are few of them, and many responses
        sql = """SELECT b.* FROM backchecks b CROSS JOIN responses r ON r.response_id = b.response_id
                 WHERE r.wave = ? AND b.id = (SELECT max(id) FROM backchecks WHERE response_id = b.response_id)"""
        params: list[Any] = [wave]
        if firm is not None:
            sql += " AND r.firm = ?"
            params.append(firm)
        return {r["response_id"]: r for r in self.query(sql, params)}

    def backcheck_history(self, response_id: str) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM backchecks WHERE response_id = ? ORDER BY id", [response_id])

    def progress_counts(self, wave: str, firm: str | None = None) -> list[dict[str, Any]]:
        """Included responses counted by unit, day, pollster and mode (one firm's, or all)."""
        where, params = ["r.wave = ?", "x.response_id IS NULL"], [wave]
        if firm is not None:
            where.append("r.firm = ?")
            params.append(firm)
        return self.query(f"""SELECT r.unit, substr(r.submitted_at, 1, 10) AS day, r.interviewer, r.mode,
                                     count(*) AS n FROM responses r
                              LEFT JOIN ({_CURRENT_EXCLUSIONS}) x ON x.response_id = r.response_id
                              WHERE {' AND '.join(where)} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""", params)

    # ==================================================================================
    # Web survey: tokens, devices, abuse checks, web drafts — add below
    # ==================================================================================
    def web_salt(self) -> str:
        """The store's secret salt for IP hashes (made by the migration, never shown)."""
        return self.db.execute("SELECT value FROM web_secrets WHERE name = 'ip_salt'").fetchone()[0]

    def add_web_tokens(self, wave: str, unit: str, tokens: list[str], batch: str, actor: str) -> None:
        """Store a batch of invitation tokens (one response each; the token fixes the unit)."""
        stamp = now()
        with self.tx() as db:
            for token in tokens:
                db.execute("INSERT INTO web_tokens (token, wave, unit, batch, created_at, created_by) "
                           "VALUES (?, ?, ?, ?, ?, ?)", [token, wave, unit, batch, stamp, actor])
            self._audit(db, actor, "create_tokens", "wave", wave, {"unit": unit, "batch": batch, "count": len(tokens)})

    def web_token(self, token: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM web_tokens WHERE token = ?", [token])
        return rows[0] if rows else None

    def web_tokens(self, wave: str, unit: str | None = None, batch: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM web_tokens WHERE wave = ?", [wave]
        for col, val in (("unit", unit), ("batch", batch)):
            if val is not None:
                sql += f" AND {col} = ?"
                params.append(val)
        return self.query(sql + " ORDER BY created_at, batch, token", params)

    def web_token_batches(self, wave: str | None = None) -> list[dict[str, Any]]:
        """Token batches with how many were generated and used."""
        where = " WHERE wave = ?" if wave else ""
        return self.query("SELECT wave, unit, batch, min(created_at) AS created_at, count(*) AS tokens, "
                          "count(response_id) AS used FROM web_tokens" + where +
                          " GROUP BY wave, unit, batch ORDER BY created_at DESC, batch", [wave] if wave else [])

    def add_web_link(self, code: str, wave: str, unit: str, actor: str) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO web_links (code, wave, unit, active, created_at, created_by) "
                       "VALUES (?, ?, ?, 1, ?, ?)", [code, wave, unit, now(), actor])
            self._audit(db, actor, "create", "web_link", code, {"wave": wave, "unit": unit})

    def set_web_link_active(self, code: str, active: bool, actor: str) -> None:
        with self.tx() as db:
            if not db.execute("SELECT 1 FROM web_links WHERE code = ?", [code]).fetchone():
                raise StoreError(f"no open link `{code}`")
            db.execute("UPDATE web_links SET active = ? WHERE code = ?", [int(active), code])
            self._audit(db, actor, "open" if active else "close", "web_link", code)

    def web_link(self, code: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM web_links WHERE code = ?", [code])
        return rows[0] if rows else None

    def web_links(self, wave: str | None = None) -> list[dict[str, Any]]:
        """Open links with the number of responses received through each."""
        where = " WHERE l.wave = ?" if wave else ""
        return self.query("SELECT l.*, (SELECT count(*) FROM web_submissions s WHERE s.link = l.code) AS responses "
                          "FROM web_links l" + where + " ORDER BY l.wave, l.unit, l.created_at", [wave] if wave else [])

    WEB_DRAFT_FIELDS = ("draft_id", "wave", "unit", "access", "token", "link", "device_id", "ip_hash",
                        "device_type", "user_agent", "lang", "answers", "step", "status", "started_at",
                        "updated_at", "resumes", "response_id")

    def web_draft(self, draft_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM web_drafts WHERE draft_id = ?", [draft_id])
        return _decoded(rows[0], "answers") if rows else None

    def start_web_draft(self, draft: dict[str, Any]) -> bool:
        """Create a draft unless one with this id exists (two tabs opened at once); True if created."""
        values = {**draft, "answers": json.dumps(draft.get("answers") or {}, ensure_ascii=False, sort_keys=True)}
        cols = [f for f in self.WEB_DRAFT_FIELDS if f in values]
        with self.tx() as db:
            cur = db.execute(f"INSERT OR IGNORE INTO web_drafts ({', '.join(cols)}) VALUES "
                             f"({', '.join('?' for _ in cols)})", [values[c] for c in cols])
            created = cur.rowcount == 1
            if created:
                self._audit(db, "resident", "start", "web_draft", draft["draft_id"],
                            {"wave": draft["wave"], "unit": draft["unit"], "access": draft["access"]})
        return created

    def update_web_draft(self, draft_id: str, **fields: Any) -> None:
        """Save progress (answers, step, status, resumes); not audited: it is the resident's own draft."""
        allowed = {"answers", "step", "status", "resumes", "lang", "updated_at"}
        bad = set(fields) - allowed
        if bad:
            raise StoreError(f"cannot change {', '.join(sorted(bad))} of a web draft")
        values = {k: json.dumps(v, ensure_ascii=False, sort_keys=True) if k == "answers" else v
                  for k, v in fields.items()}
        values.setdefault("updated_at", now())
        with self.tx() as db:
            db.execute(f"UPDATE web_drafts SET {', '.join(f'{k} = ?' for k in values)} "
                       "WHERE draft_id = ? AND response_id IS NULL", [*values.values(), draft_id])

    def count_web_starts(self, ip_hash: str, since: str) -> int:
        """Drafts started from one IP hash since a time (the open-link rate limit)."""
        return self.db.execute("SELECT count(*) FROM web_drafts WHERE ip_hash = ? AND started_at >= ?",
                               [ip_hash, since]).fetchone()[0]

    def count_web_submissions(self, *, wave: str, ip_hash: str | None = None, device_id: str | None = None,
                              since: str | None = None) -> int:
        sql, params = "SELECT count(*) FROM web_submissions WHERE wave = ?", [wave]
        for col, val in (("ip_hash", ip_hash), ("device_id", device_id)):
            if val is not None:
                sql += f" AND {col} = ?"
                params.append(val)
        if since is not None:
            sql += " AND submitted_at >= ?"
            params.append(since)
        return self.db.execute(sql, params).fetchone()[0]

    def submit_web(self, record: dict[str, Any], submission: dict[str, Any]) -> tuple[str, bool]:
        """Store a web response, use its token and record its abuse checks in one transaction.

        A repeated submit key (double click, resent request) stores nothing new. A token
        already used by another response is refused.
        """
        with self.tx() as db:
            token = submission.get("token")
            if token is not None:
                row = db.execute("SELECT response_id FROM web_tokens WHERE token = ?", [token]).fetchone()
                if row is None:
                    raise StoreError(f"no invitation token `{token}`")
                if row[0] is not None and row[0] != record["response_id"]:
                    raise StoreError(f"invitation token `{token}` has been used already")
            [(rid, created)] = self.insert_responses([record], "resident")
            if created:
                db.execute("INSERT INTO web_submissions (response_id, wave, unit, access, token, link, device_id, "
                           "ip_hash, flags, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [rid, record["wave"], record["unit"], submission["access"], token,
                            submission.get("link"), submission.get("device_id"), submission.get("ip_hash"),
                            json.dumps(submission.get("flags") or [], ensure_ascii=False), record["submitted_at"]])
                if token is not None:
                    db.execute("UPDATE web_tokens SET response_id = ?, used_at = ? WHERE token = ?",
                               [rid, record["submitted_at"], token])
                if submission.get("draft_id"):
                    db.execute("UPDATE web_drafts SET response_id = ?, status = 'submitted', updated_at = ? "
                               "WHERE draft_id = ?", [rid, record["submitted_at"], submission["draft_id"]])
        return rid, created

    def web_submissions(self, wave: str, flagged_only: bool = False) -> list[dict[str, Any]]:
        """Web responses with access path, device, IP hash and abuse flags (QC reads these)."""
        rows = self.query("SELECT * FROM web_submissions WHERE wave = ?" + (" AND flags != '[]'" if flagged_only else "")
                          + " ORDER BY submitted_at, response_id", [wave])
        return [_decoded(r, "flags") for r in rows]

    def web_draft_counts(self, wave: str) -> list[dict[str, Any]]:
        """Drafts by unit and status (started, ineligible, submitted): the web survey's funnel."""
        return self.query("SELECT unit, status, count(*) AS n FROM web_drafts WHERE wave = ? "
                          "GROUP BY unit, status ORDER BY unit, status", [wave])


    # ==================================================================================
    # Quality control and import/export: QC flags, bulk imports — add below
    # ==================================================================================
    def responses_by_ids(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored responses among `ids` (what an import compares a file's rows with)."""
        ids = list(dict.fromkeys(ids))
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in self.db.query(
                    f"SELECT response_id, submit_key, wave, unit, mode, interviewer, answers, content_hash, source, "
                    f"created_at FROM responses WHERE response_id IN ({marks})", chunk):
                out[row["response_id"]] = {**row, "answers": json.loads(row["answers"])}
        return out

    def import_responses(self, records: list[dict[str, Any]], actor: str | None, wave: str,
                         detail: dict[str, Any]) -> list[tuple[str, bool]]:
        """A bulk import: every record and one `import` audit row in one transaction."""
        with self.tx() as db:
            out = self.insert_responses(records, actor)
            created = sum(new for _, new in out)
            self._audit(db, actor, "import", "wave", wave, {**detail, "created": created})
        return out

    def qc_contact_hashes(self, wave: str) -> list[tuple[str, str]]:
        """(response_id, contact_hash) of a wave: from paradata, or from a `cases` table when it has one."""
        rows = self.db.execute(
            "SELECT response_id, json_extract(paradata, '$.contact_hash') FROM responses "
            "WHERE wave = ? AND json_extract(paradata, '$.contact_hash') IS NOT NULL", [wave]).fetchall()
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
            cur = db.execute("INSERT INTO qc_runs (wave, at, actor, settings, counts) VALUES (?, ?, ?, ?, ?)",
                             [wave, now(), actor, json.dumps(settings, ensure_ascii=False, sort_keys=True),
                              json.dumps(counts, ensure_ascii=False, sort_keys=True)])
            run_id = int(cur.lastrowid)
            db.conn.executemany("INSERT INTO qc_flags (run_id, response_id, flag, detail) VALUES (?, ?, ?, ?)",
                           [(run_id, *key(f)) for f in flags])
            self._audit(db, actor, "qc", "wave", wave, {"run": run_id, "counts": counts})
        return run_id

    def qc_runs(self, wave: str) -> list[dict[str, Any]]:
        """Every QC run of a wave, newest first (the history of flag sets)."""
        rows = self.query("SELECT * FROM qc_runs WHERE wave = ? ORDER BY id DESC", [wave])
        return [_decoded(r, "settings", "counts") for r in rows]

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


    # ==================================================================================
    # Published scores (issue: scoring and reports) — add below
    # ==================================================================================
    def publish_score(self, wave: str | None, actor: str, config_name: str, config_hash: str, data_hash: str,
                      result_hash: str, record: dict[str, Any], result: list[dict[str, Any]]) -> int:
        """Store a score run for good; the table refuses updates and deletes (triggers)."""
        with self.tx() as db:
            cur = db.execute(
                "INSERT INTO published_scores (wave, published_at, published_by, config_name, config_hash, "
                "data_hash, result_hash, record, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [wave, now(), actor, config_name, config_hash, data_hash, result_hash,
                 json.dumps(record, ensure_ascii=False, sort_keys=True),
                 json.dumps(result, ensure_ascii=False, sort_keys=True)])
            score_id = int(cur.lastrowid)
            self._audit(db, actor, "publish", "score", str(score_id),
                        {"wave": wave, "config": config_name, "result_hash": result_hash})
        return score_id

    def published_scores(self, wave: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM published_scores" + (" WHERE wave = ?" if wave else "") + " ORDER BY id DESC"
        rows = self.query(sql, [wave] if wave else [])
        return [_decoded(r, "record", "result") for r in rows]


# --------------------------------------------------------------------------------------
# Migrations of fieldwork: cases, attempts, quotas, drafts (0600_*) — add below
# --------------------------------------------------------------------------------------
@migration("0600_fieldwork_cases_attempts")
def _m0600(db: sqlite_utils.Database) -> None:
    # contact values are stored only sealed (survey.contacts): token, keyed hash, mask
    db.execute("""CREATE TABLE cases (
        wave TEXT NOT NULL REFERENCES waves(id), case_id TEXT NOT NULL, unit TEXT NOT NULL, mode TEXT NOT NULL,
        contact_kind TEXT NOT NULL CHECK (contact_kind IN ('phone', 'address')),
        contact_enc TEXT NOT NULL, contact_hash TEXT NOT NULL, contact_mask TEXT NOT NULL,
        strata TEXT NOT NULL DEFAULT '{}', firm TEXT, pollster TEXT, assigned_at TEXT,
        created_at TEXT NOT NULL, PRIMARY KEY (wave, case_id))""")
    db.execute("CREATE INDEX cases_pollster ON cases(wave, pollster)")
    db.execute("CREATE INDEX cases_hash ON cases(wave, contact_hash)")
    db.execute("""CREATE TABLE attempts (
        id INTEGER PRIMARY KEY, attempt_key TEXT NOT NULL UNIQUE, wave TEXT NOT NULL, case_id TEXT NOT NULL,
        unit TEXT NOT NULL, mode TEXT NOT NULL, interviewer TEXT, firm TEXT, attempted_at TEXT NOT NULL,
        disposition TEXT NOT NULL, label TEXT, callback_at TEXT, response_id TEXT, note TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL, created_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX attempts_case ON attempts(wave, case_id)")
    db.execute("CREATE INDEX attempts_interviewer ON attempts(wave, interviewer)")


@migration("0610_interview_drafts")
def _m0610(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE interview_drafts (
        draft_id TEXT PRIMARY KEY, account TEXT NOT NULL, form TEXT NOT NULL, case_id TEXT NOT NULL DEFAULT '',
        wave TEXT NOT NULL, unit TEXT NOT NULL, mode TEXT NOT NULL,
        answers TEXT NOT NULL DEFAULT '{}', paradata TEXT NOT NULL DEFAULT '{}',
        submit_key TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('open', 'done', 'abandoned')),
        started_at TEXT NOT NULL, updated_at TEXT NOT NULL, saves INTEGER NOT NULL DEFAULT 0, response_id TEXT)""")
    # one open draft per pollster, form and case: a second tab resumes the same draft
    db.execute("CREATE UNIQUE INDEX interview_drafts_open ON interview_drafts(account, form, case_id) "
               "WHERE status = 'open'")


# --------------------------------------------------------------------------------------
# Migrations of paper keying, back-checks (0650_*) — add below
# --------------------------------------------------------------------------------------
@migration("0650_paper_keying_backchecks")
def _m0650(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE paper_forms (
        wave TEXT NOT NULL REFERENCES waves(id), paper_id TEXT NOT NULL, firm TEXT,
        double_entry INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('awaiting_second', 'mismatch', 'stored')),
        response_id TEXT REFERENCES responses(response_id), resolved_by TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (wave, paper_id))""")
    db.execute("CREATE INDEX paper_forms_status ON paper_forms(wave, firm, status)")
    db.execute("""CREATE TABLE paper_entries (
        id INTEGER PRIMARY KEY, wave TEXT NOT NULL, paper_id TEXT NOT NULL,
        entry_no INTEGER NOT NULL CHECK (entry_no IN (1, 2)), entry_key TEXT NOT NULL UNIQUE,
        keyer TEXT NOT NULL, unit TEXT NOT NULL, interviewer TEXT, answers TEXT NOT NULL,
        started_at TEXT, keyed_at TEXT NOT NULL, UNIQUE (wave, paper_id, entry_no),
        FOREIGN KEY (wave, paper_id) REFERENCES paper_forms(wave, paper_id))""")
    db.execute("""CREATE TABLE backchecks (
        id INTEGER PRIMARY KEY, response_id TEXT NOT NULL REFERENCES responses(response_id),
        outcome TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', actor TEXT NOT NULL, at TEXT NOT NULL)""")
    db.execute("CREATE INDEX backchecks_response ON backchecks(response_id, id)")



# --------------------------------------------------------------------------------------
# Migrations of the web survey (0700_*) — add below
# --------------------------------------------------------------------------------------
@migration("0700_web_survey")
def _m0700(db: sqlite_utils.Database) -> None:
    import secrets
    db.execute("""CREATE TABLE web_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)""")
    db.execute("INSERT INTO web_secrets VALUES ('ip_salt', ?)", [secrets.token_hex(32)])
    db.execute("""CREATE TABLE web_tokens (
        token TEXT PRIMARY KEY, wave TEXT NOT NULL REFERENCES waves(id), unit TEXT NOT NULL,
        batch TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT,
        response_id TEXT REFERENCES responses(response_id), used_at TEXT)""")
    db.execute("CREATE INDEX web_tokens_wave ON web_tokens(wave, unit, batch)")
    db.execute("""CREATE TABLE web_links (
        code TEXT PRIMARY KEY, wave TEXT NOT NULL REFERENCES waves(id), unit TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, created_by TEXT)""")
    db.execute("""CREATE TABLE web_drafts (
        draft_id TEXT PRIMARY KEY, wave TEXT NOT NULL, unit TEXT NOT NULL,
        access TEXT NOT NULL CHECK (access IN ('token', 'link')), token TEXT, link TEXT,
        device_id TEXT, ip_hash TEXT, device_type TEXT, user_agent TEXT, lang TEXT,
        answers TEXT NOT NULL DEFAULT '{}', step INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'started', started_at TEXT NOT NULL, updated_at TEXT,
        resumes INTEGER NOT NULL DEFAULT 0, response_id TEXT)""")
    db.execute("CREATE INDEX web_drafts_ip ON web_drafts(ip_hash, started_at)")
    db.execute("""CREATE TABLE web_submissions (
        response_id TEXT PRIMARY KEY REFERENCES responses(response_id), wave TEXT NOT NULL, unit TEXT NOT NULL,
        access TEXT NOT NULL, token TEXT, link TEXT, device_id TEXT, ip_hash TEXT,
        flags TEXT NOT NULL DEFAULT '[]', submitted_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX web_submissions_ip ON web_submissions(wave, ip_hash, submitted_at)")
    db.execute("CREATE INDEX web_submissions_device ON web_submissions(wave, device_id)")


# --------------------------------------------------------------------------------------
# Migrations of quality control and imports (0800_*) — add below
# --------------------------------------------------------------------------------------
@migration("0800_qc_flags")
def _m0800(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE qc_runs (
        id INTEGER PRIMARY KEY, wave TEXT NOT NULL REFERENCES waves(id), at TEXT NOT NULL, actor TEXT,
        settings TEXT NOT NULL, counts TEXT NOT NULL)""")
    db.execute("CREATE INDEX qc_runs_wave ON qc_runs(wave, id)")
    db.execute("""CREATE TABLE qc_flags (
        run_id INTEGER NOT NULL REFERENCES qc_runs(id), response_id TEXT NOT NULL REFERENCES responses(response_id),
        flag TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', PRIMARY KEY (run_id, response_id, flag))""")


# --------------------------------------------------------------------------------------
# Migrations of published scores (0400_*)
# --------------------------------------------------------------------------------------
@migration("0400_published_scores")
def _m0400(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE published_scores (
        id INTEGER PRIMARY KEY, wave TEXT, published_at TEXT NOT NULL, published_by TEXT NOT NULL,
        config_name TEXT NOT NULL, config_hash TEXT NOT NULL, data_hash TEXT NOT NULL,
        result_hash TEXT NOT NULL, record TEXT NOT NULL, result TEXT NOT NULL)""")
    for event in ("UPDATE", "DELETE"):
        db.execute(f"""CREATE TRIGGER published_scores_no_{event.lower()} BEFORE {event} ON published_scores
                       BEGIN SELECT RAISE(ABORT, 'published scores are immutable'); END""")

_CURRENT_EXCLUSIONS = """SELECT e.response_id, e.reason FROM exclusions e
    WHERE e.id = (SELECT max(id) FROM exclusions WHERE response_id = e.response_id) AND e.action = 'exclude'"""


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def get_store(path: str | Path | None = None) -> Store:
    """The shared Store for a path (migrated once per process)."""
    p = Path(path) if path is not None else db_path()
    key = str(p.resolve())
    with _stores_lock:
        if key not in _stores:
            _stores[key] = Store(p)
        return _stores[key]
