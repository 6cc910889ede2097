"""Issue 16 on the pages: no traceback reaches a user, user text is never Markdown, each page checks its role."""
from __future__ import annotations

import tomllib

import pytest

from survey import quality
from survey.auth import SYSTEM
from survey.bootstrap import questionnaire_for_wave
from survey.responses import build_record
from tests.conftest import ROOT, complete_answers
from tests.test_app import app_as

pytestmark = pytest.mark.app

LINK = "[点此核实](http://evil.example/x)"
IMAGE = "![x](http://evil.example/i.png)"


def test_streamlit_config_hides_error_details_and_limits_uploads():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["maxUploadSize"] == 50


def test_a_page_error_shows_a_chinese_message_with_a_reference(store, accounts, monkeypatch, caplog):
    import survey.responses

    def broken(*a, **k):
        raise RuntimeError("/secret/server/path exploded")
    monkeypatch.setattr(survey.responses, "visible_responses", broken)
    at = app_as(store, "ana")
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception
    message = at.error[0].value
    assert "参考编号" in message and "/secret" not in message
    ref = message.split("参考编号 ")[1].split(" ")[0]
    assert any(ref in r.getMessage() and r.exc_info for r in caplog.records)


def test_review_page_shows_ids_and_names_as_plain_text(store, accounts):
    wave, qn = store.wave("2025"), questionnaire_for_wave(store, "2025")
    record = build_record(qn, wave, unit="思明区", mode="phone", answers=complete_answers(), submit_key="s:x",
                          source="test", interviewer=IMAGE, firm="A", duration_s=5.0, response_id=LINK,
                          submitted_at="2025-10-08T10:00:00")
    store.insert_responses([record], "test")
    quality.run_qc(store, SYSTEM, "2025")
    at = app_as(store, "admin")
    at.switch_page("app_pages/review.py").run()
    assert not at.exception
    rendered = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success")
                for e in getattr(at, kind)]
    for body in rendered:
        assert "](http" not in body, body  # no live link, no fetched image
    assert any(LINK in e.value for e in at.text)


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "app_pages").glob("*.py")
                                         if p.name != "web_survey.py"))  # /survey is public
def test_each_page_checks_its_role_itself(page):
    source = (ROOT / "app_pages" / page).read_text(encoding="utf-8")
    assert "session.page_account(__file__" in source
    assert "require_account()" not in source


def test_page_refuses_a_role_that_reaches_it_without_the_menu(store, accounts, monkeypatch):
    # a pollster whose menu (navigation) wrongly lists the accounts page still gets refused by the page
    import ui.registry as registry
    from ui.registry import PageSpec
    monkeypatch.setattr(registry, "PAGES", registry.PAGES + (
        PageSpec("app_pages/admin_accounts.py", "nav.accounts", ":material/lock:", ("pollster",), "sneak"),))
    monkeypatch.setattr(registry, "roles_for_page", lambda f: ("admin",))
    at = app_as(store, "p1")
    at.switch_page("app_pages/admin_accounts.py").run()
    assert not at.exception
    assert "没有打开此页面的权限" in at.error[0].value


@pytest.mark.parametrize("content", [b"name: [unclosed", "名称: 满意度".encode("gbk")])
def test_bad_yaml_uploaded_on_the_analysis_page_is_a_message(store, accounts, content):
    from survey.demo import ensure_demo_accounts, store_demo
    ensure_demo_accounts(store, "2025", "demo-2025")
    store_demo(store, "2025", 30, 1)
    at = app_as(store, "ana")
    at.switch_page("app_pages/analysis.py").run()
    from survey.i18n import t
    next(s for s in at.selectbox if s.label == t("analysis.config")).set_value("__upload__").run()
    uploader = at.file_uploader[len(at.file_uploader) - 1]
    uploader.set_value(("bad.yaml", content, "application/x-yaml")).run()
    assert not at.exception, at.exception
    assert any("bad.yaml" in e.value for e in at.error)
