"""The paper keyers' journey in a real browser: a double-entry mismatch, resolved by the supervisor.

chromium against `streamlit run server.py` on a fresh store. Keyer k1 keys paper form
XM-000200 by its code string (double entry); keyer k2 keys it again with one digit different
and is told the form goes to the supervisor; the supervisor opens 督导工作台 → 双录入差异,
is refused while the field is not settled, then takes the value from the paper. Checked in
the store: the form stored once, by whom, from which source, with the resolved value.
"""
from __future__ import annotations

import json
import time

import pytest

from tests.browser_support import go, no_exception, pick, require_browser, sign_in
from tools import web_driver as wd

pytestmark = pytest.mark.browser

sync_playwright = require_browser()

PASSWORD = "keyer-pass-123"
PAPER = "XM-000200"
FIRST = "11 4593454344 3 233"   # air keyed 4 (比较满意)
SECOND = "11 2593454344 3 233"  # air keyed 2 (不太满意)


def seed(db) -> None:
    from survey.auth import SYSTEM, assign, create_account
    from survey.bootstrap import init_store
    store = init_store(db).store
    for name, role in (("k1", "pollster"), ("k2", "pollster"), ("sup", "supervisor")):
        create_account(store, SYSTEM, name, role, PASSWORD, firm="A")
        assign(store, SYSTEM, name, wave="2025")
    store.close()


def key_form(page, codes: str, double: bool) -> None:
    """Key the form on 纸质问卷录入: paper ID, district, the code string (Enter), save."""
    go(page, "纸质问卷录入")
    if double:
        page.get_by_text("本批问卷双录入").click()
        wd.wait_script_done(page)
    page.get_by_label("问卷编号", exact=True).fill(PAPER)
    page.keyboard.press("Enter")
    wd.wait_script_done(page)
    pick(page, "区", "思明区")
    page.get_by_role("textbox", name="代码串", exact=False).fill(codes)
    page.keyboard.press("Enter")
    page.get_by_text("选择题已填 16/16 题").wait_for(timeout=30_000)
    wd.wait_script_done(page)
    page.get_by_role("button", name="保存录入").click()


def test_two_keyers_differ_and_the_supervisor_settles_it_from_the_paper(tmp_path, monkeypatch):
    from survey.store import Store
    db = tmp_path / "survey.db"
    monkeypatch.setenv("SURVEY_ADMIN_PASSWORD", "admin-pass-123")
    seed(db)
    started = time.perf_counter()
    with wd.server(db, script="server.py") as base, sync_playwright() as pw:
        browser = wd.launch(pw)

        def signed_in(user: str):
            page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
            sign_in(page, base, user, PASSWORD)
            return page

        # 1. the first keyer: stored as the first entry, no response yet
        k1 = signed_in("k1")
        key_form(k1, FIRST, double=True)
        k1.get_by_text(f"问卷 {PAPER} 第一次录入已保存").wait_for(timeout=30_000)
        no_exception(k1)
        assert Store(db).paper_form("2025", PAPER)["status"] == "awaiting_second"

        # 2. the second keyer: told it is a second entry; one field differs → to the supervisor
        k2 = signed_in("k2")
        go(k2, "纸质问卷录入")
        k2.get_by_label("问卷编号", exact=True).fill(PAPER)
        k2.keyboard.press("Enter")
        k2.get_by_text("此问卷待第二次录入（第一次录入人：k1）").wait_for(timeout=30_000)
        key_form(k2, SECOND, double=False)
        k2.get_by_text(f"问卷 {PAPER} 两次录入有 1 处不一致").wait_for(timeout=30_000)
        table = k2.locator('[data-testid="stDataFrame"]').first
        table.wait_for(timeout=30_000)
        no_exception(k2)
        store = Store(db)
        assert store.paper_form("2025", PAPER)["status"] == "mismatch" and store.count_responses("2025") == 0

        # 3. the supervisor: nothing chosen is refused naming the item; then the paper's value
        sup = signed_in("sup")
        go(sup, "督导工作台")
        sup.get_by_role("tab", name="双录入差异").click()
        panel = sup.get_by_role("tabpanel", name="双录入差异")
        panel.get_by_text(f"问卷 {PAPER}：1 处不一致（录入人 k1 / k2）").wait_for(timeout=30_000)
        form = panel.locator('[data-testid="stForm"]').first
        form.get_by_text("采用第一次：4 比较满意").wait_for(timeout=30_000)
        assert form.get_by_text("采用第二次：2 不太满意").count() == 1
        form.get_by_role("button", name="保存处理结果").click()
        sup.get_by_text("请逐项选择采用哪次录入或按原件").wait_for(timeout=30_000)
        assert Store(db).count_responses("2025") == 0
        wd.wait_script_done(sup)
        form.get_by_text("按原件", exact=True).click()
        pick(sup, "原件上的值", "3 一般", within=form)
        form.get_by_role("button", name="保存处理结果").click()
        sup.get_by_text(f"问卷 {PAPER} 已按处理结果保存").wait_for(timeout=30_000)
        wd.wait_script_done(sup)
        no_exception(sup)
        assert sup.get_by_text("没有待处理的双录入差异").count() == 1
        browser.close()
    elapsed = time.perf_counter() - started

    store = Store(db)
    row = store.paper_form("2025", PAPER)
    assert (row["status"], row["resolved_by"]) == ("stored", "sup")
    [response] = store.responses("2025")
    assert response["response_id"] == row["response_id"] and response["answers"]["air"] == 3
    assert response["answers"]["water"] == 5 and response["mode"] == "paper"
    [resolved] = [a for a in store.audit_log("paper", f"2025/{PAPER}") if a["action"] == "resolve"]
    assert resolved["actor"] == "sup"
    detail = resolved["detail"] if isinstance(resolved["detail"], dict) else json.loads(resolved["detail"])
    assert detail["choices"] == {"air": {"source": "paper", "value": 3, "entry1": 4, "entry2": 2}}
    print(f"keyers journey: {elapsed:.1f} s")
