"""AppTests of the web survey pages (the browser tests walk the same pages in chromium)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from survey import webform
from survey.auth import SYSTEM, load_account
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")


def test_no_pages_folder_next_to_the_main_script():
    """A `pages/` folder makes Streamlit answer a first visit to /survey with "Page not found"
    (old multipage mode for the first session); page files belong in app_pages/."""
    assert not (ROOT / "pages").exists(), "move page files from pages/ to app_pages/ (see streamlit_app.py)"


def survey_as_guest(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page("app_pages/web_survey.py").run()
    return at


@pytest.mark.app
def test_anonymous_visitor_without_code_is_told_how_to_open(store):
    at = survey_as_guest({})
    assert not at.exception, at.exception
    assert "请通过调查邀请中的链接或二维码打开问卷" in at.warning[0].value


@pytest.mark.app
def test_invitation_opens_intro_then_screening(store):
    _, [token] = webform.generate_tokens(store, SYSTEM, "2025", "集美区", 1)
    at = survey_as_guest({"t": token})
    assert not at.exception, at.exception
    assert "集美区" in at.markdown[0].value or any("集美区" in m.value for m in at.markdown)
    assert at.button(key="web_next").disabled
    at.checkbox(key="web_consent").check().run()
    at.button(key="web_next").click().run()
    assert [r.label for r in at.radio] == ["请问您是否年满18周岁？", "请问您在本区居住是否已满6个月？"]
    at.button(key="web_next").click().run()
    assert "请先回答" in at.error[0].value
    assert store.web_draft(f"t:{token}")["step"] == 1


@pytest.mark.app
def test_admin_generates_tokens_and_links(store, accounts):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["account"] = load_account(store, "admin")
    at.run()
    at.switch_page("app_pages/admin_web.py").run()
    assert not at.exception, at.exception
    at.text_input(key="webadm_base").input("https://survey.example.cn").run()
    at.number_input[0].set_value(7)
    at.button(key="webadm_generate").click().run()
    assert not at.exception, at.exception
    assert any("已生成 7 个邀请码" in s.value for s in at.success)
    assert len(store.web_tokens("2025")) == 7
    at.button(key="webadm_link").click().run()
    assert any("https://survey.example.cn/survey?l=" in s.value for s in at.success)
    assert len(store.web_links("2025")) == 1
    # the public address is a wave setting: a new session (or another admin) finds it again
    again = AppTest.from_file(APP, default_timeout=60)
    again.session_state["account"] = load_account(store, "admin")
    again.run()
    again.switch_page("app_pages/admin_web.py").run()
    assert again.text_input(key="webadm_base").value == "https://survey.example.cn"
    again.text_input(key="webadm_base").input("javascript:alert(1)").run()
    assert "http://" in again.error[0].value and webform.public_url(store.wave("2025")) == "https://survey.example.cn"


@pytest.mark.app
def test_language_switch_keeps_the_screens_answers_as_codes(store):
    _, [token] = webform.generate_tokens(store, SYSTEM, "2025", "集美区", 1)
    at = survey_as_guest({"t": token})
    at.checkbox(key="web_consent").check().run()
    at.button(key="web_next").click().run()
    at.radio(key="q_web_age18").set_value(1)
    at.radio(key="q_web_resident").set_value(1)
    at.run()
    at.button(key="web_next").click().run()
    at.radio(key="q_web_air").set_value(3).run()
    at.button(key="web_lang").click().run()
    assert not at.exception
    assert at.radio(key="q_web_air").options[2] == "Neutral" and at.radio(key="q_web_air").value == 3
    # validation stops here, on the screen that lacks an answer (water), in the chosen language
    at.button(key="web_next").click().run()
    assert not at.exception and "water" in at.error[0].value.lower()
    assert store.web_draft(f"t:{token}")["step"] == 2
    at.radio(key="q_web_water").set_value(5).run()
    at.button(key="web_lang").click().run()
    assert at.radio(key="q_web_air").value == 3 and at.radio(key="q_web_water").value == 5
    at.button(key="web_next").click().run()
    assert not at.exception and not at.error
    saved = store.web_draft(f"t:{token}")
    assert saved["step"] == 3 and saved["answers"]["air"] == 3 and saved["answers"]["water"] == 5
