"""Interview drafts: saved per step, resumed by the same account only, submitted once."""
from __future__ import annotations

import pytest

from survey import drafts
from survey.auth import PermissionDenied
from survey.store import StoreError
from tests.conftest import complete_answers


def test_draft_is_resumed_with_its_answers_and_start_time(store, accounts):
    p1 = accounts["p1"]
    first = drafts.start_draft(store, p1, "phone", wave="2025", unit="思明区", mode="phone")
    assert drafts.save_draft(store, p1, first["draft_id"], wave="2025", unit="湖里区",
                             answers={"age18": 1, "air": None}, paradata={"x": 1})
    # same answers again: nothing to write
    assert not drafts.save_draft(store, p1, first["draft_id"], wave="2025", unit="湖里区",
                                 answers={"age18": 1}, paradata={"x": 1})
    # a new session asks for a draft: the same one comes back, not a new one
    again = drafts.open_draft(store, p1, "phone")
    assert again["draft_id"] == first["draft_id"] and again["answers"] == {"age18": 1}
    assert again["unit"] == "湖里区" and again["paradata"] == {"x": 1}
    assert again["started_at"] == first["started_at"] and again["saves"] == 1
    resumed = drafts.start_draft(store, p1, "phone", wave="2025", unit="思明区", mode="phone")
    assert resumed["draft_id"] == first["draft_id"] and resumed["submit_key"] == first["submit_key"]
    # drafts are per form and per case
    assert drafts.open_draft(store, p1, "door") is None
    assert drafts.open_draft(store, p1, "phone", case_id="C1") is None


def test_submit_is_idempotent_and_closes_the_draft(store, accounts):
    p1 = accounts["p1"]
    d = drafts.start_draft(store, p1, "door", wave="2025", unit="思明区", mode="door",
                           paradata={"household": {"size": 3}})
    one = drafts.submit_draft(store, p1, d["draft_id"], answers=complete_answers())
    two = drafts.submit_draft(store, p1, d["draft_id"], answers=complete_answers())
    assert one.created and not two.created and one.response_id == two.response_id
    assert store.count_responses("2025") == 1
    stored = store.response(one.response_id)
    assert stored["mode"] == "door" and stored["paradata"]["household"] == {"size": 3}
    assert stored["started_at"] == d["started_at"] and stored["duration_s"] is not None
    closed = store.interview_draft(d["draft_id"])
    assert closed["status"] == "done" and closed["response_id"] == one.response_id
    assert drafts.open_draft(store, p1, "door") is None
    # a draft that is done takes no more steps; the next interview gets a new key
    assert not drafts.save_draft(store, p1, d["draft_id"], wave="2025", unit="思明区", answers={"age18": 2})
    nxt = drafts.start_draft(store, p1, "door", wave="2025", unit="思明区", mode="door")
    assert nxt["draft_id"] != d["draft_id"] and nxt["submit_key"] != d["submit_key"]


def test_another_pollster_cannot_use_a_draft(store, accounts):
    d = drafts.start_draft(store, accounts["p1"], "phone", wave="2025", unit="思明区", mode="phone")
    with pytest.raises(PermissionDenied):
        drafts.save_draft(store, accounts["p2"], d["draft_id"], wave="2025", unit="思明区", answers={"age18": 1})
    with pytest.raises(PermissionDenied):
        drafts.submit_draft(store, accounts["p2"], d["draft_id"], answers=complete_answers())
    assert drafts.open_draft(store, accounts["p2"], "phone") is None
    with pytest.raises(PermissionDenied):
        drafts.start_draft(store, accounts["ana"], "phone", wave="2025", unit="思明区", mode="phone")


def test_abandoned_draft_is_kept_and_cannot_be_submitted(store, accounts):
    p1 = accounts["p1"]
    d = drafts.start_draft(store, p1, "phone", wave="2025", unit="思明区", mode="phone")
    assert drafts.abandon_draft(store, p1, d["draft_id"], "not eligible")
    assert store.interview_draft(d["draft_id"])["status"] == "abandoned"
    with pytest.raises(StoreError):
        drafts.submit_draft(store, p1, d["draft_id"], answers=complete_answers())
    assert store.count_responses("2025") == 0
    assert store.audit_log("interview_draft", d["draft_id"])[0]["action"] == "abandoned"
