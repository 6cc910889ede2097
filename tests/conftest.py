"""Shared fixtures: a fresh store file per test, accounts of every role."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "test-pass-123"


# SURVEY_TEST_DB=postgresql://… runs every store test on PostgreSQL: each test gets a schema of its own
TEST_DB = os.environ.get("SURVEY_TEST_DB", "")
ON_PG = TEST_DB.startswith("postgres")


def _pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in TEST_DB else "?"
    return f"{TEST_DB}{sep}options=-csearch_path%3D{schema}"


def _pg_admin(sql: str) -> None:
    import sqlalchemy as sa
    eng = sa.create_engine(TEST_DB.replace("postgresql://", "postgresql+psycopg://", 1),
                           poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.exec_driver_sql(sql)
    eng.dispose()


@pytest.fixture
def db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path | str]:
    """A fresh store, also exported as SURVEY_DB for CLI and app tests.

    A file path on SQLite; with SURVEY_TEST_DB a `postgresql://` URL whose search path
    is a schema made for this test and dropped after it.
    """
    monkeypatch.setenv("SURVEY_ADMIN_PASSWORD", PASSWORD)
    if not ON_PG:
        path = tmp_path / "survey.db"
        monkeypatch.setenv("SURVEY_DB", str(path))
        yield path
        return
    import uuid

    from survey.storage.engine import close_all, resolve
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _pg_admin(f"CREATE SCHEMA {schema}")
    url = _pg_schema_url(schema)
    monkeypatch.setenv("SURVEY_DB", url)
    monkeypatch.setenv("SURVEY_KEY_DIR", str(tmp_path))  # the contact key of this store: <db>.key in tmp_path
    try:
        yield url
    finally:
        close_all(resolve(url).url)
        _pg_admin(f"DROP SCHEMA {schema} CASCADE")


def key_path(db_file: Path | str) -> Path:
    """Where the contact key of a test store lives: beside a SQLite file, in SURVEY_KEY_DIR for PostgreSQL."""
    from survey.contacts import key_file_path
    from survey.storage.engine import resolve
    return key_file_path(resolve(db_file).path)


@pytest.fixture
def store(db_file: Path):
    """An initialised store: schema, default questionnaire, wave 2025, admin."""
    from survey.bootstrap import init_store
    return init_store(db_file).store


@pytest.fixture
def accounts(store):
    """One account per role (pollsters p1, p2 of firm A; supervisors of firms A and B)."""
    from survey.auth import SYSTEM, assign, create_account
    made = {}
    for name, role, firm in [("p1", "pollster", "A"), ("p2", "pollster", "A"), ("p3", "pollster", "B"),
                             ("sup", "supervisor", "A"), ("supb", "supervisor", "B"),
                             ("ana", "analyst", None)]:
        create_account(store, SYSTEM, name, role, PASSWORD, firm=firm)
        if role in ("pollster", "supervisor"):
            assign(store, SYSTEM, name, wave="2025")
    from survey.auth import load_account
    for name in ("p1", "p2", "p3", "sup", "supb", "ana", "admin"):
        made[name] = load_account(store, name)
    return made


def complete_answers(**overrides) -> dict:
    """A valid, eligible set of answers to the default questionnaire."""
    answers = {"age18": 1, "resident": 1, "air": 4, "water": 5, "sea": 9, "noise": 3, "waste": 4,
               "greenery": 5, "rural": 4, "enforcement": 3, "publicity": 4, "overall": 4, "change": 3,
               "sex": "女", "age_group": "40-49", "education": "大专"}
    answers.update(overrides)
    return answers
