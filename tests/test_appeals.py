"""Districts' view and appeals: a liaison's scope, the deadline, the decision and the revised publication."""
from __future__ import annotations

import datetime as dt

import pytest

from analysis.io import read_population
from analysis.scoring import load_config
from common.errors import Forbidden, Invalid
from survey import appeals, publishing
from survey.auth import SYSTEM, create_account, load_account
from survey.config import POPULATION_DIR, SCORING_DIR
from tests.conftest import PASSWORD

BEFORE = lambda: dt.datetime(2000, 1, 1)  # noqa: E731  a clock inside any window set below
AFTER = lambda: dt.datetime(2999, 1, 1)   # noqa: E731


@pytest.fixture
def published(store, accounts):
    """A wave of 600 demo responses published once, with liaisons of 思明区 and 湖里区."""
    from survey.demo import store_demo
    store_demo(store, "2025", 600, 3)
    for name, unit in (("siming", "思明区"), ("huli", "湖里区")):
        create_account(store, SYSTEM, name, "liaison", PASSWORD, unit=unit)
    run = publishing.compute_for_wave(store, accounts["ana"], "2025", read_population(POPULATION_DIR / "xiamen-2020.csv"),
                                      load_config(SCORING_DIR / "default.yaml"))
    pub = publishing.publish(store, accounts["ana"], run)
    return {"pub": pub, "siming": load_account(store, "siming"), "huli": load_account(store, "huli"), **accounts}


def own(store, unit: str, n: int) -> list[str]:
    return [r["response_id"] for r in store.responses("2025") if r["unit"] == unit][:n]


def test_a_liaison_needs_a_known_unit_and_only_a_liaison_has_one(store):
    with pytest.raises(Invalid) as err:
        create_account(store, SYSTEM, "x1", "liaison", PASSWORD)
    assert err.value.code == "unit_needed"
    with pytest.raises(Invalid) as err:
        create_account(store, SYSTEM, "x2", "liaison", PASSWORD, unit="鼓浪屿")
    assert err.value.code == "unknown_unit"
    with pytest.raises(Invalid):
        create_account(store, SYSTEM, "x3", "analyst", PASSWORD, unit="思明区")
    create_account(store, SYSTEM, "x4", "liaison", PASSWORD, unit="思明区")
    assert load_account(store, "x4").unit == "思明区"
    assert next(a for a in store.accounts() if a["username"] == "x4")["unit"] == "思明区"


def test_the_liaison_sees_only_its_unit_the_method_and_counts_never_contacts_or_responses(store, published,
                                                                                          tmp_path):
    siming, pub = published["siming"], published["pub"]
    view = appeals.unit_view(store, siming, pub)
    assert view.unit == "思明区" and view.result["unit"] == "思明区" and view.result["points"] is not None
    assert {k for k in view.evidence} >= {"responses", "backchecked", "recordings_reviewed", "door_with_gps"}
    assert view.evidence["responses"] == len([r for r in store.responses("2025") if r["unit"] == "思明区"])
    assert "加权" in view.method_text and dict(view.method)["加权变量"] == "性别、年龄"
    with pytest.raises(Forbidden):  # another unit's view
        appeals.unit_view(store, siming, pub, unit="湖里区")
    from survey import fieldwork, responses
    with pytest.raises(Forbidden):  # no response, no contact through any core path
        responses.visible_responses(store, siming, "2025")
    with pytest.raises(Forbidden):
        responses.read_response(store, siming, own(store, "思明区", 1)[0])
    with pytest.raises(Forbidden):
        fieldwork.contacts_for_wave(store, siming, "2025")
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("case_id,unit,mode,phone\nC1,思明区,phone,13800001234\n", encoding="utf-8")
    fieldwork.import_cases(store, SYSTEM, contacts, "2025")
    case = next(c for c in store.cases("2025") if c["unit"] == "思明区")  # a case of its own unit
    for read in (fieldwork.read_case, fieldwork.case_contact):
        with pytest.raises(Forbidden):
            read(store, siming, case["case_id"], "2025")
    with pytest.raises(Forbidden):
        fieldwork.attempts_frame(store, siming, "2025")
    from survey.auth import allowed
    assert not allowed(siming, "cases.contact_clear") and not siming.can("export.contacts")
    assert not allowed(siming, "objections.decide") and not allowed(siming, "appeals.set_deadline")
    # another unit's objections are not listed to it
    appeals.set_deadline(store, published["ana"], pub, "2999-01-01")
    appeals.file_objection(store, published["huli"], pub, "method", "加权变量应包含文化程度", clock=BEFORE)
    assert appeals.objections(store, siming) == []
    assert len(appeals.objections(store, published["ana"])) == 1


