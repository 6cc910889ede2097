"""Time every page of every role, and a resident's taps, on a demo store, the way a user waits.

    SURVEY_DB=/tmp/times/survey.db python -m survey demo --n 2000 --seed 1
    python tools/page_times.py --store /tmp/times/survey.db [--repeat 2]

For each demo account (admin, P01, supervisor, reviewer, analyst, liaison) chromium signs in
and opens each page of its sidebar in turn; a page's time runs from the click on its link to
the end of its script run with nothing stale left on screen (what a user waits for before
the page can be used). Each page is opened `--repeat` times and the last time is kept (the
first visit of a server process also pays for imports). Then a resident opens the web survey
by an open link and answers the first screens: the time of each tap (a radio clicked until
its run ends) is printed as median and maximum. Prints a table; changes only what a visit
writes (login sessions, the resident's draft).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools import web_driver as wd  # noqa: E402

DESKTOP = {"width": 1366, "height": 768}
ROLES = (("admin", "admin-pass-123"), ("P01", "demo-2025"), ("supervisor", "demo-2025"),
         ("reviewer", "demo-2025"), ("analyst", "demo-2025"), ("liaison", "demo-2025"))
NAV_LINKS = '[data-testid="stSidebarNav"] a'


def page_titles(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(NAV_LINKS).all_inner_texts() if t.strip()]


def started_run(page: Any) -> None:
    """Wait until the click's script run has begun (a very fast one may have ended already)."""
    try:
        page.wait_for_function("() => document.querySelector('[data-testid=\"stApp\"]')"
                               ".getAttribute('data-test-script-state') === 'running'", timeout=2_000)
    except PlaywrightTimeout:
        pass


def open_page(page: Any, title: str) -> float:
    """Seconds from the click on the page's link to the end of its run."""
    started = time.perf_counter()
    page.locator(NAV_LINKS).filter(has_text=title).first.click()
    started_run(page)
    wd.wait_script_done(page, timeout=120_000)
    return time.perf_counter() - started


def role_times(browser: Any, base: str, username: str, password: str, repeat: int) -> list[tuple[str, str, float]]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    wd.sign_in(page, base, username, password)
    rows = []
    for title in page_titles(page):
        seconds = [open_page(page, title) for _ in range(repeat)]
        rows.append((username, title, seconds[-1]))
    context.close()
    return rows


def tap_times(browser: Any, base: str, link: str) -> list[float]:
    """A resident on a phone: the time of each answer tap on the first screens of the web survey."""
    context = wd.phone_context(browser)
    page = context.new_page()
    page.goto(f"{base}/survey?l={link}")
    wd.wait_ready(page, timeout=60_000)
    wd.start(page)
    from survey.questionnaire import load_shipped
    qn = load_shipped("default-2025")
    taps = []
    for _ in range(3):  # screening, then two screens of ratings
        for q in qn.questions:
            widget = page.locator('[data-testid="stRadio"]').filter(has_text=q.text)
            if q.id in wd.ANSWERS and widget.count():
                started = time.perf_counter()
                widget.first.get_by_text(wd.ANSWERS[q.id], exact=True).first.click()
                started_run(page)
                wd.wait_ready(page)
                taps.append(time.perf_counter() - started)
        wd.next_screen(page)
    context.close()
    return taps


def open_link(db: Path) -> str:
    from survey import webform
    from survey.auth import SYSTEM
    from survey.bootstrap import open_store
    return webform.create_link(open_store(db), SYSTEM, "2025", "思明区")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True, help="a demo store (python -m survey demo)")
    ap.add_argument("--repeat", type=int, default=2, help="visits per page; the last is kept")
    args = ap.parse_args()
    db = Path(args.store)
    link = open_link(db)
    with wd.server(db) as base, sync_playwright() as pw:
        browser = wd.launch(pw)
        rows = [row for username, password in ROLES for row in role_times(browser, base, username, password,
                                                                          args.repeat)]
        taps = tap_times(browser, base, link)
        browser.close()
    for username, title, seconds in rows:
        print(f"{username:<11} {title:<14} {seconds:6.2f} s")
    times = [s for _, _, s in rows]
    print(f"{len(rows)} page visits: median {statistics.median(times):.2f} s, max {max(times):.2f} s")
    print(f"resident web survey, {len(taps)} taps: median {statistics.median(taps):.2f} s, max {max(taps):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
