"""A reviewer's journey in a real browser: import call recordings, listen, judge, exclude; the dashboard's rates and map.

chromium against `streamlit run` on a fresh store: the firm's supervisor opens 录音复核,
uploads a zip with a file off the naming convention (refused with its problem, nothing
stored), then the good zip; picks the queued interview whose call was recorded, hears it
(an audio player), records 不合格 with a reason and excludes the response; then finds the
rates by pollster and the map of door interviews on the dashboard. Each step is checked in
the store. With SURVEY_SCREENSHOTS=DIR the review queue and the door map are saved there
(docs/review-queue.png, docs/door-map.png).
"""
from __future__ import annotations

import io
import os
import struct
import time
import zipfile
from pathlib import Path

import pytest

from tests.browser_support import require_browser
from tools import web_driver as wd

pytestmark = pytest.mark.browser

sync_playwright = require_browser()

PASSWORD = "review-pass-123"
SHOTS = os.environ.get("SURVEY_SCREENSHOTS")
# 厦门: three communities of 思明区 and 湖里区 (approximate centres)
COMMUNITIES = {"中华街道": (24.4555, 118.0760), "鹭江街道": (24.4620, 118.0870), "江头街道": (24.5010, 118.1270)}


def wav(tone: int) -> bytes:
    frames = bytes([(tone * 7 + i) % 256 for i in range(8000)])  # one second, 8 kHz mono, 8 bit
    return (b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVE" + b"fmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8) + b"data" + struct.pack("<I", len(frames)) + frames)


