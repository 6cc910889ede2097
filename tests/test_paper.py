"""Paper keying: single and double entry, mismatches resolved by a supervisor, stored once."""
from __future__ import annotations

import pytest

from survey.auth import PermissionDenied
from survey.paper import (PaperError, Pick, awaiting_second_entry, key_paper, keying_status, mismatch_queue,
                          normalise_paper_id, resolve_paper)
from survey.responses import SubmitError
from tests.conftest import complete_answers


def key(store, actor, paper_id, entry_key, **kw):
    answers = kw.pop("answers", complete_answers())
    return key_paper(store, actor, "2025", paper_id, unit=kw.pop("unit", "思明区"), answers=answers,
                     entry_key=entry_key, **kw)


def paper_audit(store, paper_id):
    return [a["action"] for a in store.audit_log("paper", f"2025/{paper_id}")]


def test_single_entry_stores_a_paper_response_once(store, accounts):
    done = key(store, accounts["p1"], " a-0001 ", "k1")
    assert done.status == "stored" and done.created and done.paper_id == "A-0001"
    [row] = store.responses("2025")
    assert row["mode"] == "paper" and row["source"] == "paper" and row["interviewer"] == "p1"
    assert row["firm"] == "A" and row["paradata"]["paper_id"] == "A-0001"
    again = key(store, accounts["p1"], "A-0001", "k1")  # the same submission again (double click)
    assert not again.created and again.response_id == done.response_id
    with pytest.raises(PaperError) as err:  # the same paper ID keyed anew
        key(store, accounts["p2"], "A-0001", "k2")
    assert err.value.code == "already_keyed"
    assert store.count_responses("2025") == 1 and paper_audit(store, "A-0001") == ["key"]


def test_paper_id_format_is_validated(store, accounts):
    for bad in ("", "A", "纸1234", "A 0001", "X" * 30):
        with pytest.raises(PaperError, match="paper ID format"):
            key(store, accounts["p1"], bad, f"k-{bad}")
    wave = store.wave("2025")
    store.update_wave("2025", "admin", settings={**wave["settings"], "paper_id_pattern": r"\d{6}"})
    assert normalise_paper_id("123456", store.wave("2025")) == "123456"
    with pytest.raises(PaperError):
        normalise_paper_id("A-0001", store.wave("2025"))
    assert store.count_responses("2025") == 0


def test_incomplete_answers_are_named_and_nothing_is_stored(store, accounts):
    answers = complete_answers()
    del answers["air"]
    with pytest.raises(SubmitError, match="air: required"):
        key(store, accounts["p1"], "A-0002", "k1", answers=answers, double_entry=True)
    with pytest.raises(SubmitError, match="interviewer"):
        key(store, accounts["p1"], "A-0002", "k1", interviewer="p3")  # a pollster of firm B
    assert store.paper_form("2025", "A-0002") is None


def test_double_entry_equal_entries_store_the_response(store, accounts):
    first = key(store, accounts["p1"], "A-0003", "k1", double_entry=True, interviewer="p2")
    assert first.status == "awaiting_second" and first.response_id is None
    assert store.count_responses("2025") == 0
    assert [f.paper_id for f in awaiting_second_entry(store, accounts["p2"], "2025")] == ["A-0003"]
    assert awaiting_second_entry(store, accounts["p1"], "2025") == []  # not offered to its own keyer
    second = key(store, accounts["p2"], "A-0003", "k2", interviewer="p2")
    assert second.status == "stored" and second.created and not second.mismatches
    [row] = store.responses("2025")
    assert row["interviewer"] == "p2" and row["paradata"]["keyers"] == ["p1", "p2"]
    assert paper_audit(store, "A-0003") == ["key", "key"]


def test_same_keyer_cannot_key_the_second_entry(store, accounts):
    key(store, accounts["p1"], "A-0004", "k1", double_entry=True)
    with pytest.raises(PaperError) as err:
        key(store, accounts["p1"], "A-0004", "k2")
    assert err.value.code == "same_keyer"
    with pytest.raises(PaperError) as err:  # a keyer of another firm
        key(store, accounts["p3"], "A-0004", "k3")
    assert err.value.code == "other_firm"
    assert store.paper_form("2025", "A-0004")["status"] == "awaiting_second"


def test_wave_setting_makes_double_entry_compulsory(store, accounts):
    store.update_wave("2025", "admin", settings={"double_entry": True})
    assert key(store, accounts["p1"], "A-0005", "k1", double_entry=False).status == "awaiting_second"


