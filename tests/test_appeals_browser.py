"""The appeals journey in a real browser: a district's liaison files an objection, the analyst decides it.

chromium against `streamlit run` on a store with a published score run and an open appeal
window: the liaison of 思明区 logs in, lands on 区级结果与申诉 showing only its district, names
three responses of its district with a reason, and submits; then the analyst logs in, upholds
the objection with a reason, and a new publication with the difference in points is stored.
Each step is checked in the store, not only on screen. With `APPEALS_SCREENSHOT=path` the
liaison's page is saved there (docs/appeals.png).
"""
from __future__ import annotations

import datetime as dt
import os

import pytest

from tests.browser_support import require_browser
from tools import web_driver as wd

pytestmark = pytest.mark.browser

sync_playwright = require_browser()

PASSWORD = "appeal-pass-123"


def ready(page) -> None:
    wd.wait_script_done(page, timeout=60_000)


def log_in(page, base: str, username: str) -> None:
    page.goto(base)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="退出登录").wait_for(timeout=60_000)
    ready(page)


def test_a_liaison_files_an_objection_and_the_analyst_upholds_it(tmp_path, monkeypatch):
    from analysis.io import read_population
    from analysis.scoring import load_config
    from survey import appeals, publishing
    from survey.auth import SYSTEM, create_account, load_account
    from survey.bootstrap import init_store
    from survey.config import POPULATION_DIR, SCORING_DIR
    from survey.demo import store_demo
    from survey.store import Store
    db = tmp_path / "survey.db"
    monkeypatch.setenv("SURVEY_ADMIN_PASSWORD", "admin-pass-123")
    store = init_store(db).store
    store_demo(store, "2025", 600, 3)
    create_account(store, SYSTEM, "ana", "analyst", PASSWORD, display_name="分析员")
    create_account(store, SYSTEM, "siming", "liaison", PASSWORD, display_name="思明区联络员", unit="思明区")
    ana = load_account(store, "ana")
    run = publishing.compute_for_wave(store, ana, "2025", read_population(POPULATION_DIR / "xiamen-2020.csv"),
                                      load_config(SCORING_DIR / "default.yaml"))
    pub = publishing.publish(store, ana, run)
    appeals.set_deadline(store, ana, pub, (dt.date.today() + dt.timedelta(days=14)).isoformat())
    contested = [r["response_id"] for r in store.responses("2025")
                 if r["unit"] == "思明区" and r["answers"].get("overall") == 5][:3]
    other = next(r["response_id"] for r in store.responses("2025") if r["unit"] == "湖里区")
    store.close()

    with wd.server(db) as base, sync_playwright() as pw:
        browser = wd.launch(pw)
        page = browser.new_context(viewport={"width": 1280, "height": 1900}, locale="zh-CN").new_page()

        # 1. the liaison lands on its district's view: its row, the method, the evidence; no other district
        log_in(page, base, "siming")
        page.get_by_role("heading", name="区级结果与申诉").first.wait_for(timeout=60_000)
        page.get_by_text("本区：思明区").wait_for(timeout=30_000)
        page.get_by_text("证据摘要（仅计数，不含个人信息）").wait_for(timeout=30_000)
        tables = page.locator('[data-testid="stDataFrame"]').first.inner_text()
        assert "湖里区" not in tables
        assert page.get_by_role("link", name="质量审核").count() == 0  # no other page in its menu

        # 2. another district's response is refused, naming it; nothing stored
        ids = page.get_by_label("问卷编号（多个用逗号或换行分隔）")
        reason = page.get_by_label("申诉理由")
        ids.fill(f"{contested[0]}, {other}")
        reason.fill("受访者并非本区常住居民")
        page.get_by_role("button", name="提交申诉").click()
        page.get_by_text(f"{other} 不是思明区在轮次 2025 的问卷").wait_for(timeout=30_000)
        assert Store(db).objections() == []

        # 3. its own three responses are filed
        ids.fill("\n".join(contested))
        reason.fill("受访者并非本区常住居民")
        page.get_by_role("button", name="提交申诉").click()
        page.get_by_text("申诉 #1 已提交，等待分析员裁定").wait_for(timeout=30_000)
        ready(page)
        [o] = Store(db).objections()
        assert (o["unit"], o["response_ids"], o["status"], o["filed_by"]) == ("思明区", contested, "open", "siming")
        shot = os.environ.get("APPEALS_SCREENSHOT")
        if shot:
            page.mouse.click(5, 5)
            page.screenshot(path=shot)
        page.get_by_role("button", name="退出登录").click()
        page.get_by_role("button", name="登录").wait_for(timeout=30_000)

        # 4. the analyst upholds it with a reason: exclusions and a new publication with the difference
        log_in(page, base, "ana")
        page.get_by_role("link", name="区级结果与申诉").click()
        page.get_by_role("heading", name="区级结果与申诉").first.wait_for(timeout=60_000)
        ready(page)
        page.get_by_text("裁定申诉 #1（思明区，具体问卷）").wait_for(timeout=30_000)
        page.get_by_label("裁定理由").fill("经核实，3 位受访者户籍及居住地均不在思明区")
        page.get_by_role("button", name="提交裁定").click()
        page.get_by_text("申诉 #1 成立：已剔除 3 份问卷，生成新发布 #2").wait_for(timeout=60_000)
        page.get_by_text("各区得分变化").wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        browser.close()

    after = Store(db)
    [o] = after.objections()
    assert (o["status"], o["decided_by"], o["new_publication_id"]) == ("upheld", "ana", 2)
    appeal = after.publication(2)["record"]["appeal"]
    assert appeal["base"] == pub and [s["objection"] for s in appeal["settled"]] == [1]
    assert {e["response_id"] for e in after.current_exclusions("2025")} == set(contested)
    assert [a["action"] for a in after.audit_log("objection", "1")] == ["decide", "file"]
