"""Retake the README's screenshots of docs/ on a demo store, the way a user sees the pages.

    python -m survey demo --n 2000 --seed 1            # with SURVEY_DB=/tmp/shots/survey.db
    python tools/readme_screenshots.py --store /tmp/shots/survey.db [--only review,supervisor] [--out docs]

Desktop pages at 1366×768 (a common office laptop), the resident pages on a 390×844 phone
at scale 2, in chromium with the CJK font of the machine (fonts-wqy-microhei). The script
runs QC and publishes the wave's score when the store has none yet, and adds a web link
to the appraisal wave when there is one (`demo --kind appraisal`). Not retaken here:
docs/cati.png, docs/review-queue.png and docs/door-map.png (their browser tests take
them with SURVEY_SCREENSHOTS=DIR).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools import web_driver as wd  # noqa: E402

DESKTOP = {"width": 1366, "height": 768}
ADMIN_PASSWORD = "admin-pass-123"
DEMO_PASSWORD = "demo-2025"


def bad_import_csv() -> str:
    """A responses file with every column and three rows each wrong in one cell: the row problem list."""
    from survey.questionnaire import load_shipped
    qn = load_shipped("default-2025")
    ids = [q.id for q in qn.questions]
    first = {q.id: "" if q.type == "text" else str(qn.options(q)[0 if q.role == "screening" else 1].code)
             for q in qn.questions}
    rows = [dict(first, response_id=f"X-{i}", unit="思明区", mode="phone") for i in range(1, 5)]
    rows[0]["unit"], rows[1]["mode"], rows[2]["air"] = "鼓浪屿", "fax", "7"
    header = ["response_id", "unit", "mode", *ids]
    return "\n".join([",".join(header), *(",".join(r[c] for c in header) for r in rows)]) + "\n"


def prepare(db: Path) -> dict[str, str]:
    """QC run, a publication and web links where the store lacks them; returns the survey URLs' queries."""
    from survey import publishing, quality, webform
    from survey.auth import SYSTEM
    from analysis.io import read_population
    from analysis.scoring import load_config
    from survey.config import POPULATION_DIR, SCORING_DIR
    from survey.store import Store
    store = Store(db)
    if not store.qc_runs("2025"):
        quality.run_qc(store, SYSTEM, "2025")
    if not store.published_scores("2025"):
        run = publishing.compute_for_wave(store, SYSTEM, "2025", read_population(POPULATION_DIR / "xiamen-2020.csv"),
                                          load_config(SCORING_DIR / "default.yaml"))
        publishing.publish(store, SYSTEM, run)
    queries = {"web_survey": "l=" + webform.create_link(store, SYSTEM, "2025", "思明区")}
    appraisal = [w["id"] for w in store.waves() if w["id"].endswith("评议")]
    if appraisal:
        unit = store.wave(appraisal[0])["units"][0]
        queries["web_appraisal"] = "l=" + webform.create_link(store, SYSTEM, appraisal[0], unit)
    store.close()
    return queries


def settle(page: Any, wait: int = 1500) -> None:
    wd.wait_script_done(page, timeout=120_000)
    page.mouse.click(5, 760)  # no focus ring or open menu on the shot
    page.wait_for_timeout(wait)  # charts draw after the script run


def on_wave(page: Any, title: str, heading: str | None = None, wave: str = "2025") -> None:
    """Open a page and choose the demo's wave (the page may remember another, e.g. the appraisal wave)."""
    wd.go(page, title, heading)
    wd.pick(page, "调查轮次", wave, exact=True)


def admin_shots(page: Any) -> dict[str, Callable[[], None]]:
    return {"admin_waves": lambda: wd.go(page, "调查轮次"),
            "admin_settings": lambda: on_wave(page, "轮次设置"),
            "admin_contacts": lambda: on_wave(page, "样本名单与分派"),
            "admin_questionnaires": lambda: wd.go(page, "问卷版本")}


def supervisor_shots(page: Any) -> dict[str, Callable[[], None]]:
    return {"supervisor": lambda: on_wave(page, "督导工作台"),
            "review": lambda: on_wave(page, "质量审核", "质量审核与剔除")}


