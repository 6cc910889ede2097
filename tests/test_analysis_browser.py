"""The analyst's journey in a real browser: the scores, the Excel report and its charts, a publication.

chromium against `streamlit run server.py` on a small demo store (300 responses). The
analyst opens 分析与计分, sees the score table and chart, downloads the Excel report (every
chart reference must point at a sheet and cells of the workbook), publishes after the
confirmation box, finds the publication listed and recomputes it. Checked in the store:
one publication row, by the analyst, with the result hash the page confirmed.
"""
from __future__ import annotations

import time

import pytest

from tests.browser_support import go, no_exception, require_browser, sign_in
from tests.test_score_run import assert_chart_references_resolve
from tools import web_driver as wd

pytestmark = pytest.mark.browser

sync_playwright = require_browser()

PASSWORD = "analyst-pass-123"


def seed(db) -> None:
    from survey.auth import SYSTEM, create_account
    from survey.bootstrap import init_store
    from survey.demo import store_demo
    store = init_store(db).store
    store_demo(store, "2025", 300, 7)
    create_account(store, SYSTEM, "ana", "analyst", PASSWORD)
    store.close()


def test_analyst_scores_checks_the_report_and_publishes_once(tmp_path, monkeypatch):
    from openpyxl import load_workbook
    from survey.store import Store
    db = tmp_path / "survey.db"
    monkeypatch.setenv("SURVEY_ADMIN_PASSWORD", "admin-pass-123")
    seed(db)
    started = time.perf_counter()
    with wd.server(db, script="server.py") as base, sync_playwright() as pw:
        browser = wd.launch(pw)
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                   accept_downloads=True).new_page()
        sign_in(page, base, "ana", PASSWORD)

        # 1. the scores of the open wave: table and chart, no exception
        go(page, "分析与计分", "满意度分析与计分")
        panel = page.get_by_role("tabpanel", name="得分")
        panel.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
        panel.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=30_000)
        no_exception(page)

        # 2. the Excel report: Chinese sheets, every chart reference resolves
        with page.expect_download(timeout=30_000) as download:
            panel.get_by_role("button", name="下载 Excel 报告").click()
        report = tmp_path / download.value.suggested_filename
        download.value.save_as(report)
        assert report.name == "score-2025.xlsx"
        wb = load_workbook(report)
        assert "分项" in wb.sheetnames and not any(name.isascii() for name in wb.sheetnames), wb.sheetnames
        assert_chart_references_resolve(wb)

        # 3. publish: only after the confirmation box; then listed, and a second press is not offered
        page.get_by_role("tab", name="发布与核对").click()
        panel = page.get_by_role("tabpanel", name="发布与核对")
        button = panel.get_by_role("button", name="发布本次得分")
        button.wait_for(timeout=30_000)
        assert button.is_disabled()
        panel.get_by_text("我已核对，确认发布 2025 轮次的本次得分").click()
        wd.wait_script_done(page)
        shown_hash = panel.get_by_text("我已核对").inner_text().split("（结果 ")[1][:12]
        button.click()
        page.get_by_text("已发布（编号").first.wait_for(timeout=30_000)
        wd.wait_script_done(page)
        [pub] = Store(db).published_scores("2025")
        assert (pub["published_by"], pub["result_hash"][:12]) == ("ana", shown_hash)
        page.get_by_text(f"本次得分已发布（编号 {pub['id']}）").wait_for(timeout=30_000)
        assert panel.get_by_role("button", name="发布本次得分").count() == 0
        panel.get_by_role("button", name="重新计算核对").click()
        page.get_by_text(shown_hash, exact=False).first.wait_for(timeout=30_000)
        panel.locator('[data-testid="stAlertContentSuccess"]').first.wait_for(timeout=30_000)
        no_exception(page)
        browser.close()
    elapsed = time.perf_counter() - started
    assert len(Store(db).published_scores("2025")) == 1
    print(f"analyst journey: {elapsed:.1f} s")
