"""Time every page of every role, and a resident's taps, on a demo store, the way a user waits.

    SURVEY_DB=/tmp/times/survey.db python -m survey demo --n 2000 --seed 1
    python tools/page_times.py --store /tmp/times/survey.db [--repeat 2]

For each demo account (admin, P01, supervisor, reviewer, analyst, liaison) chromium signs in
and opens each page of its sidebar in turn (a role with one page has no sidebar menu: its
landing page is the sign-in's time); a page's time runs from the click on its link to
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
    """The sidebar's page titles (a link's text is its icon's name, then the title)."""
    return [t.strip().splitlines()[-1].strip() for t in page.locator(NAV_LINKS).all_inner_texts() if t.strip()]


WATCH = """() => { const app = document.querySelector('[data-testid="stApp"]');
    if (window.__watch) window.__watch.disconnect();
    window.__ran = false;
    window.__watch = new MutationObserver(() => {
        if (app.getAttribute('data-test-script-state') === 'running') window.__ran = true; });
    window.__watch.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }"""
RAN = """() => { const app = document.querySelector('[data-testid="stApp"]');
    return window.__ran && app.getAttribute('data-test-script-state') === 'notRunning'
           && !document.querySelector('[data-stale="true"]'); }"""


def timed(page: Any, act: Any) -> float | None:
    """Seconds from `act()` (a click) to the end of the script run it caused, nothing stale left.

    A watcher set before the click sees the run start however short it is."""
    page.evaluate(WATCH)
    started = time.perf_counter()
    act()
    try:
        page.wait_for_function("() => window.__ran", timeout=5_000)
    except PlaywrightTimeout:
        return None  # no run: the link of the page already shown
    page.wait_for_function(RAN, timeout=120_000)
    return time.perf_counter() - started


def open_page(page: Any, title: str) -> float | None:
    return timed(page, page.locator(NAV_LINKS).filter(has_text=title).first.click)


def role_times(browser: Any, base: str, username: str, password: str, repeat: int) -> list[tuple[str, str, float]]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    started = time.perf_counter()
    wd.sign_in(page, base, username, password)
    rows = [(username, "(sign-in, landing page)", time.perf_counter() - started)]
    titles = page_titles(page)
    kept: dict[str, float] = {}
    for _ in range(repeat if len(titles) > 1 else 0):  # round after round: never the same page twice running
        for title in titles:
            seconds = open_page(page, title)
            if seconds is not None:
                kept[title] = seconds
    rows += [(username, title, seconds) for title, seconds in kept.items()]
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
                taps.append(timed(page, widget.first.get_by_text(wd.ANSWERS[q.id], exact=True).first.click))
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