def test_filing_needs_a_window_before_its_deadline_and_own_responses(store, published):
    siming, huli, ana, pub = published["siming"], published["huli"], published["ana"], published["pub"]
    mine, theirs = own(store, "思明区", 2), own(store, "湖里区", 1)
    with pytest.raises(Invalid) as err:  # no window set
        appeals.file_objection(store, siming, pub, "responses", "不是本区常住居民", mine, clock=BEFORE)
    assert err.value.code == "no_window"
    with pytest.raises(Forbidden):
        appeals.set_deadline(store, siming, pub, "2999-01-01")
    with pytest.raises(Invalid) as err:
        appeals.set_deadline(store, ana, pub, "2025-13-40")
    assert err.value.code == "bad_deadline"
    assert appeals.set_deadline(store, ana, pub, "2030-06-30") == "2030-06-30T23:59:59"
    with pytest.raises(Invalid) as err:  # after the deadline
        appeals.file_objection(store, siming, pub, "responses", "不是本区常住居民", mine, clock=AFTER)
    assert err.value.code == "window_closed" and "2030-06-30 23:59:59" in str(err.value)
    with pytest.raises(Invalid) as err:  # another unit's response, an unknown id, a blank reason: all at once
        appeals.file_objection(store, siming, pub, "responses", " ", [mine[0], theirs[0], "R000"], clock=BEFORE)
    assert err.value.codes == {"reason_short", "not_own_response"} and len(err.value.problems) == 3
    with pytest.raises(Forbidden):  # analysts decide, they do not file
        appeals.file_objection(store, ana, pub, "method", "一个方法问题", clock=BEFORE)
    oid = appeals.file_objection(store, siming, pub, "responses", "受访者不是本区常住居民", "，".join(mine),
                                 clock=BEFORE)
    [o] = appeals.objections(store, siming)
    assert (o["id"], o["response_ids"], o["status"], o["unit"]) == (oid, mine, "open", "思明区")
    log = store.audit_log("objection", str(oid))
    assert log[0]["action"] == "file" and log[0]["actor"] == "siming"
    assert store.audit_log("publication", str(pub))[0]["action"] == "set_deadline"


def test_an_upheld_objection_excludes_and_publishes_the_difference_a_rejected_one_is_listed(store, published):
    siming, huli, ana, pub = published["siming"], published["huli"], published["ana"], published["pub"]
    appeals.set_deadline(store, ana, pub, "2999-12-31 17:00")
    # 20 satisfied respondents of 思明区 contested: leaving them out lowers its rate and points
    satisfied = [r["response_id"] for r in store.responses("2025")
                 if r["unit"] == "思明区" and r["answers"].get("overall") == 5][:20]
    method = appeals.file_objection(store, huli, pub, "method", "应剔除电话访问中的速答问卷", clock=BEFORE)
    contested = appeals.file_objection(store, siming, pub, "responses", "受访者不是本区常住居民", satisfied,
                                       clock=BEFORE)
    with pytest.raises(Forbidden):
        appeals.decide(store, siming, contested, True, "自己裁定")
    rejected = appeals.decide(store, ana, method, False, "计分配置已规定速答只标记不剔除")
    assert (rejected.status, rejected.new_publication_id) == ("rejected", None)
    with pytest.raises(Invalid):
        appeals.decide(store, ana, method, True, "再次裁定")
    decision = appeals.decide(store, ana, contested, True, "核实：20 位受访者户籍及居住地均不在本区")
    assert decision.status == "upheld" and decision.excluded == 20 and decision.new_publication_id not in (None, pub)
    # the exclusions carry the appeal's reason
    excluded = {e["response_id"]: e["reason"] for e in store.current_exclusions("2025")}
    assert set(satisfied) <= set(excluded) and excluded[satisfied[0]].startswith(f"申诉 #{contested} 成立")
    new = store.publication(decision.new_publication_id)
    appeal = new["record"]["appeal"]
    assert appeal["base"] == pub and {s["objection"] for s in appeal["settled"]} == {method, contested}
    old_points = {r["unit"]: r["points"] for r in store.publication(pub)["result"]}
    new_points = {r["unit"]: r["points"] for r in new["result"]}
    diff = {d["unit"]: d for d in appeal["differences"]}
    assert diff["思明区"]["difference"] == pytest.approx(new_points["思明区"] - old_points["思明区"])
    assert diff["思明区"]["difference"] < 0 and diff["思明区"]["n_valid_after"] == diff["思明区"]["n_valid_before"] - 20
    assert diff["湖里区"]["points_before"] == old_points["湖里区"]
    # the liaison sees its change on the revised publication
    view = appeals.unit_view(store, siming, decision.new_publication_id)
    assert view.publication.appeal_of == pub and view.difference["difference"] == diff["思明区"]["difference"]
    # the revised publication verifies like any other, and every step left an audit row
    assert publishing.verify(store, ana, new).identical
    from survey.integrity import describe, verify_store  # the chains hold, both publications recompute
    assert describe(verify_store(store, SYSTEM, "2025"))[1] == []
    [o] = [x for x in appeals.objections(store, siming) if x["id"] == contested]
    assert (o["status"], o["new_publication_id"], o["decided_by"]) == ("upheld", decision.new_publication_id, "ana")
    # the same responses contested again: already excluded, the result does not change, nothing is published
    again = appeals.file_objection(store, siming, pub, "responses", "同一批受访者", satisfied[:2], clock=BEFORE)
    repeat = appeals.decide(store, ana, again, True, "已在申诉中剔除")
    assert (repeat.excluded, repeat.new_publication_id) == (0, None) and len(store.published_scores("2025")) == 2
    actions = [(a["action"], a["entity"]) for a in store.audit_log(limit=100)]
    assert ("decide", "objection") in actions and ("publish", "score") in actions and ("exclude", "response") in actions


