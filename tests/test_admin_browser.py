"""The admin's journey in a real browser: a wave from nothing to fieldwork.

chromium against `streamlit run` on a fresh store: the admin logs in, creates a wave with
dates, saves its settings, assigns two pollsters to it, uploads a contact list (first a bad
one, whose row problems are listed), and shares the cases evenly between the pollsters.
Each step is checked in the store, not only on screen.
"""
from __future__ import annotations

import time

import pytest

from tests.browser_support import require_browser
from tools import web_driver as wd

pytestmark = pytest.mark.browser

sync_playwright = require_browser()

ADMIN_PASSWORD = "admin-pass-123"  # tools/web_driver.server sets it
WAVE = "2026-春"
CONTACTS = ("case_id,unit,mode,phone,address\n" + "".join(
    f"K{i:02d},{'思明区' if i % 2 else '湖里区'},phone,1380000{i:04d},\n" for i in range(1, 9)))
BAD = CONTACTS + "K99,鼓浪屿,phone,13800009999,\n"


def ready(page) -> None:
    wd.wait_script_done(page)


def go(page, title: str, timings: dict[str, float]) -> None:
    started = time.perf_counter()
    page.get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
    ready(page)
    timings[title] = time.perf_counter() - started


def pick(page, label: str, option: str) -> None:
    """Choose an option of a selectbox found by its label."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).first.click()
    ready(page)


def upload(page, path) -> None:
    """Put a file into the page's uploader and wait until the page has it."""
    page.locator('input[type="file"]').set_input_files(str(path))
    page.get_by_text(path.name, exact=True).first.wait_for(timeout=30_000)
    ready(page)


def field(page, label: str):
    return page.get_by_label(label, exact=True)


def test_admin_takes_a_wave_from_nothing_to_fieldwork(tmp_path, monkeypatch):
    from survey.auth import SYSTEM, create_account
    from survey.bootstrap import init_store
    from survey.store import Store
    db = tmp_path / "survey.db"
    monkeypatch.setenv("SURVEY_ADMIN_PASSWORD", ADMIN_PASSWORD)
    store = init_store(db).store
    for name in ("p1", "p2"):  # accounts exist; their assignment to the new wave is done in the browser
        create_account(store, SYSTEM, name, "pollster", "pollster-pass-1", firm="A")
    store.close()
    csv_bad, csv_good = tmp_path / "名单-有误.csv", tmp_path / "名单.csv"
    csv_bad.write_text(BAD, encoding="utf-8")
    csv_good.write_text(CONTACTS, encoding="gbk")  # as Chinese Excel saves it
    timings: dict[str, float] = {}
    with wd.server(db, env={"SURVEY_ADMIN_PASSWORD": ADMIN_PASSWORD}) as base, sync_playwright() as pw:
        browser = wd.launch(pw)
        page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
        page.goto(base)
        page.get_by_label("用户名").fill("admin")
        page.get_by_label("密码").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_role("link", name="调查轮次").wait_for(timeout=30_000)
        ready(page)

        # 1. the wave: a bad date is refused naming the field, then it is created
        go(page, "调查轮次", timings)
        field(page, "轮次名称").fill(WAVE)
        field(page, "开始日期").first.fill("2026-13-01")
        field(page, "结束日期").first.fill("2026-04-30")
        page.get_by_role("button", name="创建轮次").click()
        page.get_by_text("开始日期：“2026-13-01”不是有效日期").wait_for(timeout=30_000)
        assert Store(db).wave(WAVE) is None
        field(page, "开始日期").first.fill("2026-03-01")
        page.get_by_role("button", name="创建轮次").click()
        page.get_by_text(f"轮次 {WAVE} 已创建").wait_for(timeout=30_000)
        w = Store(db).wave(WAVE)
        assert (w["opens_at"], w["closes_at"], w["status"]) == ("2026-03-01", "2026-04-30", "open")

        # 2. its settings: a bad rate refused in Chinese, then double entry, rate, seed, QC, stop on full
        go(page, "轮次设置", timings)
        pick(page, "调查轮次", WAVE)
        field(page, "回访比例（0–1）").fill("2")
        page.get_by_role("button", name="保存全部设置").click()
        page.get_by_text("回访比例（0–1）：须不大于 1").wait_for(timeout=30_000)
        assert "backcheck_rate" not in Store(db).wave(WAVE)["settings"]
        field(page, "回访比例（0–1）").fill("0.15")
        field(page, "回访抽样种子").fill("春季")
        field(page, "最短访问时长（秒）").fill("90")
        page.get_by_text("纸质问卷双录入").click()
        page.get_by_text("停止访问").click()
        page.get_by_role("button", name="保存全部设置").click()
        page.get_by_text(f"轮次 {WAVE} 的设置已保存").wait_for(timeout=30_000)
        s = Store(db).wave(WAVE)["settings"]
        assert (s["backcheck_rate"], s["backcheck_seed"], s["double_entry"], s["quota_action"],
                s["qc"]["speeder_floor_s"]) == (0.15, "春季", True, "stop", 90.0)

        # 3. the pollsters join the wave (accounts page)
        go(page, "账号管理", timings)
        page.get_by_role("tab", name="分配调查轮次").click()
        tab = page.get_by_role("tabpanel", name="分配调查轮次")
        for name in ("p1", "p2"):
            for label, option in (("用户名", name), ("调查轮次", WAVE)):
                tab.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
                page.get_by_role("option", name=option, exact=True).first.click()
            tab.get_by_role("button", name="分配", exact=True).click()
            page.get_by_text(f"已将 {name} 分配到 {WAVE}").wait_for(timeout=30_000)
            ready(page)
        assert Store(db).assigned_waves("p2") == [WAVE]

        # 4. the contact list: a bad file lists its row problems and stores nothing; the good one imports
        go(page, "样本名单与分派", timings)
        pick(page, "调查轮次", WAVE)
        upload(page, csv_bad)
        page.get_by_role("button", name="导入").click()
        page.get_by_text("名单未导入").wait_for(timeout=30_000)
        assert "鼓浪屿" in page.locator('[data-testid="stDataFrame"]').first.inner_text() or \
            page.get_by_text("名单未导入，共 1 处问题").count() == 1
        assert Store(db).cases(WAVE) == []
        upload(page, csv_good)
        page.get_by_role("button", name="导入").click()
        page.get_by_text(f"已导入 8 个新样本到轮次 {WAVE}").wait_for(timeout=30_000)
        ready(page)

        # 5. assignment: evenly between both pollsters
        page.get_by_text("平均分配").click()
        ready(page)
        page.get_by_role("button", name="分派", exact=True).click()
        page.get_by_text("已分派：p1 4 个；p2 4 个").wait_for(timeout=30_000)
        cases = Store(db).cases(WAVE)
        assert sorted(c["pollster"] for c in cases) == ["p1"] * 4 + ["p2"] * 4
        assert page.locator('[data-testid="stException"]').count() == 0

        for title in ("人口数据", "计分方案", "问卷版本"):  # the other admin pages open without an error
            go(page, title, timings)
            assert page.locator('[data-testid="stException"]').count() == 0, title
        browser.close()
    print("page timings (s):", {k: round(v, 2) for k, v in timings.items()})
