"""Staff login in a real browser (issue 15, defect 8): it survives F5, ends after the idle timeout and on logout.

chromium against `streamlit run server.py` (the app plus its login-cookie route). The idle
timeout is tried on a fixed clock: the session's last activity is moved 31 minutes back
in the store, then the next action must ask to log in again.
"""
from __future__ import annotations

import datetime as dt

import pytest

from tests.browser_support import require_browser
from tools import web_driver as wd

pytestmark = pytest.mark.browser

sync_playwright = require_browser()

ADMIN_PASSWORD = "admin-pass-123"  # tools/web_driver.server sets it


def ready(page) -> None:
    wd.wait_script_done(page)


def log_in(page) -> None:
    page.get_by_label("用户名", exact=True).fill("admin")
    page.get_by_label("密码", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("当前用户：系统管理员").wait_for(timeout=30_000)
    ready(page)


def session_cookie(context) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == "survey_session"), None)


def wait_cookie(page, context, present: bool) -> dict | None:
    for _ in range(100):
        cookie = session_cookie(context)
        if (cookie is not None) == present:
            return cookie
        page.wait_for_timeout(100)
    raise AssertionError(f"session cookie {'never set' if present else 'not cleared'}")


def test_login_survives_reload_then_ends_when_idle_and_on_logout(tmp_path, monkeypatch):
    from survey.bootstrap import init_store
    from survey.store import Store
    db = tmp_path / "survey.db"
    monkeypatch.setenv("SURVEY_ADMIN_PASSWORD", ADMIN_PASSWORD)
    init_store(db).store.close()
    with wd.server(db, script="server.py") as base, sync_playwright() as pw:
        browser = wd.launch(pw)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(base)
        page.get_by_role("button", name="登录", exact=True).wait_for(timeout=30_000)
        log_in(page)
        cookie = wait_cookie(page, context, True)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert "survey_session" not in page.evaluate("document.cookie")  # page scripts cannot read it

        page.reload()  # F5
        page.get_by_text("当前用户：系统管理员").wait_for(timeout=30_000)
        ready(page)
        assert page.get_by_role("button", name="登录", exact=True).count() == 0

        # 31 minutes without an action (the clock moved in the store), then an action
        store = Store(db)
        past = (dt.datetime.now() - dt.timedelta(minutes=31)).isoformat(timespec="seconds")
        store.db.execute("UPDATE login_sessions SET last_seen = ? WHERE revoked_at IS NULL", [past])
        page.get_by_role("link", name="调查轮次").first.click()
        page.get_by_text("您已超过 30 分钟未操作，请重新登录。").wait_for(timeout=30_000)
        assert page.get_by_role("button", name="登录", exact=True).count() == 1
        page.reload()  # the old cookie opens nothing any more
        page.get_by_role("button", name="登录", exact=True).wait_for(timeout=30_000)
        ready(page)
        assert page.get_by_text("当前用户").count() == 0

        # logout revokes the session and clears the cookie
        log_in(page)
        wait_cookie(page, context, True)
        page.get_by_role("button", name="退出登录").click()
        page.get_by_role("button", name="登录", exact=True).wait_for(timeout=30_000)
        wait_cookie(page, context, False)
        page.reload()
        page.get_by_role("button", name="登录", exact=True).wait_for(timeout=30_000)
        ready(page)
        assert page.get_by_text("当前用户").count() == 0
        reasons = [r["revoked_reason"] for r in store.db.query("SELECT revoked_reason FROM login_sessions ORDER BY created_at")]
        assert sorted(reasons) == ["idle", "logout"]
        browser.close()
