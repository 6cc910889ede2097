"""Supervisor progress: counts by unit / day / pollster for the own firm, targets from wave quotas."""
from __future__ import annotations

import pytest

from survey.auth import PermissionDenied
from survey.responses import submit_interview
from survey.supervision import progress, unit_targets
from tests.conftest import complete_answers


def test_progress_counts_only_the_supervisors_firm(store, accounts):
    work = [("p1", "思明区"), ("p1", "思明区"), ("p2", "湖里区"), ("p3", "湖里区")]
    for i, (who, unit) in enumerate(work):
        submit_interview(store, accounts[who], "2025", unit=unit, mode="phone", answers=complete_answers(),
                         submit_key=f"pg{i}")
    [excluded] = [r["response_id"] for r in store.responses("2025", interviewer="p2")]
    store.set_exclusion(excluded, True, "test", "sup")
    mine = progress(store, accounts["sup"], "2025")
    assert mine.total == 2
    assert dict(zip(mine.by_unit["unit"], mine.by_unit["n"])) == {"思明区": 2, "湖里区": 0, "集美区": 0,
                                                                   "海沧区": 0, "同安区": 0, "翔安区": 0}
    assert mine.by_pollster[["interviewer", "n", "phone", "days"]].values.tolist() == [["p1", 2, 2, 1]]
    assert mine.by_day["n"].sum() == 2 and mine.by_unit["target"].isna().all()
    assert progress(store, accounts["admin"], "2025").total == 3
    assert progress(store, accounts["supb"], "2025").total == 1
    with pytest.raises(PermissionDenied):
        progress(store, accounts["supb"], "2025", firm="A")
    with pytest.raises(PermissionDenied):
        progress(store, accounts["p1"], "2025")


def test_progress_of_an_empty_wave(store, accounts):
    empty = progress(store, accounts["sup"], "2025")
    assert empty.total == 0 and len(empty.by_unit) == 6 and empty.by_pollster.empty


@pytest.mark.parametrize("quotas,expected", [
    (None, {}),
    ({"思明区": 400, "湖里区": 300}, {"思明区": 400, "湖里区": 300}),
    ({"targets": {"思明区": {"target": 50}}}, {"思明区": 50}),
    ([{"unit": "思明区", "sex": "男", "target": 20}, {"unit": "思明区", "sex": "女", "target": 25},
      {"unit": "湖里区", "n": 10}], {"思明区": 45, "湖里区": 10}),
    ({"思明区": "many", "湖里区": True, "集美区": -3}, {}),
    ("garbage", {}),
])
def test_unit_targets_read_defensively(quotas, expected):
    assert unit_targets({"quotas": quotas} if quotas is not None else {}) == expected


def test_progress_against_targets(store, accounts):
    store.update_wave("2025", "admin", settings={"quotas": {"思明区": 4}})
    submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="door", answers=complete_answers(),
                     submit_key="t1")
    row = progress(store, accounts["sup"], "2025").by_unit.set_index("unit").loc["思明区"]
    assert (row["n"], row["target"], row["share"]) == (1, 4, 0.25)
