"""What the browser tests need: Playwright and Debian's chromium."""
from __future__ import annotations

import os
from typing import Any

import pytest

from tools import web_driver as wd


def require_browser() -> Any:
    """Playwright's sync_playwright; the module is skipped where it or chromium is missing —
    except under CI=true, where the browser journeys must run and a missing browser fails."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the machine
        sync_playwright = None
    if sync_playwright is not None and os.path.exists(wd.CHROMIUM):
        return sync_playwright
    message = "needs the playwright package and /usr/bin/chromium"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {message}; browser journeys must run", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    """Open the app and log in as a staff account; returns when the landing page has run."""
    page.goto(base)
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("当前用户：").first.wait_for(timeout=30_000)
    wd.wait_script_done(page)


def go(page: Any, title: str, heading: str | None = None) -> None:
    """Open a page from the sidebar by its title and wait until it has run (shows `heading`, or the title)."""
    page.get_by_role("link", name=title).first.click()
    page.get_by_role("heading", name=heading or title).first.wait_for(timeout=30_000)
    wd.wait_script_done(page)


def pick(page: Any, label: str, option: str, within: Any = None) -> None:
    """Choose an option of a selectbox found by its label (typing narrows long lists)."""
    box = (within or page).locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option).first.click()
    wd.wait_script_done(page)


def no_exception(page: Any) -> None:
    """Fail on any Streamlit exception element (a traceback shown to the user)."""
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
