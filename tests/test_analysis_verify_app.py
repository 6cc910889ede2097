"""The analysis page's 重新计算核对 (verify) button is `survey verify` for one publication (issue 16, finding 5).

It recomputes the publication from its own snapshot (the responses it scored, its stored
config and population) and walks the chains, as the CLI does; today's data are reported
apart. Before, the button recomputed from today's data only, so a later exclusion read as
a broken publication and a tampered audit row went unnoticed.
"""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from survey.auth import load_account
from tests.conftest import ROOT

pytestmark = pytest.mark.app
APP = str(ROOT / "streamlit_app.py")


def published_page(store):
    from survey.demo import store_demo
    store_demo(store, "2025", 300, 3)
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["account"] = load_account(store, "ana")
    at.run()
    at.switch_page("app_pages/analysis.py").run()
    assert not at.exception, at.exception
    at.checkbox(key="publish_sure").check().run()
    at.button(key="publish_score").click().run()
    assert len(store.published_scores("2025")) == 1
    return at


def verify(at) -> tuple[str, str, str]:
    at.button(key="verify_1").click().run()
    assert not at.exception, at.exception
    def shown(elements) -> str:  # the text as read: Markdown escapes (\\#) removed
        return " ".join(e.value.replace("\\", "") for e in elements)
    return shown(at.success), shown(at.error), shown(at.warning) + shown(at.info)


def cli_verify(capsys) -> int:
    from survey.cli import main
    code = main(["verify"])
    capsys.readouterr()
    return code


def test_an_exclusion_since_leaves_the_publication_intact_and_is_reported_as_todays_difference(
        store, accounts, capsys):
    from survey.responses import set_excluded
    at = published_page(store)
    ok, bad, today = verify(at)
    assert "发布 #1 完好" in ok and not bad and "结果也与发布一致" in today
    pub = store.published_score(1)
    rid = sorted(pub["snapshot"]["response_ids"])[0]
    set_excluded(store, accounts["ana"], rid, True, "复核不合格")
    ok, bad, today = verify(at)
    assert "发布 #1 完好" in ok and not bad          # the snapshot still recomputes, as `survey verify` says
    assert cli_verify(capsys) == 0
    assert "结果与发布不同" in today and "有 1 份现已剔除或不再计入" in today


def test_an_edited_response_of_the_snapshot_fails_as_in_the_cli_and_is_named(store, accounts, capsys):
    at = published_page(store)
    pub = store.published_score(1)
    rid = sorted(pub["snapshot"]["response_ids"])[3]
    answers = store.response(rid)["answers"]
    flipped = {k: (1 if answers.get(k) in (4, 5) else 5) for k in ("air", "water", "noise", "waste", "overall")}
    store.edit_response(rid, flipped, "ana", "录入错误")
    ok, bad, today = verify(at)
    assert not ok and "发布 #1 核验未通过" in bad and "发布时使用的答卷已改变" in bad
    assert cli_verify(capsys) == 1
    assert "有 1 份被修改过" in today and rid in today


def test_a_row_changed_behind_the_apps_back_is_detected(store, accounts, capsys):
    at = published_page(store)
    assert "完好" in verify(at)[0]
    # someone with the file rewrites an audit row (the trigger dropped first)
    on = " ON audit" if store.dialect == "postgresql" else ""
    store.db.execute(f"DROP TRIGGER audit_no_update{on}")
    victim = store.db.scalar("SELECT min(id) FROM audit")
    store.db.execute("UPDATE audit SET detail = ? WHERE id = ?", [json.dumps({"x": 1}), victim])
    ok, bad, _ = verify(at)
    assert not ok and f"audit 链断裂：第 {victim} 行内容已被改动" in bad
    assert cli_verify(capsys) == 1


def test_the_page_scores_an_edited_response_anew(store, accounts):
    """The page's cached score is keyed on the wave's data: an edit (same counts) must be seen."""
    at = published_page(store)
    def result_line() -> str:  # the record line under the scores: … · 结果哈希 <hash[:8]>
        return next(c.value for c in at.caption if "结果哈希" in c.value)
    before = result_line()
    assert store.published_score(1)["result_hash"][:8] in before
    rid = sorted(store.published_score(1)["snapshot"]["response_ids"])[3]
    answers = store.response(rid)["answers"]
    flipped = {k: (1 if answers.get(k) in (4, 5) else 5) for k in ("air", "water", "noise", "waste", "overall")}
    store.edit_response(rid, flipped, "ana", "录入错误")
    at.run()
    assert not at.exception, at.exception
    assert store.published_score(1)["result_hash"][:8] not in result_line()