def test_the_store_tables_copy_between_engines(store, published, tmp_path):
    from survey.storage.copy import copy_store
    from survey.store import Store
    appeals.set_deadline(store, published["ana"], published["pub"], "2999-01-01")
    appeals.file_objection(store, published["siming"], published["pub"], "method", "一个方法问题", clock=BEFORE)
    counts = copy_store(store, Store(tmp_path / "copy.db"))
    assert counts["objections"] == 1 and counts["appeal_windows"] == 1


@pytest.mark.app
def test_the_liaison_lands_on_the_appeals_page_and_has_no_other(store, published):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT
    from ui.registry import PAGES, pages_for
    assert [p.path for p in pages_for("liaison")] == ["app_pages/appeals.py"]
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["account"] = published["siming"]
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "区级结果与申诉"
    shown = " ".join(str(df.value.to_dict()) for df in at.dataframe)
    assert "思明区" in shown and "湖里区" not in shown
    for spec in PAGES:
        if spec.path != "app_pages/appeals.py":
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(spec.path)


def test_the_cli_sets_the_deadline_files_lists_and_decides_with_the_rights_of_by(store, published, capsys):
    from survey.cli import main
    pub = str(published["pub"])
    assert main(["appeals", "file", pub, "--by", "siming", "--kind", "method", "--reason", "加权变量有误"]) == 2
    assert "未设置申诉期" in capsys.readouterr().err
    assert main(["appeals", "deadline", pub, "--until", "2999-01-01", "--by", "siming"]) == 2
    assert main(["appeals", "deadline", pub, "--until", "2999-01-01", "--by", "ana"]) == 0
    ids = ",".join(own(store, "思明区", 2))
    assert main(["appeals", "file", pub, "--by", "siming", "--responses", ids, "--reason", "不是本区常住居民"]) == 0
    assert main(["appeals", "file", pub, "--by", "siming", "--responses", own(store, "湖里区", 1)[0],
                 "--reason", "不是本区常住居民"]) == 2
    assert "不是思明区在轮次 2025 的问卷" in capsys.readouterr().err
    assert main(["appeals", "list", "--by", "huli"]) == 0
    assert capsys.readouterr().out.count("\n") == 1  # the header only: another unit's objection is not listed
    assert main(["appeals", "decide", "1", "--uphold", "--reason", "核实属实", "--by", "siming"]) == 2
    assert main(["appeals", "decide", "1", "--uphold", "--reason", "核实属实", "--by", "ana"]) == 0
    assert "objection #1: upheld; 2 response(s) excluded; new publication #2" in capsys.readouterr().out
