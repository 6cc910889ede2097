"""The store's public face: `Store`, `get_store`, `StoreError`, `now`.

The SQL lives in the `survey.storage` package (one module per domain, SQLAlchemy Core
over SQLite or PostgreSQL); this module keeps the names callers import.
"""
from __future__ import annotations

from survey.storage.engine import BUSY_TIMEOUT_MS, IntegrityError, StoreError, now, to_json
from survey.storage.migrations import MIGRATIONS as _MIGRATION_LIST
from survey.storage.store import Store, get_store
from survey.storage.waves import Wave, WaveSettings

MIGRATIONS: dict[str, object] = dict(_MIGRATION_LIST)

__all__ = ["BUSY_TIMEOUT_MS", "IntegrityError", "MIGRATIONS", "Store", "StoreError", "Wave", "WaveSettings", "get_store", "now", "to_json"]
