"""Streamlit AppTest: login, pages by role, a phone interview stored once."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from survey.auth import load_account
from tests.conftest import PASSWORD, ROOT
from ui.registry import PAGES, pages_for

pytestmark = pytest.mark.app
APP = str(ROOT / "streamlit_app.py")


def app_as(store, username: str | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if username:
        at.session_state["account"] = load_account(store, username)
    return at.run()


def test_login_form_logs_in(store, accounts):
    at = app_as(store, None)
    assert at.title[0].value == "公众满意度调查平台"
    at.text_input[0].input("p1")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert at.session_state["account"].username == "p1"
    assert at.title[0].value == "电话访问"


def test_wrong_password_shows_an_error(store, accounts):
    at = app_as(store, None)
    at.text_input[0].input("p1")
    at.text_input[1].input("nope")
    at.button[0].click().run()
    assert "登录失败" in at.error[0].value
    assert "account" not in at.session_state


@pytest.mark.parametrize("username,role", [("p1", "pollster"), ("sup", "supervisor"), ("ana", "analyst"),
                                           ("admin", "admin")])
def test_each_role_sees_only_its_pages(store, accounts, username, role):
    allowed = {p.path for p in pages_for(role)}
    assert allowed
    for spec in PAGES:
        at = app_as(store, username)  # fresh session: registrations of one run only
        assert not at.exception
        if spec.path in allowed:
            at.switch_page(spec.path).run()
            assert not at.exception, (spec.path, at.exception)
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(spec.path)


def test_pollster_submits_an_interview_stored_once(store, accounts):
    at = app_as(store, "p1")
    at.radio[0].set_value("是")
    at.radio[1].set_value("是")
    at.run()
    from tests.test_cati_app import answer_everything
    answer_everything(at)  # section by section: the second option of every question
    at.button(key="phone_submit").click().run()
    assert "问卷已保存" in at.success[0].value
    stored = store.responses("2025")
    assert len(stored) == 1 and stored[0]["interviewer"] == "p1" and stored[0]["mode"] == "phone"
    assert stored[0]["answers"]["air"] == 4 and stored[0]["duration_s"] is not None
    # a second click of the same submission (e.g. after a lost response) stores nothing new
    from survey.responses import submit_interview
    again = submit_interview(store, accounts["p1"], "2025", unit=stored[0]["unit"], mode="phone",
                             answers=stored[0]["answers"], submit_key=at.session_state["phone_key"])
    assert not again.created and store.count_responses("2025") == 1


def test_missing_answers_are_named_not_stored(store, accounts):
    at = app_as(store, "p1")
    at.radio[0].set_value("是")
    at.radio[1].set_value("是")
    at.run()
    at.segmented_control(key="phone_step").set_value("demographics").run()  # straight to the submit
    at.button(key="phone_submit").click().run()
    assert "还有未完成的问题" in at.error[0].value and "空气质量" in at.error[0].value
    assert at.segmented_control(key="phone_step").value == "items"  # the first unanswered one's section
    assert store.count_responses("2025") == 0


def test_ineligible_respondent_ends_the_interview(store, accounts):
    at = app_as(store, "p1")
    at.radio[0].set_value("否")
    at.radio[1].set_value("是")
    at.run()
    assert "不符合条件" in at.warning[0].value
    assert "phone_submit" not in [b.key for b in at.button]


def test_analyst_overview_counts_by_unit_and_mode(store, accounts):
    from survey.demo import store_demo
    store_demo(store, "2025", 120, 5)
    at = app_as(store, "ana")
    assert at.title[0].value == "样本概况"
    table = at.dataframe[0].value
    assert table.loc["合计", "合计"] == 120


def test_analysis_page_shows_scores_and_publishes(store, accounts):
    from survey.demo import store_demo
    store_demo(store, "2025", 1500, 9)
    at = app_as(store, "ana")
    at.switch_page("app_pages/analysis.py").run()
    assert not at.exception, at.exception
    scores = at.dataframe[0].value
    assert list(scores.columns[:3]) == ["排名", "区", "得分"] and len(scores) == 6
    assert sorted(scores["排名"]) == [1, 2, 3, 4, 5, 6]
    # the page's figures are the CLI's: same function, same inputs
    from analysis.io import read_population
    from analysis.scoring import load_config
    from survey import publishing
    from survey.config import POPULATION_DIR, SCORING_DIR
    run = publishing.compute_for_wave(store, accounts["ana"], "2025",
                                      read_population(POPULATION_DIR / "xiamen-2020.csv"),
                                      load_config(SCORING_DIR / "default.yaml"))
    assert scores["得分"].tolist() == run.scores["points"].tolist()
    assert at.button(key="publish_score").disabled  # confirm first
    at.checkbox(key="publish_sure").check().run()
    at.button(key="publish_score").click().run()
    assert "已发布" in at.success[0].value
    assert "publish_score" not in [b.key for b in at.button] and "不会重复发布" in at.info[-1].value
    assert len(store.published_scores("2025")) == 1
    at.button(key="verify_1").click().run()
    assert any("完好" in s.value for s in at.success)


def test_new_account_form_keeps_fields_on_error_answers_in_chinese_and_defaults_to_pollster(store, accounts):
    at = app_as(store, "admin")
    at.switch_page("app_pages/admin_accounts.py").run()
    assert at.selectbox(key="new_role").value == "pollster"
    at.text_input(key="new_username").input("zhang3")
    at.text_input(key="new_name").input("张三")
    at.text_input(key="new_password").input("long-enough-1")
    at.button[0].click().run()  # no firm for a pollster
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "所属调查公司" in errors and "--firm" not in errors and "give" not in errors
    assert at.text_input(key="new_username").value == "zhang3" and at.text_input(key="new_name").value == "张三"
    assert load_account(store, "zhang3") is None
    at.text_input(key="new_firm").input("A")
    at.button[0].click().run()
    assert any("zhang3 已创建" in s.value for s in at.success), [e.value for e in at.error]
    assert at.text_input(key="new_username").value == ""
    assert "role" not in at.dataframe[0].value.columns and "访问员" in set(at.dataframe[0].value["角色"])
    assert load_account(store, "zhang3").firm == "A"
