"""The pollster's phone journey in a real browser: a case called, a callback agreed, then the interview completed.

chromium against `streamlit run server.py` on a fresh store with one assigned phone case.
P01 opens 电话访问: the number is masked until 开始拨打; the respondent asks to be called
back: 约定回访 among the grouped dispositions, a time already past is refused, a later one
recorded. The appointment then falls due (moved back in the store, as the clock would), the
case returns with the callback shown, the respondent agrees, and the interview is taken
section by section and submitted. Checked in the store: the two attempt rows (the callback
with its time, the complete with the response), the response of the case. (The door
interview's journey is tests/test_door_geolocation_browser.py.)
"""
from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.browser_support import go, no_exception, require_browser, sign_in
from tools import web_driver as wd
from tools.web_driver import choose, next_section

pytestmark = pytest.mark.browser

sync_playwright = require_browser()

PASSWORD = "pollster-pass-123"
PHONE = "13800138001"
ANSWERS = {"age18": "是", "resident": "是", "sex": "女", "age_group": "40-49岁", "education": "大专"}


def seed(db, tmp_path) -> None:
    from survey.auth import SYSTEM, assign, create_account
    from survey.bootstrap import init_store
    from survey.fieldwork import assign_cases, import_cases
    store = init_store(db).store
    create_account(store, SYSTEM, "P01", "pollster", PASSWORD, firm="A")
    assign(store, SYSTEM, "P01", wave="2025")
    cases = tmp_path / "cases.csv"
    cases.write_text(f"case_id,unit,mode,phone\nC001,思明区,phone,{PHONE}\n", encoding="utf-8")
    import_cases(store, SYSTEM, cases, "2025")
    assign_cases(store, SYSTEM, "2025", "P01", case_ids=["C001"])
    store.close()


def set_date(page, label: str, day: dt.date) -> None:
    """The date field's year, month and day segments, typed in order (each moves on by itself)."""
    page.get_by_role("spinbutton", name=f"year, {label}").click()
    page.keyboard.type(day.strftime("%Y%m%d"))
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    wd.wait_script_done(page)


def test_pollster_agrees_a_callback_then_completes_the_interview(tmp_path, monkeypatch):
    from survey.questionnaire import load_shipped
    from survey.store import Store
    db = tmp_path / "survey.db"
    monkeypatch.setenv("SURVEY_ADMIN_PASSWORD", "admin-pass-123")
    seed(db, tmp_path)
    text = {q.id: q.text for q in load_shipped("default-2025").questions}
    started = time.perf_counter()
    with wd.server(db, script="server.py") as base, sync_playwright() as pw:
        browser = wd.launch(pw)
        page = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN").new_page()
        sign_in(page, base, "P01", PASSWORD)
        go(page, "电话访问")

        # 1. the case: masked number, then in clear on 开始拨打
        page.get_by_text("样本 C001 · 思明区").first.wait_for(timeout=30_000)
        assert PHONE not in page.inner_text("body")
        page.get_by_role("button", name="开始拨打（显示完整号码）").click()
        page.get_by_text(PHONE).first.wait_for(timeout=30_000)
        wd.wait_script_done(page)

        # 2. 约定回访: a past day is refused and stores nothing; tomorrow is recorded
        page.get_by_role("radio", name="约定回访", exact=True).click()  # the 接通 group's pill
        page.get_by_role("group", name="约定回访日期").wait_for(timeout=30_000)
        wd.wait_script_done(page)
        set_date(page, "约定回访日期", dt.date.today() - dt.timedelta(days=1))
        page.get_by_role("button", name="记录本次结果").click()
        page.get_by_text("已经过去，请选择以后的时间", exact=False).wait_for(timeout=30_000)
        assert Store(db).attempts("2025") == []
        set_date(page, "约定回访日期", dt.date.today() + dt.timedelta(days=1))
        page.get_by_role("button", name="记录本次结果").click()
        page.get_by_text("已记录样本 C001：约定回访", exact=False).wait_for(timeout=30_000)
        wd.wait_script_done(page)
        no_exception(page)
        [callback] = Store(db).attempts("2025")
        assert callback["label"] == "约定回访" and callback["callback_at"].startswith(
            (dt.date.today() + dt.timedelta(days=1)).isoformat())
        page.get_by_text("目前没有需要拨打的样本").wait_for(timeout=30_000)

        # 3. the appointment falls due: the case is back, with its callback shown
        due = (dt.datetime.now() - dt.timedelta(minutes=5)).isoformat(timespec="seconds")
        Store(db).db.execute("UPDATE attempts SET callback_at = ? WHERE case_id = 'C001'", [due])
        page.get_by_role("button", name="刷新").click()
        page.get_by_text("约定回访：约定时间", exact=False).first.wait_for(timeout=30_000)
        wd.wait_script_done(page)

        # 4. the interview, section by section, then submitted
        page.get_by_role("button", name="同意受访，开始访问").click()
        wd.wait_script_done(page)
        wd.screen_and_rate(page, text, ANSWERS, "4444444444")
        next_section(page)
        choose(page, text["change"], "3 变好")
        next_section(page)
        for qid in ("sex", "age_group", "education"):
            choose(page, text[qid], ANSWERS[qid])
        page.get_by_role("button", name="提交问卷").click()
        wd.expect_text(page, "问卷已保存（编号")
        wd.wait_script_done(page)
        no_exception(page)
        assert page.get_by_role("button", name="中途拒绝", exact=False).count() == 0  # not offered once saved
        browser.close()
    elapsed = time.perf_counter() - started

    store = Store(db)
    [response] = store.responses("2025")
    assert (response["case_id"], response["mode"], response["interviewer"]) == ("C001", "phone", "P01")
    assert response["answers"]["air"] == 4 and response["answers"]["sex"] == "女"
    attempts = sorted(store.attempts("2025"), key=lambda a: a["attempted_at"])
    assert [(a["label"], a["response_id"]) for a in attempts] == [
        ("约定回访", None), ("完成", response["response_id"])]
    print(f"pollster phone journey: {elapsed:.1f} s")
