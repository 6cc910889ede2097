"""Store: migrations keep data, idempotent submit, concurrency, backup, nothing deleted."""
from __future__ import annotations

import json
import sqlite3
import threading
from concurrent.futures import ProcessPoolExecutor

import pytest

from survey.bootstrap import init_store
from survey.responses import responses_frame, submit_interview
from survey.store import MIGRATIONS, Store
from tests.conftest import ON_PG, ROOT, complete_answers


def test_opening_an_older_schema_upgrades_and_keeps_data(tmp_path):
    path = tmp_path / "old.db"
    old = Store(path, upto="0001_initial")
    assert old.applied_migrations() == ["0001_initial"]
    old.db.execute("INSERT INTO questionnaires VALUES ('q', 1, 't', '{}', 'h', '2024-01-01')")
    old.db.execute("INSERT INTO waves (id, questionnaire_id, units, created_at) VALUES ('2024', 'q', '[]', 'x')")
    old.db.execute("""INSERT INTO responses (response_id, submit_key, wave, questionnaire_id, unit, mode, source,
                      submitted_at, answers, created_at) VALUES ('R1', 'k1', '2024', 'q', '思明区', 'phone',
                      'entry', '2024-10-01T10:00:00', '{"air": 4}', 'x')""")
    old.close()
    new = Store(path)
    assert new.applied_migrations() == sorted(MIGRATIONS)
    row = new.response("R1")
    assert row["answers"] == {"air": 4} and row["paradata"] == {}
    assert "exclusions" in new.db.table_names()


OLD_STORE = ROOT / "tests" / "data" / "store_f335e39"