def analyst_shots(page: Any, tmp: Path) -> dict[str, Callable[[], None]]:
    def bad_import() -> None:
        on_wave(page, "数据导入导出", "数据导入与导出")
        path = tmp / "回收问卷-有误.csv"
        path.write_text(bad_import_csv(), encoding="utf-8")
        page.locator('input[type="file"]').set_input_files(str(path))
        page.get_by_text(path.name, exact=True).first.wait_for(timeout=30_000)
        wd.wait_script_done(page)
        page.get_by_role("button", name="导入", exact=True).click()
        page.locator('[data-testid="stAlertContentError"]').first.wait_for(timeout=60_000)

    def modes() -> None:
        on_wave(page, "分析与计分", "满意度分析与计分")
        page.get_by_role("tab", name="比较与趋势").click(timeout=180_000)
        page.get_by_role("tabpanel", name="比较与趋势").locator('[data-testid="stVegaLiteChart"]').first.wait_for(
            timeout=120_000)
        wd.wait_script_done(page, timeout=120_000)
        page.mouse.move(800, 500)
        page.mouse.wheel(0, 420)  # the tab's tables and charts, under the inputs

    def scores() -> None:
        on_wave(page, "分析与计分", "满意度分析与计分")
        page.get_by_role("tabpanel", name="得分").locator('[data-testid="stVegaLiteChart"]').first.wait_for(
            timeout=180_000)
        wd.wait_script_done(page, timeout=120_000)
        page.mouse.move(800, 500)
        page.mouse.wheel(0, 400)  # the score table, the notes on the line and the rank intervals, the chart

    return {"analysis": scores, "import": bad_import, "analysis_modes": modes}


def liaison_shots(page: Any) -> dict[str, Callable[[], None]]:
    # the liaison's only page, opened on login (no menu)
    return {"appeals": lambda: page.get_by_role("heading", name="区级结果与申诉").first.wait_for(timeout=60_000)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True, type=Path, help="a demo store (python -m survey demo)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    ap.add_argument("--only", help="comma-separated shot names, e.g. review,supervisor")
    args = ap.parse_args()
    os.environ.setdefault("SURVEY_ADMIN_PASSWORD", ADMIN_PASSWORD)
    only = set(args.only.split(",")) if args.only else None
    queries = prepare(args.store)
    args.out.mkdir(parents=True, exist_ok=True)
    taken: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, wd.server(args.store, script="server.py") as base, \
            sync_playwright() as pw:
        browser = wd.launch(pw)

        def shoot(name: str, page: Any, step: Callable[[], None]) -> None:
            if only is not None and name not in only:
                return
            step()
            settle(page)
            errors = page.locator('[data-testid="stException"]')
            if errors.count():
                raise SystemExit(f"{name}: the page shows an exception: {errors.first.inner_text()[:500]}")
            page.screenshot(path=str(args.out / f"{name}.png"))
            taken.append(name)

        for user, password, shots in (
                ("admin", os.environ["SURVEY_ADMIN_PASSWORD"], admin_shots),
                ("supervisor", DEMO_PASSWORD, supervisor_shots),
                ("analyst", DEMO_PASSWORD, lambda p: analyst_shots(p, Path(tmp))),
                ("liaison", DEMO_PASSWORD, liaison_shots)):
            context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
            page = context.new_page()
            steps = shots(page)
            if only is None or only & set(steps):
                wd.sign_in(page, base, user, password)
                for name, step in steps.items():
                    shoot(name, page, step)
            context.close()

        for name, query in queries.items():  # the resident's phone: the intro, then the second screen
            def walk(page: Any = None, query: str = query) -> None:
                page.goto(f"{base}/survey?{query}")
                wd.wait_ready(page)
                wd.start(page)
                if name == "web_survey":
                    wd.answer_screen(page)
                    wd.next_screen(page)
                else:  # screening, then the first unit screen: one unit known, its rating asked next
                    for group in range(2):
                        page.locator('[role="radiogroup"]').nth(group).get_by_text("是", exact=True).click()
                        wd.wait_ready(page)
                    wd.next_screen(page)
                    page.get_by_text("了解/接触过", exact=True).first.click()
                    wd.wait_ready(page)
            context = wd.phone_context(browser)
            page = context.new_page()
            shoot(name, page, lambda page=page, walk=walk: walk(page))
            context.close()
        browser.close()
    print("taken:", ", ".join(f"{args.out / n}.png" for n in taken))


if __name__ == "__main__":
    main()
