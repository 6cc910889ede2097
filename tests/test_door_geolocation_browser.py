"""A door interview with the wave's GPS evidence on, in a real browser that grants geolocation.

chromium against `streamlit run` on a fresh store: the browser context has the geolocation
permission and a fixed position (中华街道, 厦门). Pollster P01 opens 入户访问 (the start fix
is asked as the screen opens), the position is then moved 400 m along the street (the
pollster walked to the respondent's door), the interview is filled in and submitted; the
submit fix is asked once every question is answered. The stored paradata must hold both
positions with their accuracies, and the firm's supervisor finds the point on the door map.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import pytest

from tests.browser_support import require_browser
from tools import web_driver as wd
from tools.web_driver import choose, go, next_section, sign_in

pytestmark = pytest.mark.browser

sync_playwright = require_browser()

PASSWORD = "door-geo-pass-123"
SHOTS = os.environ.get("SURVEY_SCREENSHOTS")
START = {"latitude": 24.4555, "longitude": 118.0760, "accuracy": 12}
SUBMIT = {"latitude": 24.4591, "longitude": 118.0774, "accuracy": 8}  # ~400 m up the street
ANSWERS = {"age18": "是", "resident": "是", "sex": "女", "age_group": "40-49岁", "education": "大专"}


def seed(db: Path) -> None:
    from survey.auth import SYSTEM, assign, create_account
    from survey.bootstrap import init_store
    from survey.recordings import save_evidence_options
    store = init_store(db).store
    for name, role in (("P01", "pollster"), ("sup", "supervisor")):
        create_account(store, SYSTEM, name, role, PASSWORD, firm="示例调查公司")
        assign(store, SYSTEM, name, wave="2025")
    save_evidence_options(store, SYSTEM, "2025", {"geolocation": True})
    store.close()


def ready(page) -> None:
    wd.wait_script_done(page)


def fix_caption(label: str, where: dict) -> str:
    return f"{label}：纬度 {where['latitude']:.5f}，经度 {where['longitude']:.5f}，精度约 {where['accuracy']:.0f} 米"


def metres(a: dict, b: dict) -> float:
    return 6_371_000 * math.radians(math.hypot(a["lat"] - b["latitude"],
                                               (a["lon"] - b["longitude"]) * math.cos(math.radians(b["latitude"]))))


def test_door_interview_keeps_the_browser_position_at_start_and_submit(tmp_path, monkeypatch):
    from survey.questionnaire import load_shipped
    from survey.store import Store
    db = tmp_path / "survey.db"
    monkeypatch.setenv("SURVEY_ADMIN_PASSWORD", "admin-pass-123")
    seed(db)
    qn = load_shipped("default-2025")
    text = {q.id: q.text for q in qn.questions}
    started = time.perf_counter()
    with wd.server(db) as base, sync_playwright() as pw:
        browser = wd.launch(pw)
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN",
                                      geolocation=START, permissions=["geolocation"])
        page = context.new_page()
        sign_in(page, base, "P01", PASSWORD)
        go(page, "入户访问")
        # the start fix, asked by the component as the screen opens
        page.get_by_text(fix_caption("开始定位", START)).wait_for(timeout=30_000)
        context.set_geolocation(SUBMIT)  # the pollster walks to the door

        page.get_by_role("textbox", name="社区/小区").fill("中华街道")
        page.get_by_role("textbox", name="楼栋门牌").fill("中山路 12 号 3 单元")
        for label, value in (("家庭常住人口数", "3"), ("其中18岁及以上人数", "2"), ("被选中成员的序号（按成人列表）", "1")):
            box = page.get_by_role("spinbutton", name=label)
            box.fill(value)
            box.press("Enter")  # a number input commits on Enter
            ready(page)
        page.get_by_role("textbox", name="被选中成员（与户主关系、性别、年龄，不填姓名）").fill("配偶，女，45岁")
        page.get_by_role("textbox", name="被选中成员（与户主关系、性别、年龄，不填姓名）").press("Enter")
        ready(page)
        wd.screen_and_rate(page, text, ANSWERS, "4444444444")
        next_section(page)
        choose(page, text["change"], "3 变好")  # numbered for keying
        next_section(page)
        # before the last demographic answer the submit fix is not asked yet
        page.get_by_text("全部问题答完后获取提交定位。", exact=False).wait_for(timeout=30_000)
        for qid in ("sex", "age_group", "education"):
            choose(page, text[qid], ANSWERS[qid])
        page.get_by_text(fix_caption("提交定位", SUBMIT)).wait_for(timeout=30_000)
        assert page.get_by_text(fix_caption("开始定位", START)).count() == 1  # kept, not asked again
        # the fix arrives from the browser component, which reruns the page: let that run end first
        page.wait_for_timeout(500)
        ready(page)
        page.get_by_role("button", name="提交问卷").click()
        ready(page)
        wd.expect_text(page, "问卷已保存（编号")
        ready(page)
        assert page.locator('[data-testid="stException"]').count() == 0

        rows = [r for r in Store(db).responses("2025") if r["mode"] == "door"]
        assert len(rows) == 1 and rows[0]["interviewer"] == "P01"
        para = rows[0]["paradata"] if isinstance(rows[0]["paradata"], dict) else json.loads(rows[0]["paradata"])
        geo = para["evidence"]["geo"]
        assert set(geo) == {"start", "submit"}
        assert metres(geo["start"], START) < 1 and geo["start"]["accuracy"] == START["accuracy"]
        assert metres(geo["submit"], SUBMIT) < 1 and geo["submit"]["accuracy"] == SUBMIT["accuracy"]
        assert geo["start"]["at"] <= geo["submit"]["at"]
        assert para["household"]["community"] == "中华街道"

        # the supervisor of the firm finds the point on the door map
        page.get_by_role("button", name="退出登录").click()
        page.get_by_label("用户名").wait_for(timeout=30_000)
        sign_in(page, base, "sup", PASSWORD)
        go(page, "督导工作台")
        page.get_by_role("heading", name="入户访问地图").scroll_into_view_if_needed()
        deck = page.locator('[data-testid="stDeckGlJsonChart"]').first
        deck.wait_for(timeout=30_000)
        assert page.get_by_text("本轮尚无带定位的入户访问。").count() == 0
        page.wait_for_timeout(2500)  # the deck.gl canvas draws after the page settles
        deck.scroll_into_view_if_needed()
        # the one point sits where the view is centred: hovering it shows whose interview it is
        box = deck.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.get_by_text(f"P01 · {rows[0]['response_id']} · 中华街道").wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        if SHOTS:
            page.screenshot(path=str(Path(SHOTS) / "door-geo-map.png"))
        browser.close()
    print(f"door geolocation journey: {time.perf_counter() - started:.1f} s")
