"""The resident web survey in a real browser: chromium at 390×844 against `streamlit run`.

One server per module on a fresh store; its first browser visit is /survey, because
residents arriving by a shared link are often the first visitors after a restart.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser_support import no_exception, require_browser
from tools import web_driver as wd

pytestmark = pytest.mark.browser

sync_playwright = require_browser()


@dataclass
class Site:
    base: str
    db: Path
    tokens: list[str]
    link: str
    closed_link: str
    browser: object
    first_visit_text: str
    first_visit_dialogs: list[str]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from survey import webform
    from survey.auth import SYSTEM
    from survey.bootstrap import init_store
    db = tmp_path_factory.mktemp("web") / "survey.db"
    store = init_store(db).store
    _, tokens = webform.generate_tokens(store, SYSTEM, "2025", "思明区", 5)
    link = webform.create_link(store, SYSTEM, "2025", "湖里区")
    store.add_wave("2019", "default-2025", ["思明区"], "admin", opens_at="2019-10-01", closes_at="2020-01-31")
    closed_link = webform.create_link(store, SYSTEM, "2019", "思明区")
    store.close()
    with wd.server(db) as base, sync_playwright() as pw:
        browser = wd.launch(pw)
        # the very first visit of this server: a resident's invitation link
        ctx = wd.phone_context(browser)
        page = ctx.new_page()
        page.goto(f"{base}/survey?t={tokens[0]}")
        wd.wait_ready(page)
        page.wait_for_timeout(1500)  # the dialog, when it comes, follows the first render
        dialogs = [d.inner_text() for d in page.locator('[role="dialog"]').all()]
        text = page.inner_text("body")
        ctx.close()
        yield Site(base, db, tokens, link, closed_link, browser, text, dialogs)
        browser.close()


@pytest.fixture
def phone(site):
    ctx = wd.phone_context(site.browser)
    page = ctx.new_page()
    yield page
    ctx.close()


def open_page(page, site: Site, query: str) -> None:
    page.goto(f"{site.base}/survey?{query}")
    wd.wait_ready(page)


def stored(site: Site):
    from survey.store import Store
    return Store(site.db)


def test_first_visit_to_survey_after_start_shows_no_page_not_found(site):
    assert "Page not found" not in site.first_visit_text and not site.first_visit_dialogs
    assert "生态环境公众满意度调查" in site.first_visit_text and "大约需要 3 分钟" in site.first_visit_text


def test_resident_fills_and_submits_once_on_a_phone(site, phone):
    token = site.tokens[1]
    before = stored(site).count_responses("2025")
    open_page(phone, site, f"t={token}")
    assert phone.viewport_size == {"width": 390, "height": 844}
    wd.start(phone)
    assert wd.progress(phone) == "第 1 / 9 页"
    wd.fill_until_last(phone)
    phone.get_by_role("textbox").first.fill("希望多种树")
    phone.get_by_role("button", name="提交问卷").dblclick()  # an impatient double tap
    phone.get_by_text("提交成功").wait_for(timeout=30_000)
    store = stored(site)
    rows = [r for r in store.responses("2025") if r["submit_key"] == f"web:t:{token}"]
    assert len(rows) == 1 and store.count_responses("2025") == before + 1
    row = rows[0]
    assert (row["mode"], row["unit"], row["answers"]["sea"], row["answers"]["comment"]) == ("web", "思明区", 9, "希望多种树")
    assert row["answers"]["sex"] == "女" and row["paradata"]["device_type"] == "phone"
    assert row["duration_s"] is not None and row["paradata"]["started_at"] <= row["submitted_at"]
    assert store.web_token(token)["response_id"] == row["response_id"]


def test_used_token_is_refused_with_a_message(site, phone):
    token = site.tokens[2]
    store = stored(site)
    from survey import webform
    draft = webform.open_survey(store, webform.Visitor("e" * 32, "10.1.1.1"), token=token)
    from tests.conftest import complete_answers
    webform.submit(store, draft.draft_id, complete_answers(), webform.Visitor("e" * 32, "10.1.1.1"))
    open_page(phone, site, f"t={token}")
    assert "该邀请码已经提交过问卷" in phone.inner_text("body")
    assert phone.get_by_role("button", name="开始答题").count() == 0


def test_closed_wave_shows_the_closed_message(site, phone):
    open_page(phone, site, f"l={site.closed_link}")
    assert "本次调查已于 2020-01-31 结束" in phone.inner_text("body")
    assert phone.get_by_role("button", name="开始答题").count() == 0


def test_reload_mid_survey_resumes_on_the_same_device(site, phone):
    open_page(phone, site, f"l={site.link}")
    wd.start(phone)
    wd.answer_screen(phone)
    wd.next_screen(phone)
    wd.answer_screen(phone)
    assert wd.next_screen(phone) == "第 3 / 9 页"
    phone.reload()
    wd.wait_ready(phone)
    assert wd.progress(phone) == "第 3 / 9 页"  # back where the resident was, by the device cookie
    assert wd.back_screen(phone) == "第 2 / 9 页"
    checked = phone.locator('[role="radiogroup"] input:checked')
    assert checked.count() == 2  # the earlier answers are still there
    store = stored(site)
    drafts = store.query("SELECT resumes, link FROM web_drafts WHERE link = ?", [site.link])
    assert len(drafts) == 1 and drafts[0]["resumes"] == 1


def test_ineligible_resident_ends_politely_and_english_is_offered(site, phone):
    open_page(phone, site, f"t={site.tokens[3]}")
    phone.get_by_role("button", name="English").click()
    phone.get_by_text("It takes about 3 minutes.").wait_for(timeout=30_000)
    assert "anonymous" in phone.inner_text("body")
    phone.get_by_role("button", name="中文").click()
    phone.get_by_text("大约需要 3 分钟。").wait_for(timeout=30_000)
    wd.start(phone)
    phone.locator('[role="radiogroup"]').nth(0).get_by_text("否", exact=True).click()
    wd.wait_ready(phone)
    phone.locator('[role="radiogroup"]').nth(1).get_by_text("是", exact=True).click()
    wd.wait_ready(phone)
    phone.get_by_role("button", name="下一页").click()
    phone.get_by_text("本次调查的对象是年满18周岁").wait_for(timeout=30_000)
    assert stored(site).web_draft(f"t:{site.tokens[3]}")["status"] == "ineligible"
    no_exception(phone)


def test_language_switch_mid_screen_keeps_the_answers_as_codes(site, phone):
    token = site.tokens[4]
    open_page(phone, site, f"t={token}")
    wd.start(phone)
    wd.answer_screen(phone)
    wd.next_screen(phone)  # the first items screen: air and water
    groups = phone.locator('[role="radiogroup"]')
    groups.nth(0).get_by_text("一般", exact=True).click()
    wd.wait_ready(phone)
    phone.get_by_role("button", name="English").click()
    phone.get_by_text("Neutral").first.wait_for(timeout=30_000)
    wd.wait_ready(phone)
    assert phone.locator('[role="radiogroup"]').nth(0).locator("input:checked").count() == 1
    phone.get_by_role("button", name="Next").click()
    # stops on this screen, naming the unanswered water item
    phone.get_by_text("Please answer first").wait_for(timeout=30_000)
    wd.wait_ready(phone)
    draft = stored(site).web_draft(f"t:{token}")
    assert draft["step"] == 2 and draft["answers"].get("air") in (None, 3)
    phone.locator('[role="radiogroup"]').nth(1).get_by_text("Satisfied", exact=True).click()
    wd.wait_ready(phone)
    assert wd.next_screen(phone, "Next") == "Page 3 of 9"
    draft = stored(site).web_draft(f"t:{token}")
    assert draft["step"] == 3 and draft["answers"]["air"] == 3 and draft["answers"]["water"] == 5
    no_exception(phone)
