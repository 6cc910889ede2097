"""`Store`: every domain of the store behind one handle, as callers have always used it.

The domain modules (waves, accounts, responses, cases, drafts, paper, web, qc,
scores) each hold their SQL; this class composes them, migrates on open
and keeps the store-wide chores: the audit log, backups and the schema version.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from survey.storage import migrations
from survey.storage.accounts import AccountsStore
from survey.storage.cases import CasesStore
from survey.storage.drafts import DraftsStore
from survey.storage.engine import StoreError, Target, resolve, where
from survey.storage.logins import LoginsStore
from survey.storage.objections import ObjectionsStore
from survey.storage.paper import PaperStore
from survey.storage.qc import QcStore
from survey.storage.recordings import RecordingsStore
from survey.storage.scores import ScoresStore
from survey.storage.waves import WavesStore
from survey.storage.web import WebStore


class Store(WavesStore, AccountsStore, CasesStore, DraftsStore, PaperStore, WebStore, QcStore, ScoresStore,
            RecordingsStore, ObjectionsStore, LoginsStore):
    """A handle on one store (a SQLite file or a PostgreSQL database); cheap to create."""

    def __init__(self, path: str | Path | Target | None = None, *, migrate: bool = True,
                 upto: str | None = None):
        super().__init__(path)
        if migrate:
            self.migrate(upto=upto)

    # -- migrations ----------------------------------------------------------------
    def applied_migrations(self) -> list[str]:
        return sorted(migrations.applied(self.db))

    def schema_version(self) -> int:
        return len(self.applied_migrations())

    def migrate(self, upto: str | None = None) -> list[str]:
        """Apply the missing migrations in order (up to and including `upto`)."""
        return migrations.migrate(self.db, upto=upto)

    def backup(self, out: str | Path) -> None:
        """Copy the live store to a SQLite file (SQLite's online backup: safe while others write).

        A PostgreSQL store is copied table by table (`python -m survey copy` does the same).
        """
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if self.dialect == "sqlite":
            dest = sqlite3.connect(str(out))
            try:
                self.db.conn.connection.dbapi_connection.backup(dest)
            finally:
                dest.close()
            return
        from survey.storage.copy import copy_store
        from survey.storage.engine import close_all
        if out.exists() and out.stat().st_size:
            raise StoreError(f"{out} exists already: a backup never overwrites a file")
        dest = Store(out)
        copy_store(self, dest)
        # fold the write-ahead log into the file and close it: the caller may rename the file
        # next, and a -wal left under the old name would take the copied rows with it
        dest.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        dest.db.execute("PRAGMA journal_mode = DELETE")
        close_all(dest.url)

    # -- audit ---------------------------------------------------------------------
    def audit_log(self, entity: str | None = None, entity_id: str | None = None,
                  limit: int = 500) -> list[dict[str, Any]]:
        sql, params = where([("entity", entity or None), ("entity_id", entity_id or None)])
        return self.query("SELECT * FROM audit" + sql + " ORDER BY id DESC LIMIT ?", [*params, limit])

    def audit_after(self, after_id: int, entity: str, action: str) -> list[dict[str, Any]]:
        """Audit rows of one entity and action written after row `after_id` (e.g. since a publication's pin)."""
        return self.query("SELECT * FROM audit WHERE id > ? AND entity = ? AND action = ? ORDER BY id",
                          [after_id, entity, action])

    def last_audit_id(self, entity: str, action: str) -> int:
        """Id of the latest audit row of one entity and action (0: none), e.g. the last response edit."""
        return int(self.db.scalar("SELECT max(id) FROM audit WHERE entity = ? AND action = ?", [entity, action]) or 0)


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def get_store(path: str | Path | None = None) -> Store:
    """The shared Store for a path or URL (migrated once per process)."""
    target = resolve(path)
    with _stores_lock:
        if target.url not in _stores:
            _stores[target.url] = Store(target)
        return _stores[target.url]
