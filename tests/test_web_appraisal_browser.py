"""A resident rates the units of an appraisal wave on a phone-sized page (chromium at 390×844).

The units come a few per screen in the resident's own random order; awareness first, and the
satisfaction question appears only after 了解/接触过. The stored response keeps the order in
paradata. Screen timings are printed (the issue's closing note asks for them).
"""
from __future__ import annotations

import os
import time

import pytest

from tests.browser_support import require_browser
from tools import web_driver as wd

pytestmark = pytest.mark.browser

sync_playwright = require_browser()

AWARE_OF = {"eco_env": "比较满意", "water_group": "满意", "meteo": "一般"}
SHOT = os.environ.get("APPRAISAL_SCREENSHOT")  # e.g. docs/web_appraisal.png


def _radio(page, text: str):
    return page.locator('[data-testid="stRadio"]').filter(has_text=text)


def test_resident_rates_units_in_own_order(tmp_path):
    from survey import webform
    from survey.auth import SYSTEM
    from survey.bootstrap import init_store
    from survey.store import Store
    db = tmp_path / "survey.db"
    store = init_store(db).store
    store.add_wave("A25", "appraisal-2025", ["思明区"], "admin")
    link = webform.create_link(store, SYSTEM, "A25", "思明区")
    qn = __import__("survey.bootstrap", fromlist=["x"]).questionnaire_for_wave(store, "A25")
    names = {u.id: u.name for u in qn.rated_units}
    store.close()
    timings = []
    with wd.server(db) as base, sync_playwright() as pw:
        browser = wd.launch(pw)
        page = wd.phone_context(browser).new_page()
        page.goto(f"{base}/survey?l={link}")
        wd.wait_ready(page)
        wd.start(page)
        for q in qn.by_role("screening"):
            _radio(page, q.text).first.get_by_text("是", exact=True).click()
            wd.wait_ready(page)
        wd.next_screen(page)
        seen: list[str] = []
        per_screen: list[set[str]] = []
        while page.get_by_text("您的性别").count() == 0:
            t0 = time.perf_counter()
            on_screen = [uid for uid, name in names.items() if _radio(page, f"您是否了解或接触过{name}？").count()]
            assert 1 <= len(on_screen) <= webform.UNITS_PER_SCREEN
            for uid in on_screen:
                name = names[uid]
                assert _radio(page, f"您对{name}的工作是否满意？").count() == 0  # not before 了解
                choice = "了解/接触过" if uid in AWARE_OF else "不了解"
                _radio(page, f"您是否了解或接触过{name}？").first.get_by_text(choice, exact=True).click()
                wd.wait_ready(page)
                if uid in AWARE_OF:
                    rating = _radio(page, f"您对{name}的工作是否满意？")
                    rating.first.get_by_text(AWARE_OF[uid], exact=True).click()
                    wd.wait_ready(page)
            if SHOT and any(u in AWARE_OF for u in on_screen) and not os.path.exists(SHOT):
                page.screenshot(path=SHOT, full_page=True)
            seen += on_screen
            per_screen.append(set(on_screen))
            wd.next_screen(page)
            timings.append(time.perf_counter() - t0)
        wd.answer_screen(page, {"sex": "女", "age_group": "40-49岁", "education": "大专"})
        page.get_by_role("button", name="提交问卷").click()
        page.get_by_text("提交成功").wait_for(timeout=30_000)
        browser.close()
    print(f"appraisal web list: {len(timings)} unit screens, {len(seen)} units, seconds per screen "
          f"(answer + next, phone 390x844) median {sorted(timings)[len(timings) // 2]:.2f}, max {max(timings):.2f}")
    assert sorted(seen) == sorted(names)
    rows = Store(db).responses("A25")
    assert len(rows) == 1
    row = rows[0]
    assert row["mode"] == "web" and row["unit"] == "思明区"
    order = row["paradata"]["unit_order"]  # the screens showed the units in the stored order
    k = webform.UNITS_PER_SCREEN
    assert [set(order[i:i + k]) for i in range(0, len(order), k)] == per_screen
    assert order != [u.id for u in qn.rated_units]  # a random order, not the questionnaire's
    codes = {"满意": 5, "比较满意": 4, "一般": 3}
    for uid in names:
        if uid in AWARE_OF:
            assert row["answers"][f"{uid}_aware"] == 1 and row["answers"][uid] == codes[AWARE_OF[uid]]
        else:
            assert row["answers"][f"{uid}_aware"] == 2 and uid not in row["answers"]