def zipped(path: Path, files: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return path


def ready(page) -> None:
    wd.wait_script_done(page)


def go(page, title: str) -> None:
    page.get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
    ready(page)


def seed(db: Path, tmp_path: Path) -> tuple[str, Path, Path]:
    """Accounts, phone and door interviews (door ones located), a case whose complete was recorded."""
    from survey.auth import SYSTEM, assign, create_account, load_account
    from survey.bootstrap import init_store
    from survey.fieldwork import assign_cases, import_cases, record_attempt
    from survey.quality import run_qc
    from survey.recordings import review_queue
    from survey.responses import submit_interview
    from tests.conftest import complete_answers
    store = init_store(db).store
    for name, role in (("sup", "supervisor"), ("P01", "pollster"), ("P02", "pollster"), ("P03", "pollster")):
        create_account(store, SYSTEM, name, role, PASSWORD, firm="示例调查公司")
        assign(store, SYSTEM, name, wave="2025")
    people = {n: load_account(store, n) for n in ("P01", "P02", "P03")}
    for name, n in (("P01", 12), ("P02", 7), ("P03", 3)):
        for i in range(n):
            submit_interview(store, people[name], "2025", unit="思明区", mode="phone",
                             answers=complete_answers(air=(i % 5) + 1), submit_key=f"ph:{name}:{i}",
                             started_at=f"2025-10-{10 + i % 10:02d}T18:{10 + i:02d}:00")
    walk = {"P01": "中华街道", "P02": "鹭江街道", "P03": "江头街道"}
    for name, community in walk.items():
        lat0, lon0 = COMMUNITIES[community]
        for i in range(6):
            lat, lon = lat0 + 0.0011 * (i % 3) - 0.001, lon0 + 0.0013 * (i // 3) - 0.0006
            if name == "P03" and i >= 3:    # three from one spot: flagged
                lat, lon = lat0 + 0.002, lon0 + 0.002
            if name == "P02" and i == 5:    # one far from its community's other interviews
                lat, lon = lat0 + 0.04, lon0 - 0.03
            start, end = f"2025-10-15T{9 + i:02d}:00:00", f"2025-10-15T{9 + i:02d}:25:00"
            geo = {"start": {"lat": lat, "lon": lon, "accuracy": 9.0, "at": start},
                   "submit": {"lat": lat, "lon": lon, "accuracy": 7.0, "at": end}}
            submit_interview(store, people[name], "2025", unit="思明区", mode="door", answers=complete_answers(),
                             submit_key=f"door:{name}:{i}", started_at=start,
                             paradata={"household": {"community": community}, "evidence": {"geo": geo}})
    run_qc(store, SYSTEM, "2025")
    queued = [i for i in review_queue(store, SYSTEM, "2025") if i.interviewer == "P01" and i.mode == "phone"]
    rid = queued[0].response_id
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id,unit,mode,phone\nC0012,思明区,phone,13800000012\n", encoding="utf-8")
    import_cases(store, SYSTEM, cases, "2025")
    assign_cases(store, SYSTEM, "2025", "P01", case_ids=["C0012"])
    record_attempt(store, people["P01"], "C0012", "完成", response_id=rid, at="2025-10-15T18:42:10")
    store.close()
    bad = zipped(tmp_path / "录音-有误.zip", {"C0012_20251015183005.wav": wav(1), "录音2.wav": wav(2)})
    good = zipped(tmp_path / "录音.zip", {"C0012_20251015183005.wav": wav(1)})
    return rid, bad, good


def upload(page, path: Path) -> None:
    page.locator('input[type="file"]').set_input_files(str(path))
    page.get_by_text(path.name, exact=True).first.wait_for(timeout=30_000)
    # the name shows before the upload's rerun starts: let it start, then wait for it to end, so a
    # click that follows does not land on a button the rerun replaces (failed once in CI)
    page.wait_for_timeout(500)
    ready(page)


def test_reviewer_imports_listens_judges_and_excludes(tmp_path, monkeypatch):
    from survey.store import Store
    db = tmp_path / "survey.db"
    monkeypatch.setenv("SURVEY_ADMIN_PASSWORD", "admin-pass-123")
    rid, bad, good = seed(db, tmp_path)
    started = time.perf_counter()
    with wd.server(db) as base, sync_playwright() as pw:
        browser = wd.launch(pw)
        page = browser.new_context(viewport={"width": 1366, "height": 768} if SHOTS else {"width": 1280, "height": 900},
                                   locale="zh-CN").new_page()
        page.goto(base)
        page.get_by_label("用户名").fill("sup")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_role("link", name="录音复核").wait_for(timeout=30_000)
        ready(page)
        go(page, "录音复核")

        # 1. import: a file off the convention refuses the zip, naming the file; then the good zip
        page.get_by_role("tab", name="导入录音").click()
        upload(page, bad)
        page.get_by_role("button", name="导入录音").click()
        page.get_by_text("录音未导入，共 1 处问题").wait_for(timeout=30_000)
        assert page.get_by_text("录音2.wav：文件名不符合约定", exact=False).count() == 1
        assert Store(db).recordings("2025") == []
        upload(page, good)
        page.get_by_role("button", name="导入录音").click()
        page.get_by_text("已导入 1 个新录音").wait_for(timeout=30_000)
        rows = Store(db).recordings("2025")
        assert [(r["case_id"], r["response_id"], r["interviewer"]) for r in rows] == [("C0012", rid, "P01")]
        ready(page)

        # 2. the queue: pick the recorded interview, hear it, judge it 不合格 and exclude it
        page.get_by_role("tab", name="复核队列").click()
        ready(page)
        page.locator('[data-testid="stSelectbox"]').filter(has_text="选择要复核的问卷").first.click()
        page.keyboard.type(rid)
        page.get_by_role("option", name=rid, exact=False).first.click()
        ready(page)
        page.locator('[data-testid="stAudio"]').first.wait_for(timeout=30_000)
        assert page.get_by_text("C0012_20251015183005.wav", exact=False).count() >= 1
        if SHOTS:
            # the picked interview at the top of a 1366×768 screen: its player and the outcome form below
            page.get_by_text("选择要复核的问卷").first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(800)
            page.screenshot(path=str(Path(SHOTS) / "review-queue.png"))
        form = page.locator('[data-testid="stForm"]')
        form.get_by_text("不合格", exact=True).click()
        form.get_by_label("原因（不合格时必填）").fill("录音中访问员代答")
        form.get_by_text("同时剔除这份问卷").click()
        form.get_by_role("button", name="保存复核结果").click()
        page.get_by_text(f"已记录问卷 {rid} 的复核结果：不合格，并已剔除。").wait_for(timeout=30_000)
        ready(page)
        store = Store(db)
        history = store.review_history(rid)
        assert [(h["outcome"], h["reason"], h["actor"], h["excluded"]) for h in history] == [
            ("fail", "录音中访问员代答", "sup", 1)]
        assert {e["response_id"]: e["reason"] for e in store.current_exclusions("2025")} == {
            rid: "录音复核：录音中访问员代答"}
        # a 不合格 without a reason is refused in Chinese and stores nothing
        form.get_by_text("不合格", exact=True).click()
        form.get_by_role("button", name="保存复核结果").click()
        page.get_by_text("不合格须写明原因").wait_for(timeout=30_000)
        assert len(store.review_history(rid)) == 1
        assert page.locator('[data-testid="stException"]').count() == 0

        # 3. the dashboard: rates by pollster and the map of door interviews with the location flags
        go(page, "督导工作台")
        page.get_by_role("heading", name="录音复核（按访问员）").wait_for(timeout=30_000)
        page.get_by_role("heading", name="入户访问地图").scroll_into_view_if_needed()
        page.locator('[data-testid="stDeckGlJsonChart"]').first.wait_for(timeout=30_000)
        page.get_by_role("heading", name="定位质量标记").wait_for(timeout=30_000)
        page.get_by_text("定位重合", exact=True).first.wait_for(state="attached", timeout=30_000)  # grid cells
        assert page.get_by_text("远离所在社区", exact=True).count() >= 1
        assert page.locator('[data-testid="stException"]').count() == 0
        if SHOTS:
            page.wait_for_timeout(2500)  # the deck.gl canvas draws after the page settles
            page.get_by_role("heading", name="入户访问地图").first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(Path(SHOTS) / "door-map.png"))
        browser.close()
    print(f"reviewer journey: {time.perf_counter() - started:.1f} s")
