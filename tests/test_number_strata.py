"""Number strata (issue 17, point 2): line_type / prefix columns of a contact list, quota cells on them."""
from __future__ import annotations

import pytest

from survey.auth import SYSTEM
from survey.contacts import check_number_strata
from survey.errors import ImportRejected
from survey.fieldwork import assign_cases, import_cases
from survey.quotas import QuotaError, cell_name, quota_progress, quota_status, set_quotas
from survey.responses import submit_interview
from survey.supervision import unit_targets
from tests.conftest import complete_answers

HEADER = "case_id,unit,mode,phone,address,line_type,prefix\n"


@pytest.mark.parametrize("line_type, prefix, number, canonical, problems", [
    ("mobile", "138", "13812345678", {"line_type": "mobile", "prefix": "138"}, []),
    ("手机", "1381234", "13812345678", {"line_type": "mobile", "prefix": "1381234"}, []),
    ("固话", "555", "05925551234", {"line_type": "landline", "prefix": "555"}, []),  # 局向号 after 0592
    ("landline", "0592", "05925551234", {"line_type": "landline", "prefix": "0592"}, []),
    ("landline", "888", "01088812345", {"line_type": "landline", "prefix": "888"}, []),  # 010: 3-digit area
    ("landline", "", "13812345678", {"line_type": "landline"}, ["line_type:line_type_mismatch"]),
    ("fax", "", "13812345678", {}, ["line_type:bad_line_type"]),
    ("", "13a", "13812345678", {}, ["prefix:bad_prefix"]),
    ("", "139", "13812345678", {"prefix": "139"}, ["prefix:prefix_mismatch"]),
    ("", "1", None, {}, ["prefix:bad_prefix"]),
])
def test_number_strata_checked_against_the_number(line_type, prefix, number, canonical, problems):
    assert check_number_strata(line_type, prefix, number) == (canonical, problems)


def test_contact_list_with_strata_imports_and_bad_rows_are_named(store, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "C1,思明区,phone,13812345678,,mobile,138\n"
                   "C2,思明区,phone,05925551234,,mobile,555\n"
                   "C3,思明区,phone,13900001111,,手机,13a\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as err:
        import_cases(store, SYSTEM, bad, "2025")
    text = "\n".join(err.value.problems)
    assert "row 3, column line_type: value mobile — 号码类型与号码不符（此号码是固话）" in text
    assert "row 4, column prefix: value 13a — 号段须为 2–8 位数字" in text
    assert store.cases("2025") == []  # nothing stored
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "C1,思明区,phone,13812345678,,mobile,138\n"
                    "C2,思明区,phone,05925551234,,固话,555\n"
                    "C3,思明区,phone,13900001111,,,\n", encoding="utf-8")
    assert import_cases(store, SYSTEM, good, "2025") == 3
    strata = {c["case_id"]: c["strata"] for c in store.cases("2025")}
    assert strata == {"C1": {"line_type": "mobile", "prefix": "138"},
                      "C2": {"line_type": "landline", "prefix": "555"}, "C3": {}}


def test_quota_cells_accept_line_type_and_prefix(store):
    set_quotas(store, SYSTEM, "2025", [{"unit": "思明区", "line_type": "mobile", "target": 2},
                                       {"unit": "思明区", "line_type": "landline", "target": 1},
                                       {"unit": "思明区", "sex": "女", "line_type": "mobile", "prefix": "138",
                                        "target": 1}])
    for bad in ({"unit": "思明区", "line_type": "fax", "target": 1},
                {"unit": "思明区", "prefix": "13x", "target": 1}):
        with pytest.raises(QuotaError):
            set_quotas(store, SYSTEM, "2025", [bad])
    with pytest.raises(QuotaError) as err:
        set_quotas(store, SYSTEM, "2025", [{"unit": "思明区", "line_type": "mobile", "target": 1},
                                           {"unit": "思明区", "line_type": "mobile", "target": 2}])
    assert "same cell" in str(err.value)
    assert cell_name({"sex": "女", "age_group": None, "line_type": "mobile", "prefix": "138"}) == "女 × 手机 × 138"


def test_line_type_cells_fill_from_case_strata_and_stop_screening(store, accounts, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(HEADER + "C1,思明区,phone,13812345678,,mobile,138\n"
                    "C2,思明区,phone,05925551234,,landline,555\n"
                    "C3,思明区,phone,13900001111,,mobile,139\n", encoding="utf-8")
    import_cases(store, SYSTEM, path, "2025")
    assign_cases(store, SYSTEM, "2025", "p1", case_ids=["C1", "C2", "C3"])
    set_quotas(store, SYSTEM, "2025", [{"unit": "思明区", "line_type": "mobile", "target": 1},
                                       {"unit": "思明区", "line_type": "landline", "target": 5},
                                       {"unit": "思明区", "prefix": "139", "target": 3}], action="stop")
    mobile, landline = {"line_type": "mobile", "prefix": "139"}, {"line_type": "landline", "prefix": "555"}
    assert not quota_status(store, "2025", "思明区", complete_answers(), mobile).full
    submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone", answers=complete_answers(),
                     submit_key="k-c1", case_id="C1")
    submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone", answers=complete_answers(),
                     submit_key="k-free")  # no case: counts in no number cell
    status = quota_status(store, "2025", "思明区", complete_answers(), mobile)
    assert status.full and status.stop and "思明区 × 手机" in status.message
    assert not quota_status(store, "2025", "思明区", complete_answers(), landline).full
    assert not quota_status(store, "2025", "思明区", complete_answers()).full  # no case: number cells not checked
    progress = quota_progress(store, "2025")
    assert progress[["line_type", "prefix", "n"]].fillna("").values.tolist() == [
        ["mobile", "", 1], ["landline", "", 0], ["", "139", 0]]


def test_unit_target_does_not_double_count_two_breakdowns():
    cells = [{"unit": "思明区", "sex": "男", "target": 250}, {"unit": "思明区", "sex": "女", "target": 250},
             {"unit": "思明区", "line_type": "mobile", "target": 300},
             {"unit": "思明区", "line_type": "landline", "target": 200},
             {"unit": "湖里区", "target": 400}, {"unit": "湖里区", "line_type": "mobile", "target": 100}]
    assert unit_targets({"quotas": cells}) == {"思明区": 500, "湖里区": 400}
