"""Screenshot a page of the running app as a given user (for docs/ and for looking at it).

    python tools/screenshot.py --url http://localhost:8501/ --user analyst --password demo-2025 \
        --nav 样本概况 --out docs/overview.png [--width 1280 --height 900]

Uses Playwright with Debian's chromium (/usr/bin/chromium).
"""
from __future__ import annotations

import argparse

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--out", required=True)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--nav", help="sidebar link to click after login (a reload would log out)")
    ap.add_argument("--full", action="store_true", help="whole page, not just the viewport")
    args = ap.parse_args()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.goto(args.url)
        page.wait_for_selector("input", timeout=30_000)
        if args.user:
            page.get_by_label("用户名").fill(args.user)
            page.get_by_label("密码").fill(args.password)
            page.get_by_role("button", name="登录").click()
            page.wait_for_timeout(2500)
        if args.nav:
            page.get_by_role("link", name=args.nav).click()
        page.wait_for_timeout(4000)
        page.screenshot(path=args.out, full_page=args.full)
        browser.close()


if __name__ == "__main__":
    main()
