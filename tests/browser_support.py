"""What the browser tests need: Playwright and Debian's chromium."""
from __future__ import annotations

import os
from typing import Any

import pytest

from tools import web_driver as wd
from tools.web_driver import go, pick, sign_in  # noqa: F401  (the staff pages' steps, shared with tools/)


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


def no_exception(page: Any) -> None:
    """Fail on any Streamlit exception element (a traceback shown to the user)."""
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
