"""Back-check list: seeded 10 % per pollster plus flagged, stable; outcomes by the firm's supervisor only."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from survey.auth import PermissionDenied
from survey.backcheck import (backcheck_history, backcheck_list, draw, outcome_summary, per_pollster,
                              record_backcheck, sample_size)
from survey.responses import submit_interview
from survey.store import StoreError
from tests.conftest import complete_answers


def interviews(store, actor, n, tag=""):
    return [submit_interview(store, actor, "2025", unit="思明区", mode="phone", answers=complete_answers(),
                             submit_key=f"bc:{actor.username}:{tag}{i}").response_id for i in range(n)]


@pytest.mark.parametrize("n,k", [(0, 0), (1, 1), (3, 1), (9, 1), (10, 1), (11, 2), (25, 3), (100, 10), (101, 11)])
def test_sample_size_is_ten_percent_rounded_up(n, k):
    assert sample_size(n) == k


def test_draw_is_bottom_k_per_pollster_independent_of_order():
    pairs = [(f"R{i:04d}", f"P{i % 3}") for i in range(300)] + [("R9999", "P9")]
    picked = draw(pairs, "2025")
    assert Counter(pid for rid, pid in pairs if rid in picked) == {"P0": 10, "P1": 10, "P2": 10, "P9": 1}
    shuffled = pairs[:]
    random.Random(4).shuffle(shuffled)
    assert draw(shuffled, "2025") == picked
    assert draw(pairs, "2026") != picked  # another wave's seed draws another list
    # new completes move the list little: the earlier picks of P0 stay unless a new one scores lower
    more = draw(pairs + [(f"S{i}", "P0") for i in range(5)], "2025")
    assert len({r for r in picked if r.startswith("R") and r in more}) >= 25


def test_list_is_stable_ten_percent_per_pollster_plus_flagged(store, accounts):
    mine = {"p1": interviews(store, accounts["p1"], 40), "p2": interviews(store, accounts["p2"], 7)}
    interviews(store, accounts["p3"], 12)  # firm B
    items = backcheck_list(store, accounts["sup"], "2025")
    assert Counter(i.interviewer for i in items) == {"p1": 4, "p2": 1}
    assert all(i.random and not i.flagged and i.outcome is None for i in items)
    assert backcheck_list(store, accounts["sup"], "2025") == items  # same data, same list
    flagged = [r for r in mine["p1"] if r not in {i.response_id for i in items}][:2]
    with_flags = backcheck_list(store, accounts["sup"], "2025", flagged=flagged)
    assert {i.response_id for i in with_flags} == {i.response_id for i in items} | set(flagged)
    assert {i.response_id for i in with_flags if i.flagged} == set(flagged)
    # excluding a drawn response after its back-check keeps the list as it was
    store.set_exclusion(items[0].response_id, True, "回访否认", "sup")
    after = backcheck_list(store, accounts["sup"], "2025")
    assert [i.response_id for i in after] == [i.response_id for i in items] and after[0].excluded
    firm_b = backcheck_list(store, accounts["supb"], "2025", flagged=flagged)
    assert Counter(i.interviewer for i in firm_b) == {"p3": 2}  # other firms' flags are not shown


def test_outcomes_recorded_with_who_and_when_by_the_firms_supervisor(store, accounts):
    interviews(store, accounts["p1"], 10)
    [item] = backcheck_list(store, accounts["sup"], "2025")
    assert record_backcheck(store, accounts["sup"], item.response_id, "no_contact", "两次无人接听")
    assert not record_backcheck(store, accounts["sup"], item.response_id, "no_contact", "两次无人接听")
    assert record_backcheck(store, accounts["sup"], item.response_id, "confirmed")
    [now_item] = backcheck_list(store, accounts["sup"], "2025")
    assert (now_item.outcome, now_item.outcome_by) == ("confirmed", "sup") and now_item.outcome_at
    history = backcheck_history(store, accounts["sup"], item.response_id)
    assert [h["outcome"] for h in history] == ["no_contact", "confirmed"]
    assert [a["action"] for a in store.audit_log("response", item.response_id)][:2] == ["backcheck", "backcheck"]
    assert outcome_summary([now_item])["confirmed"] == 1
    record_backcheck(store, accounts["sup"], item.response_id, "denied")
    assert per_pollster(backcheck_list(store, accounts["sup"], "2025")) == {
        "p1": {"listed": 1, "checked": 1, "problems": 1}}
    with pytest.raises(StoreError, match="outcome"):
        record_backcheck(store, accounts["sup"], item.response_id, "maybe")


def test_other_firms_supervisor_and_other_roles_are_refused(store, accounts):
    [rid] = interviews(store, accounts["p1"], 1)
    with pytest.raises(PermissionDenied):
        record_backcheck(store, accounts["supb"], rid, "confirmed")
    with pytest.raises(PermissionDenied):
        backcheck_history(store, accounts["supb"], rid)
    with pytest.raises(PermissionDenied):
        backcheck_list(store, accounts["supb"], "2025", firm="A")
    for name in ("p1", "ana"):
        with pytest.raises(PermissionDenied):
            backcheck_list(store, accounts[name], "2025")
        with pytest.raises(PermissionDenied):
            record_backcheck(store, accounts[name], rid, "confirmed")
    assert store.backcheck_history(rid) == []
    assert len(backcheck_list(store, accounts["admin"], "2025")) == 1  # the admin sees every firm


def test_cli_lists_and_records(store, accounts, tmp_path):
    import csv

    from tests.test_cli import run
    interviews(store, accounts["p1"], 20)
    flagged = tmp_path / "flags.csv"
    expected = {i.response_id for i in backcheck_list(store, accounts["sup"], "2025")}
    extra = next(r["response_id"] for r in store.responses("2025") if r["response_id"] not in expected)
    flagged.write_text(f"response_id,flag\n{extra},speeder\n", encoding="utf-8")
    out = tmp_path / "bc.csv"
    done = run("backcheck", "list", "--wave", "2025", "--flagged", str(flagged), "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["response_id"] for r in rows} == expected | {extra} and len(expected) == 2
    assert {r["reason"] for r in rows} == {"random", "flagged"}
    done = run("backcheck", "record", extra, "--outcome", "confirmed", "--by", "supb")
    assert done.returncode == 2 and "may not" in done.stderr and "Traceback" not in done.stderr
    done = run("backcheck", "record", extra, "--outcome", "confirmed", "--by", "sup", "--note", "ok")
    assert done.returncode == 0, done.stderr
    assert [h["outcome"] for h in store.backcheck_history(extra)] == ["confirmed"]
    flagged.write_text("id\nR1\n", encoding="utf-8")
    done = run("backcheck", "list", "--wave", "2025", "--flagged", str(flagged), "--out", str(out))
    assert done.returncode == 2 and "no response_id column" in done.stderr