def test_a_store_file_of_the_single_file_store_opens_and_keeps_every_row(tmp_path, db_file, monkeypatch):
    """survey.db.gz was written by commit f335e39 (sqlite_utils, before survey/storage/; see make.py)."""
    import gzip

    from survey import auth, publishing
    from survey.contacts import check_key
    from survey.fieldwork import next_case
    from survey.storage.copy import copy_store
    from survey.webform import Refused, Visitor, open_survey
    old = tmp_path / "old" / "survey.db"
    old.parent.mkdir()
    old.write_bytes(gzip.decompress((OLD_STORE / "survey.db.gz").read_bytes()))
    monkeypatch.setenv("SURVEY_SECRET_KEY", "old-store-fixture")  # the fixture's contact key
    raw = sqlite3.connect(old)
    tables = [r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    before = {t: raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    answers_before = {rid: json.loads(text) for rid, text in raw.execute("SELECT response_id, answers FROM responses")}
    raw.close()
    assert before["responses"] == 401 and before["published_scores"] == 1 and before["cases"] == 6
    store = Store(old)
    assert store.applied_migrations() == sorted(MIGRATIONS)
    if ON_PG:  # the PostgreSQL pass moves the old file onto PostgreSQL first (python -m survey copy)
        target = Store(db_file)
        copy_store(store, target)
        store = target
    after = {t: len(store.query(f"SELECT 1 FROM {t}")) for t in before}
    # the upgrade adds one bookkeeping row per migration it applies; every data table keeps its rows
    assert after.pop("schema_migrations") == len(MIGRATIONS)
    assert after == {t: n for t, n in before.items() if t != "schema_migrations"}
    assert {r["response_id"]: r["answers"] for r in store.responses("2025", include_excluded=True)} == answers_before
    # the data reads as it did: the published run's data hash recomputes (its result need not: the
    # scoring gained rank intervals since), the contacts open
    analyst = auth.load_account(store, "analyst")
    assert not publishing.verify(store, analyst, store.published_scores("2025")[0]).data_changed
    assert check_key(store).unreadable == 0 and check_key(store).contacts == 6
    assert store.wave("2025")["status"] == "open" and len(store.current_exclusions("2025")) == 1
    # and new work goes on: a login, a case from the pool, an interview; a used token stays used
    admin = auth.login(store, "admin", "old-admin-pass-1")
    p02 = auth.login(store, "P02", "demo-2025")
    case = next_case(store, p02, "2025", pool=True)
    assert case is not None and case["case_id"] in {"C3", "C4", "C5"}
    done = submit_interview(store, p02, "2025", unit=case["unit"], mode="phone", answers=complete_answers(),
                            submit_key="after-upgrade", case_id=case["case_id"])
    assert done.created and store.count_responses("2025") == 402
    used = [t for t in store.web_tokens("2025") if t["response_id"]][0]
    refused = open_survey(store, Visitor("e" * 32, "10.0.0.8"), token=used["token"])
    assert isinstance(refused, Refused) and refused.reason == "token_used"
    assert admin.role == "admin"


def test_double_submit_stores_one_response(store, accounts):
    p1 = accounts["p1"]
    first = submit_interview(store, p1, "2025", unit="思明区", mode="phone", answers=complete_answers(),
                             submit_key="k-1")
    again = submit_interview(store, p1, "2025", unit="思明区", mode="phone", answers=complete_answers(),
                             submit_key="k-1")
    assert first.created and not again.created
    assert again.response_id == first.response_id
    assert store.count_responses("2025") == 1


def _submit_many(args: tuple[str, int, int]) -> int:
    path, writer, count = args
    store = Store(path)
    created = 0
    for i in range(count):
        for key in {f"w{writer}-{i}", f"w{writer}-{i // 2}"}:  # half the keys are sent twice
            rec = {"response_id": f"R{writer}-{key}", "submit_key": key, "wave": "2025",
                   "questionnaire_id": "default-2025", "unit": "思明区", "mode": "phone", "source": "test",
                   "submitted_at": "2025-10-01T10:00:00", "answers": {"air": 4}}
            created += sum(new for _, new in store.insert_responses([rec], "test"))
    return created


def test_concurrent_writers_lose_nothing_and_duplicate_nothing(db_file):
    init_store(db_file)
    with ProcessPoolExecutor(max_workers=4) as pool:
        created = sum(pool.map(_submit_many, [(str(db_file), w, 60) for w in range(4)]))
    store = Store(db_file)
    assert created == 4 * 60
    assert store.count_responses("2025") == 4 * 60


def test_threads_get_their_own_connection(store):
    seen = []  # the objects themselves: ids of freed objects can be reused by the next thread
    def work():
        seen.append(store.db)
        store.count_responses()
    threads = [threading.Thread(target=work) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len({id(db) for db in seen}) == 3
    if store.dialect != "sqlite":  # WAL and the busy timeout are SQLite's; PostgreSQL has MVCC and row locks
        return
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] > 0


def test_failed_transaction_stores_nothing(store):
    good = {"response_id": "RA", "submit_key": "a", "wave": "2025", "questionnaire_id": "default-2025",
            "unit": "思明区", "mode": "phone", "source": "t", "submitted_at": "2025-10-01T10:00:00", "answers": {}}
    clash = {**good, "submit_key": "b"}  # same response id, other key: refused
    with pytest.raises(Exception, match="cannot be stored"):
        store.insert_responses([good, clash], "t")
    assert store.count_responses() == 0


def test_backup_restores_every_response(store, accounts, tmp_path):
    for i in range(5):
        submit_interview(store, accounts["p1"], "2025", unit="湖里区", mode="phone",
                         answers=complete_answers(), submit_key=f"b{i}")
    out = tmp_path / "backup.db"
    store.backup(out)
    restored = Store(out)
    assert restored.count_responses("2025") == 5
    assert restored.account("p1")["role"] == "pollster"
    assert sqlite3.connect(out).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_exclusion_and_edit_are_audit_rows_never_deletes(store, accounts):
    from survey.responses import set_excluded
    done = submit_interview(store, accounts["p1"], "2025", unit="湖里区", mode="phone",
                            answers=complete_answers(), submit_key="x")
    ana = accounts["ana"]
    assert set_excluded(store, ana, done.response_id, True, "录音核查不合格")
    assert store.responses("2025") == []
    assert set_excluded(store, ana, done.response_id, True, "again") is False
    assert set_excluded(store, ana, done.response_id, False, "复核后恢复")
    assert len(store.responses("2025")) == 1
    store.edit_response(done.response_id, {"air": 5}, "sup", "录入错误更正")
    actions = [a["action"] for a in store.audit_log("response", done.response_id)]
    assert actions == ["edit", "restore", "exclude", "submit"]
    assert [e["action"] for e in store.exclusions("2025")] == ["restore", "exclude"]
    assert store.response(done.response_id)["answers"]["air"] == 5


def test_frame_has_the_responses_file_columns(store, accounts):
    submit_interview(store, accounts["p1"], "2025", unit="湖里区", mode="phone", answers=complete_answers(),
                     submit_key="f")
    frame = responses_frame(store, accounts["ana"], "2025")
    assert list(frame.columns[:20]) == ["response_id", "wave", "unit", "mode", "interviewer", "submitted_at",
                                        "duration_s", "sex", "age_group", "education", "air", "water", "sea",
                                        "noise", "waste", "greenery", "rural", "enforcement", "publicity",
                                        "overall"]
    assert frame.loc[0, "sea"] == 9 and frame.loc[0, "interviewer"] == "p1"


def test_copy_moves_every_table_with_counts_verified(store, accounts, tmp_path):
    from survey.cli import main
    submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone", answers=complete_answers(),
                     submit_key="k-copy")
    store.set_exclusion(store.responses("2025")[0]["response_id"], True, "test", "admin")
    out = tmp_path / "copied.db"
    assert main(["copy", "--to", str(out)]) == 0
    copied = Store(out)
    for table in ("responses", "exclusions", "accounts", "audit", "waves", "web_secrets"):
        assert copied.query(f"SELECT count(*) AS n FROM {table}") == store.query(f"SELECT count(*) AS n FROM {table}")
    assert copied.web_salt() == store.web_salt()
    assert copied.responses("2025") == store.responses("2025") == []  # the exclusion travelled too
    assert main(["copy", "--to", str(out)]) == 2  # never into a store holding data


def test_wave_record_types_its_settings_by_section(store):
    store.update_wave("2025", "admin", settings={"web": {"starts_per_ip_hour": 5}, "double_entry": True,
                                                  "quotas": [{"unit": "思明区", "target": 10}], "qc": {"a": 1}})
    wave = store.wave_record("2025")
    assert wave.id == "2025" and "思明区" in wave.units
    assert wave.settings.web.starts_per_ip_hour == 5 and wave.settings.web.min_seconds == 60.0
    assert wave.settings.paper.double_entry and wave.settings.paper.id_pattern is None
    assert wave.settings.quotas.cells[0]["target"] == 10 and wave.settings.quotas.action == "warn"
    assert wave.backcheck_seed == "2025" and wave.settings.qc == {"a": 1}
    assert store.wave_record("nope") is None
