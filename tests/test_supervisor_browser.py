"""The supervisor's journey in a real browser: a back-check with its outcome, then an exclude and a restore.

chromium against `streamlit run server.py` on a small store (one firm, one pollster, six
phone completes from the contact list). The supervisor opens 督导工作台 → 回访核查,
picks the listed interview, dials the respondent (number masked until then), records
答案不一致 with a note; then on 质量审核 excludes that interview with one reason and
restores it with another. Checked in the store: the back-check row, the audited dial, and
both exclusion rows with their own reasons.
"""
from __future__ import annotations

import time

import pytest

from tests.browser_support import go, no_exception, pick, require_browser, sign_in
from tools import web_driver as wd

pytestmark = pytest.mark.browser

sync_playwright = require_browser()

PASSWORD = "super-pass-123"
EXCLUDE_WHY = "回访时受访者称未接受过访问"
RESTORE_WHY = "复听录音确认为本人作答，恢复"


def phone(i: int) -> str:
    return f"1380000{i:04d}"


def seed(db, tmp_path) -> tuple[str, int]:
    """Six completes by P01, each of a case of the contact list; returns the one listed for back-check."""
    from survey.auth import SYSTEM, assign, create_account, load_account
    from survey.backcheck import backcheck_list
    from survey.bootstrap import init_store
    from survey.fieldwork import assign_cases, import_cases, record_attempt
    from survey.responses import submit_interview
    from tests.conftest import complete_answers
    store = init_store(db).store
    for name, role in (("sup", "supervisor"), ("P01", "pollster")):
        create_account(store, SYSTEM, name, role, PASSWORD, firm="A")
        assign(store, SYSTEM, name, wave="2025")
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id,unit,mode,phone\n" + "".join(f"C{i:04d},思明区,phone,{phone(i)}\n" for i in range(6)),
                     encoding="utf-8")
    import_cases(store, SYSTEM, cases, "2025")
    assign_cases(store, SYSTEM, "2025", "P01", case_ids=[f"C{i:04d}" for i in range(6)])
    p01 = load_account(store, "P01")
    rids = {}
    for i in range(6):
        rid = submit_interview(store, p01, "2025", unit="思明区", mode="phone", answers=complete_answers(air=(i % 5) + 1),
                               submit_key=f"ph:{i}", started_at=f"2025-10-1{i}T18:00:00", case_id=f"C{i:04d}").response_id
        record_attempt(store, p01, f"C{i:04d}", "完成", response_id=rid, at=f"2025-10-1{i}T18:20:00")
        rids[rid] = i
    [listed] = [i.response_id for i in backcheck_list(store, SYSTEM, "2025")]
    store.close()
    return listed, rids[listed]


def test_supervisor_backchecks_then_excludes_and_restores_with_two_reasons(tmp_path, monkeypatch):
    from survey.store import Store
    db = tmp_path / "survey.db"
    monkeypatch.setenv("SURVEY_ADMIN_PASSWORD", "admin-pass-123")
    rid, case = seed(db, tmp_path)
    number = phone(case)
    started = time.perf_counter()
    with wd.server(db, script="server.py") as base, sync_playwright() as pw:
        browser = wd.launch(pw)
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
        sign_in(page, base, "sup", PASSWORD)

        # 1. the back-check: the number masked, in clear on 拨打 (audited), then the outcome
        go(page, "督导工作台")
        page.get_by_role("tab", name="回访核查").click()
        panel = page.get_by_role("tabpanel", name="回访核查")
        panel.get_by_text("记录回访结果").wait_for(timeout=30_000)
        assert number not in panel.inner_text() and "****" in panel.inner_text()
        panel.get_by_role("button", name="拨打").click()
        wd.wait_script_done(page)
        panel.get_by_text(number).wait_for(timeout=30_000)
        form = panel.locator('[data-testid="stForm"]').first
        form.get_by_text("答案不一致", exact=True).click()
        form.get_by_label("备注（可选）").fill("受访者说空气一题答的是“一般”")
        form.get_by_role("button", name="保存回访结果").click()
        page.get_by_text(f"已记录问卷 {rid} 的回访结果：答案不一致").wait_for(timeout=30_000)
        wd.wait_script_done(page)
        no_exception(page)
        store = Store(db)
        check = store.latest_backchecks("2025")[rid]
        assert (check["outcome"], check["actor"], check["note"]) == ("answers_differ", "sup", "受访者说空气一题答的是“一般”")
        assert [a["actor"] for a in store.audit_log("case", f"C{case:04d}") if a["action"] == "view_contact"] == ["sup"]

        # 2. exclude on 质量审核: every response shown, the interview picked, a reason required
        go(page, "质量审核", "质量审核与剔除")
        pick(page, "质量标记", "全部")
        pick(page, "选择问卷编号", rid)
        page.get_by_role("button", name="剔除", exact=True).click()
        page.get_by_text("请填写原因。").wait_for(timeout=30_000)
        assert Store(db).current_exclusions("2025") == []
        page.get_by_label("原因（必填）").fill(EXCLUDE_WHY)
        page.get_by_role("button", name="剔除", exact=True).click()
        page.get_by_text("已剔除，并记入日志。").wait_for(timeout=30_000)
        wd.wait_script_done(page)
        assert [e["reason"] for e in Store(db).current_exclusions("2025")] == [EXCLUDE_WHY]

        # 3. restore: its own empty reason field, then its own reason
        box = page.get_by_label("撤销剔除的原因（必填，不能沿用剔除原因）")
        assert box.input_value() == ""
        box.fill(RESTORE_WHY)
        page.get_by_role("button", name="撤销剔除（恢复）").click()
        page.get_by_text("已恢复，并记入日志。").wait_for(timeout=30_000)
        wd.wait_script_done(page)
        assert page.get_by_text("该问卷当前计入分析。").count() == 1
        no_exception(page)
        browser.close()
    elapsed = time.perf_counter() - started

    store = Store(db)
    assert store.current_exclusions("2025") == []
    events = sorted(store.exclusions("2025"), key=lambda e: e["id"])
    assert [(e["response_id"], e["action"], e["reason"], e["actor"]) for e in events] == [
        (rid, "exclude", EXCLUDE_WHY, "sup"), (rid, "restore", RESTORE_WHY, "sup")]
    print(f"supervisor journey: {elapsed:.1f} s")
