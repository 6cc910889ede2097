"""Fieldwork wired into the rest: `import --kind attempts`, `export --with-contacts`, the rates tab."""
from __future__ import annotations

import csv

import pytest

from survey.auth import SYSTEM, PermissionDenied
from survey.cli import main
from survey.exporting import build_export
from survey.fieldwork import import_cases, next_case, record_attempt
from survey.responses import submit_interview
from tests.conftest import complete_answers
from tests.test_app import app_as
from tests.test_fieldwork import HAND


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv("SURVEY_SECRET_KEY", raising=False)


def test_cli_import_kind_attempts_is_idempotent_and_rejects_bad_rows(store, accounts, tmp_path, capsys):
    from tests.test_fieldwork import store_completes
    store_completes(store)  # the responses HAND's 1.1 rows point at
    good = tmp_path / "attempts.csv"
    good.write_text(HAND, encoding="utf-8")
    assert main(["import", str(good), "--wave", "2025", "--kind", "attempts"]) == 0
    assert "22 new attempt(s)" in capsys.readouterr().out
    assert main(["import", str(good), "--wave", "2025", "--kind", "attempts"]) == 0
    assert "0 new attempt(s)" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(HAND.splitlines()[0] + "\nB9,2025,思明区,phone,p1,2025-06-01 09:00,7.7,\n", encoding="utf-8")
    assert main(["import", str(bad), "--wave", "2025", "--kind", "attempts"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["row 2, column disposition: value 7.7 — not an AAPOR code "
                   "(1.1, 1.2, 2.1x, 2.2x, 2.3x, 3.1x, 3.2x, 4.x)"]
    assert len(store.attempts("2025")) == 22


def test_export_with_contacts_joins_the_case_number_for_admins_only(store, accounts, tmp_path):
    cases = tmp_path / "cases.csv"
    with cases.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["case_id", "unit", "mode", "phone"], ["C1", "思明区", "phone", "13812345678"],
                                  ["C2", "思明区", "phone", "13900001111"]])
    import_cases(store, SYSTEM, cases, "2025")
    from survey.fieldwork import assign_cases
    assign_cases(store, SYSTEM, "2025", "p1", unit="思明区")
    case = next_case(store, accounts["p1"], "2025")
    done = submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone", answers=complete_answers(),
                            submit_key="k1", case_id=case["case_id"])
    record_attempt(store, accounts["p1"], case["case_id"], "完成", wave="2025", response_id=done.response_id)
    submit_interview(store, accounts["p2"], "2025", unit="湖里区", mode="phone", answers=complete_answers(),
                     submit_key="k2")
    table = build_export(store, accounts["admin"], "2025", with_contacts=True)
    rows = table.frame.set_index("response_id")
    assert rows.loc[done.response_id, "phone"] == "13812345678"
    assert rows.loc[done.response_id, "case_id"] == case["case_id"]
    assert rows["phone"].isna().sum() == 1  # the interview without a case has no contact
    assert {"unit", "mode", "wave"} <= set(table.frame.columns)  # no clash with the contact columns
    plain = build_export(store, accounts["admin"], "2025")
    assert "phone" not in plain.frame.columns
    with pytest.raises(PermissionDenied):
        build_export(store, accounts["ana"], "2025", with_contacts=True)


@pytest.mark.app
def test_supervisor_dashboard_shows_aapor_rates(store, accounts):
    from survey.demo import store_demo, store_demo_attempts
    store_demo(store, "2025", 300, 3)
    assert store_demo_attempts(store, "2025", 3) > 300  # the demo firm's contact attempts
    at = app_as(store, "admin")
    at.switch_page("app_pages/supervisor_progress.py").run()
    assert not at.exception, at.exception
    tables = [d.value for d in at.dataframe if "RR1" in d.value.columns]
    assert len(tables) == 1
    rates = tables[0]
    total = rates[rates["unit"] == "全部"].iloc[0]
    assert total["cases"] == len({a["case_id"] for a in store.attempts("2025")})
    assert 0 < total["RR1"] <= total["RR2"] <= 1


@pytest.mark.app
def test_import_page_takes_an_attempts_file(store, accounts):
    from tests.test_fieldwork import store_completes
    store_completes(store)
    at = app_as(store, "ana")
    at.switch_page("app_pages/data_import_export.py").run()
    at.radio(key="import_kind").set_value("attempts").run()
    at.file_uploader(key="import_file").set_value(("attempts.csv", HAND.encode("utf-8"), "text/csv")).run()
    at.button(key="do_import").click().run()
    assert not at.exception, at.exception
    assert "新增 22 条访问记录" in at.success[0].value
    assert len(store.attempts("2025")) == 22
