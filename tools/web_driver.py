"""Drive the resident web survey in a real browser: a server on a free port, a resident filling in.

Shared by the browser tests, bench/web_load.py and tools/screenshot.py, so the
test, the benchmark and the screenshot walk the survey the same way a resident does.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# Many pages in one chromium: keep the ones not in front from being throttled (timers,
# animation frames), or each would wait up to seconds for its turn.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
PHONE = {"width": 390, "height": 844}
PHONE_UA = ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Mobile Safari/537.36")

# One resident's answers, by the visible option labels (Chinese catalog).
ANSWERS: dict[str, str] = {"age18": "是", "resident": "是", "air": "比较满意", "water": "满意", "sea": "不了解/说不清",
                           "noise": "一般", "waste": "比较满意", "greenery": "满意", "rural": "比较满意",
                           "enforcement": "一般", "publicity": "比较满意", "overall": "比较满意",
                           "change": "变好", "sex": "女", "age_group": "40-49岁", "education": "大专"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(db: str | Path, port: int | None = None, env: dict[str, str] | None = None,
           timeout: float = 60.0, script: str = "streamlit_app.py") -> Iterator[str]:
    """`streamlit run streamlit_app.py` (or `script`, e.g. server.py) on its own store; yields the base URL."""
    port = port or free_port()
    full_env = {**os.environ, "SURVEY_DB": str(db), "SURVEY_ADMIN_PASSWORD": "admin-pass-123", **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / script),
                             "--server.port", str(port), "--server.headless", "true",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                # the health endpoint answers without opening a session, so the first
                # browser visit stays the first session of this server
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"streamlit did not start on port {port}: {err[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def launch(pw: Any, **kw: Any) -> Any:
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, **kw)


def phone_context(browser: Any) -> Any:
    return browser.new_context(viewport=PHONE, user_agent=PHONE_UA, is_mobile=True, has_touch=True,
                               device_scale_factor=2, locale="zh-CN")


def wait_script_done(page: Any, timeout: float = 30_000) -> None:
    """Wait until the script run has finished and no element of the previous run is left (stale).

    For the staff pages, which may show no button (wait_ready expects the survey's language button).
    """
    page.wait_for_function(
        """() => { const app = document.querySelector('[data-testid="stApp"]');
                   return app && app.getAttribute('data-test-script-state') === 'notRunning'
                          && !document.querySelector('[data-stale="true"]'); }""", timeout=timeout)


def expect_text(page: Any, text: str, timeout: float = 30_000) -> None:
    """Wait for `text` on the page; when it does not come, fail with what the page shows instead.

    A browser test that times out in CI leaves no screenshot to read: the visible text is the
    evidence of what the user saw (an error, a missing-answer note, the form again)."""
    try:
        page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)
    except Exception as err:  # playwright's TimeoutError: name what was on screen
        shown = page.inner_text("body")[-3000:]
        raise AssertionError(f"{text!r} did not appear within {timeout / 1000:.0f} s; the page shows:\n{shown}") from err


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    """Open the app and log in as a staff account; returns when the landing page has run."""
    page.goto(base)
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("当前用户：").first.wait_for(timeout=30_000)
    wait_script_done(page)


def go(page: Any, title: str, heading: str | None = None) -> None:
    """Open a page from the sidebar by its title and wait until it has run (shows `heading`, or the title)."""
    page.get_by_role("link", name=title).first.click()
    page.get_by_role("heading", name=heading or title).first.wait_for(timeout=30_000)
    wait_script_done(page)


def pick(page: Any, label: str, option: str, within: Any = None, exact: bool = False) -> None:
    """Choose an option of a selectbox found by its label (typing narrows long lists)."""
    box = (within or page).locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=exact).first.click()
    wait_script_done(page)


def choose(page: Any, question: str, label: str) -> None:
    """Pick an option of an interview question (a radio found by its question text) and wait for the run."""
    page.locator('[data-testid="stRadio"]').filter(has_text=question).first.get_by_text(label, exact=True).first.click()
    wait_script_done(page)


def next_section(page: Any) -> None:
    """下一节 on the sectioned interview screen (phone, door), then wait for the run."""
    page.get_by_role("button", name="下一节").click()
    wait_script_done(page)


def screen_and_rate(page: Any, text: dict[str, str], answers: dict[str, str], keys: str) -> None:
    """The interview's first two sections: the screening answered, then the ratings by quick entry."""
    for qid in ("age18", "resident"):
        choose(page, text[qid], answers[qid])
    next_section(page)
    quick = page.get_by_role("textbox", name="快速录入（按题目顺序输入选项编号）")
    quick.fill(keys)
    quick.press("Enter")
    wait_script_done(page)


def wait_ready(page: Any, timeout: float = 30_000) -> None:
    """Wait until the script run has finished and no element of the previous run is left (stale).

    Every screen of the survey shows at least the language button, so a page without any
    button has not run its script yet (right after a load or reload).
    """
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning'
                   && document.querySelector('[data-testid="stMainBlockContainer"] [data-testid="stButton"]')
                   && !document.querySelector('[data-stale="true"]');
        }""", timeout=timeout)


def heading(page: Any) -> str:
    return page.locator("h3").first.inner_text(timeout=30_000)


def start(page: Any) -> None:
    """Give consent and start (from the intro screen)."""
    page.get_by_text("我已了解以上说明").click()
    wait_ready(page)
    page.get_by_role("button", name="开始答题").click()
    page.get_by_text("请问您是否年满18周岁？").wait_for(timeout=30_000)
    wait_ready(page)


def answer_screen(page: Any, answers: dict[str, str] = ANSWERS) -> None:
    """Pick the answer of every question shown on the current screen (found by its text)."""
    from survey.questionnaire import load_shipped
    qn = load_shipped("default-2025")
    for q in qn.questions:
        if q.id not in answers:
            continue
        widget = page.locator('[data-testid="stRadio"]').filter(has_text=q.text)
        if widget.count():
            widget.first.get_by_text(answers[q.id], exact=True).first.click()
            wait_ready(page)


def next_screen(page: Any, button: str = "下一页") -> str:
    """Click Next (or `button`) and wait for the screen to change; returns its progress text."""
    before = progress(page)
    page.get_by_role("button", name=button).click()
    page.wait_for_function("b => { const p = document.querySelector('[data-testid=\"stProgress\"]');"
                           " return p && p.innerText !== b; }", arg=before, timeout=30_000)
    wait_ready(page)
    return progress(page)


def back_screen(page: Any) -> str:
    return next_screen(page, "上一页")


def progress(page: Any) -> str:
    bar = page.locator('[data-testid="stProgress"]')
    return bar.inner_text() if bar.count() else ""


def fill_until_last(page: Any, answers: dict[str, str] = ANSWERS) -> None:
    """From the screening screen to the last screen (the comment), answering everything."""
    while page.get_by_role("button", name="提交问卷").count() == 0:
        answer_screen(page, answers)
        next_screen(page)


def submit(page: Any, comment: str | None = None) -> None:
    if comment:
        page.get_by_role("textbox").first.fill(comment)
    page.get_by_role("button", name="提交问卷").click()
    page.get_by_text("提交成功").wait_for(timeout=30_000)