def test_mismatches_are_listed_and_resolved_by_the_firms_supervisor(store, accounts):
    key(store, accounts["p1"], "A-0006", "k1", double_entry=True)
    second = key(store, accounts["p2"], "A-0006", "k2", unit="湖里区",
                 answers=complete_answers(air=2, noise=4, comment="路灯太暗"))
    assert second.status == "mismatch" and second.response_id is None
    assert [(m.field, m.entry1, m.entry2) for m in second.mismatches] == [
        ("unit", "思明区", "湖里区"), ("air", 4, 2), ("noise", 3, 4), ("comment", None, "路灯太暗")]
    assert store.count_responses("2025") == 0
    [queued] = mismatch_queue(store, accounts["sup"], "2025")
    assert queued.paper_id == "A-0006" and len(queued.mismatches) == 4
    assert mismatch_queue(store, accounts["supb"], "2025") == []
    assert keying_status(store, accounts["sup"], "2025") == {"awaiting_second": 0, "mismatch": 1, "stored": 0}
    picks = {"unit": Pick("entry1"), "air": Pick("entry2"), "noise": Pick("paper", 5),
             "comment": Pick("entry2")}
    with pytest.raises(PermissionDenied):
        resolve_paper(store, accounts["supb"], "2025", "A-0006", picks)
    with pytest.raises(PermissionDenied):
        resolve_paper(store, accounts["p1"], "2025", "A-0006", picks)
    with pytest.raises(PaperError, match="comment"):
        resolve_paper(store, accounts["sup"], "2025", "A-0006", {k: v for k, v in picks.items() if k != "comment"})
    done = resolve_paper(store, accounts["sup"], "2025", "A-0006", picks)
    assert done.created
    [row] = store.responses("2025")
    assert row["unit"] == "思明区" and row["interviewer"] == "p1"
    assert (row["answers"]["air"], row["answers"]["noise"], row["answers"]["comment"]) == (2, 5, "路灯太暗")
    assert row["paradata"]["resolved_by"] == "sup"
    again = resolve_paper(store, accounts["sup"], "2025", "A-0006", picks)
    assert not again.created and again.response_id == done.response_id and store.count_responses("2025") == 1
    assert mismatch_queue(store, accounts["sup"], "2025") == []
    assert paper_audit(store, "A-0006") == ["resolve", "key", "key"]
    resolve = store.audit_log("paper", "2025/A-0006")[0]
    assert resolve["actor"] == "sup" and '"noise": {"entry1": 3, "entry2": 4, "source": "paper", "value": 5}' \
        in resolve["detail"]


def test_a_typed_value_is_validated_like_an_interview(store, accounts):
    key(store, accounts["p1"], "A-0007", "k1", double_entry=True)
    key(store, accounts["p2"], "A-0007", "k2", answers=complete_answers(air=2))
    with pytest.raises(SubmitError, match="air"):
        resolve_paper(store, accounts["sup"], "2025", "A-0007", {"air": Pick("paper", 7)})
    assert store.count_responses("2025") == 0


def test_pollster_not_assigned_to_the_wave_cannot_key(store, accounts):
    from survey.auth import SYSTEM, create_account, load_account
    create_account(store, SYSTEM, "p9", "pollster", "test-pass-123", firm="A")
    with pytest.raises(PermissionDenied):
        key(store, load_account(store, "p9"), "A-0008", "k1")
    with pytest.raises(PermissionDenied):
        key(store, accounts["ana"], "A-0008", "k1")


def test_form_status_tells_the_keyer_what_to_do(store, accounts):
    from survey.paper import form_status
    assert form_status(store, accounts["p1"], "2025", "a-0009") == ("new", None)
    key(store, accounts["p1"], "A-0009", "k1", double_entry=True)
    assert form_status(store, accounts["p1"], "2025", "A-0009") == ("own", "p1")
    assert form_status(store, accounts["p2"], "2025", "A-0009") == ("second", "p1")
    assert form_status(store, accounts["p3"], "2025", "A-0009") == ("other_firm", None)
    key(store, accounts["p2"], "A-0009", "k2")
    assert form_status(store, accounts["p2"], "2025", "A-0009") == ("done", "p1")
    with pytest.raises(PaperError):
        form_status(store, accounts["p1"], "2025", "?")


def test_two_keyers_racing_for_the_second_entry_store_one(store, accounts):
    """Both saw the form awaiting its second entry; the store re-checks inside the transaction."""
    from survey.store import StoreError
    key(store, accounts["p1"], "A-0010", "k1", double_entry=True)
    entry = {"wave": "2025", "paper_id": "A-0010", "entry_no": 2, "keyer": "p2", "unit": "思明区",
             "answers": complete_answers()}
    store.add_paper_entry({**entry, "entry_key": "race-a"}, firm="A", double_entry=True, status="mismatch",
                          response=None, actor="p2")
    with pytest.raises(StoreError, match="does not await a second entry"):
        store.add_paper_entry({**entry, "entry_key": "race-b"}, firm="A", double_entry=True, status="mismatch",
                              response=None, actor="p2")
    assert len(store.paper_form("2025", "A-0010")["entries"]) == 2
