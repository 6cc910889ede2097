"""Screenshot a page of the running app as a given user (for docs/ and for looking at it).

    python tools/screenshot.py --url http://localhost:8501/ --user analyst --password demo-2025 \
        --nav 样本概况 --out docs/overview.png [--width 1280 --height 900]
    python tools/screenshot.py --url "http://localhost:8501/survey?t=TOKEN" --phone --survey-screens 2 \
        --out docs/web_survey.png

`--phone` is a 390×844 touch screen with a phone's user agent at device scale 2;
`--survey-screens N` walks the resident survey N screens on (consent, then answering
each screen) before the shot. Uses Playwright with Debian's chromium (/usr/bin/chromium).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools import web_driver  # noqa: E402

CHROMIUM = web_driver.CHROMIUM
ARGS = web_driver.CHROMIUM_ARGS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--out", required=True)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--scale", type=float, default=1.0, help="device scale factor (2 for a sharp phone shot)")
    ap.add_argument("--phone", action="store_true", help="390×844 phone viewport, touch, mobile user agent, scale 2")
    ap.add_argument("--survey-screens", type=int, default=0,
                    help="walk the resident survey this many screens on before the shot")
    ap.add_argument("--nav", help="sidebar link to click after login (a reload would log out)")
    ap.add_argument("--full", action="store_true", help="whole page, not just the viewport")
    ap.add_argument("--wait-text", help="wait (up to 3 min) until this text is on the page: a slow computation")
    ap.add_argument("--tab", help="click the tab with this name before the shot")
    args = ap.parse_args()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        if args.phone:
            context = web_driver.phone_context(browser)
        else:
            context = browser.new_context(viewport={"width": args.width, "height": args.height},
                                          device_scale_factor=args.scale)
        page = context.new_page()
        page.goto(args.url)
        if args.survey_screens:
            web_driver.wait_ready(page)
            web_driver.start(page)
            for _ in range(args.survey_screens - 1):
                web_driver.answer_screen(page)
                web_driver.next_screen(page)
            page.mouse.click(5, 5)  # no focus ring on the last button clicked
            page.wait_for_timeout(1500)
            page.screenshot(path=args.out, full_page=args.full)
            browser.close()
            return
        page.wait_for_selector("input", timeout=30_000)
        if args.user:
            page.get_by_label("用户名").fill(args.user)
            page.get_by_label("密码").fill(args.password)
            page.get_by_role("button", name="登录").click()
            page.wait_for_timeout(2500)
        if args.nav:
            page.get_by_role("link", name=args.nav).click()
        if args.wait_text:
            page.get_by_text(args.wait_text).first.wait_for(timeout=180_000)
        if args.tab:
            page.get_by_role("tab", name=args.tab).click()
        page.wait_for_timeout(4000)
        page.screenshot(path=args.out, full_page=args.full)
        browser.close()


if __name__ == "__main__":
    main()
