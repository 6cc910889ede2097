"""异地交叉 (issue 17, point 5): a pollster gets no case of their home district while the wave says so."""
from __future__ import annotations

from dataclasses import replace

import pytest

from common.errors import Invalid
from survey.auth import SYSTEM, load_account, set_home_district
from survey.fieldwork import assign_cases, assign_evenly, import_cases, next_case
from survey.wave_setup import current_settings, save_settings


def cross(store, on: bool = True) -> None:
    save_settings(store, SYSTEM, "2025", replace(current_settings(store, "2025"), cross_district=on))


@pytest.fixture
def cases(store, accounts, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("case_id,unit,mode,phone\nS1,思明区,phone,13812345678\nS2,思明区,phone,13900001111\n"
                    "H1,湖里区,phone,13700002222\nH2,湖里区,phone,13700003333\n", encoding="utf-8")
    import_cases(store, SYSTEM, path, "2025")
    set_home_district(store, SYSTEM, "p1", "思明区")
    return store


def test_home_district_is_validated_and_audited(store, accounts):
    with pytest.raises(Invalid) as err:
        set_home_district(store, SYSTEM, "p1", "区" * 41)
    assert "所在区须为" in str(err.value)
    with pytest.raises(Invalid):
        set_home_district(store, SYSTEM, "p1", "思明\u202e区")
    with pytest.raises(Exception):
        set_home_district(store, accounts["p2"], "p1", "思明区")  # not an admin
    assert load_account(store, "p1").home_district is None
    set_home_district(store, SYSTEM, "p1", " 思明区 ")
    assert load_account(store, "p1").home_district == "思明区"
    assert store.audit_log("account", "p1")[0]["action"] == "set_home_district"
    set_home_district(store, SYSTEM, "p1", "")
    assert load_account(store, "p1").home_district is None


def test_assigning_a_home_district_case_is_refused_only_with_the_setting(cases, accounts):
    store = cases
    assert assign_cases(store, SYSTEM, "2025", "p1", case_ids=["S1"]) == 1  # setting off: allowed
    cross(store)
    with pytest.raises(Invalid) as err:
        assign_cases(store, accounts["sup"], "2025", "p1", case_ids=["H1", "S2"])
    assert err.value.code == "own_district"
    assert "异地交叉" in str(err.value) and "思明区" in str(err.value) and "S2" in str(err.value)
    assert [c["pollster"] for c in store.cases("2025", case_ids=["H1", "S2"])] == [None, None]  # nothing written
    assert assign_cases(store, accounts["sup"], "2025", "p1", case_ids=["H1"]) == 1


def test_next_case_and_the_pool_skip_the_home_district(cases, accounts):
    store = cases
    assign_cases(store, SYSTEM, "2025", "p1", case_ids=["S1"])  # given before the setting was on
    cross(store)
    p1 = load_account(store, "p1")
    got = next_case(store, p1, "2025", pool=True, at="2025-06-02T19:00:00")
    assert got["case_id"] == "H1"  # S1 is held back, and the pool skips S2
    assert next_case(store, p1, "2025", pool=True, at="2025-06-02T19:00:00")["case_id"] == "H1"
    from survey.fieldwork import record_attempt
    record_attempt(store, p1, "H1", "拒访", at="2025-06-02T19:01:00")
    assert next_case(store, p1, "2025", at="2025-06-02T19:05:00") is None
    cross(store, False)
    assert next_case(store, p1, "2025", at="2025-06-02T19:05:00")["case_id"] == "S1"


def test_assign_evenly_gives_each_case_to_a_pollster_from_elsewhere(cases, accounts):
    store = cases
    set_home_district(store, SYSTEM, "p2", "湖里区")
    cross(store)
    shares = assign_evenly(store, SYSTEM, "2025", ["p1", "p2"])
    assert shares == {"p1": 2, "p2": 2}
    assert {c["case_id"]: c["pollster"] for c in store.cases("2025")} == {"H1": "p1", "H2": "p1", "S1": "p2",
                                                                          "S2": "p2"}


def test_cli_sets_the_home_district(store, accounts, capsys):
    from survey.cli import main
    assert main(["user", "assign", "p2", "--home-district", "湖里区"]) == 0
    assert load_account(store, "p2").home_district == "湖里区"
    assert main(["user", "add", "p9", "--role", "pollster", "--firm", "A", "--password", "long-enough-pw-9",
                 "--home-district", "思明区"]) == 0
    assert load_account(store, "p9").home_district == "思明区"
    assert main(["user", "assign", "p2", "--home-district", "x" * 50]) == 2
    assert load_account(store, "p2").home_district == "湖里区"
