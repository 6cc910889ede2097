"""Score runs end to end: CLI against R's composite, JSON shape, report, publish and recompute."""
from __future__ import annotations

import json
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pandas as pd
import pytest

from analysis.io import read_population
from analysis.scoring import load_config
from survey.config import POPULATION_DIR, SCORING_DIR
from tests.analysis_support import reference_dir
from tests.conftest import ROOT

REF = reference_dir()


@pytest.mark.skipif(not (REF / "r_estimates.csv").exists(), reason="shared/reference not found")
def test_cli_score_gives_ten_times_the_r_composite_rounded_half_up(tmp_path):
    out = tmp_path / "r.xlsx"
    done = subprocess.run([sys.executable, "-m", "analysis", "score", str(REF / "responses_2000.csv"),
                           "--population", str(REF / "population.csv"), "--config",
                           str(SCORING_DIR / "default.yaml"), "--out", str(out), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    scores = json.loads(done.stdout)
    assert [set(s) for s in scores] == [{"unit", "rate", "rate_low", "rate_high", "n_valid", "points", "rank",
                                         "warnings", "rank_low", "rank_high", "p_below"}] * 6
    ref = pd.read_csv(REF / "r_estimates.csv")
    composite = ref[(ref["item"] == "composite") & (ref["unit"] != "全市")].set_index("unit")["rate"]
    for s in scores:
        expected = float(Decimal(f"{10 * float(composite[s['unit']]):.10f}").quantize(Decimal("0.01"), ROUND_HALF_UP))
        assert s["points"] == expected, s["unit"]
        assert s["rate"] == pytest.approx(composite[s["unit"]], rel=1e-6)
        assert s["rate_low"] < s["rate"] < s["rate_high"]
    assert sorted(s["rank"] for s in scores) == [1, 2, 3, 4, 5, 6]
    assert "config default sha256" in done.stderr and "data 2000 responses sha256" in done.stderr
    assert "exclusions 0" in done.stderr and "code 0.1.0" in done.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["摘要", "分项", "权重", "对比", "方法"]
    assert len(wb["摘要"]._charts) >= 1 and len(wb["分项"]._charts) >= 1
    assert_chart_references_resolve(wb)
    summary = list(wb["摘要"].iter_rows(min_row=4, max_row=5, values_only=True))
    assert summary[0][:3] == ("排名", "区", "得分") and summary[1][0] == 1


def test_bad_config_exits_2_naming_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nitems: [air, smell]\nmethod: banded\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "analysis", "score", str(REF / "responses_2000.csv"),
                           "--population", str(POPULATION_DIR / "xiamen-2020.csv"), "--config", str(bad),
                           "--out", str(tmp_path / "x.xlsx")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "bad.yaml: items: unknown item(s) smell" in done.stderr


def test_publish_then_recompute_gives_the_identical_hash(store, accounts):
    from survey import publishing
    from survey.demo import store_demo
    from survey.responses import set_excluded
    store_demo(store, "2025", 700, 4)
    ana = accounts["ana"]
    pop = read_population(POPULATION_DIR / "xiamen-2020.csv")
    run = publishing.compute_for_wave(store, ana, "2025", pop, load_config(SCORING_DIR / "default.yaml"))
    score_id = publishing.publish(store, ana, run)
    published = store.published_scores("2025")[0]
    assert published["id"] == score_id and published["result"] == run.to_json()
    # pressing 发布 again on the same result is the same publication
    again_run = publishing.compute_for_wave(store, ana, "2025", pop, load_config(SCORING_DIR / "default.yaml"))
    assert publishing.publish(store, ana, again_run) == score_id and len(store.published_scores("2025")) == 1
    check = publishing.verify(store, ana, published)
    assert check.identical and check.recomputed_hash == run.result_hash
    # the stored run is immutable
    with pytest.raises(Exception, match="immutable"):
        store.db.execute("UPDATE published_scores SET result_hash = 'x'")
    # an exclusion changes the data: recomputation says so
    set_excluded(store, ana, store.responses("2025")[0]["response_id"], True, "复核不合格")
    again = publishing.verify(store, ana, published)
    assert not again.identical and again.data_changed
    assert publishing.compute_for_wave(store, ana, "2025", pop, load_config(SCORING_DIR / "default.yaml")
                                       ).record["exclusions"][0]["reason"] == "复核不合格"


def test_pollster_may_not_run_or_publish(store, accounts):
    from survey import publishing
    from survey.auth import PermissionDenied
    with pytest.raises(PermissionDenied):
        publishing.compute_for_wave(store, accounts["p1"], "2025", read_population(POPULATION_DIR / "xiamen-2020.csv"),
                                    load_config(SCORING_DIR / "default.yaml"))


def test_wave_comparison_on_two_demo_waves(store, accounts):
    from analysis.score_run import wave_comparison
    from survey import publishing
    from survey.demo import store_demo
    store.add_wave("2026", "default-2025", ["思明区", "湖里区", "集美区", "海沧区", "同安区", "翔安区"], "admin")
    store_demo(store, "2025", 900, 1)
    store_demo(store, "2026", 900, 2)
    pop = read_population(POPULATION_DIR / "xiamen-2020.csv")
    cfg = load_config(SCORING_DIR / "default.yaml")
    now = publishing.compute_for_wave(store, accounts["ana"], "2026", pop, cfg)
    before = publishing.compute_for_wave(store, accounts["ana"], "2025", pop, cfg)
    table = wave_comparison(now, before)
    assert len(table) == 7 and "全市" in set(table["unit"]) and set(table["previous_wave"]) == {"2025"}
    row = table.iloc[0]
    assert row["difference"] == pytest.approx(row["rate"] - row["previous_rate"])
    assert row["low"] < row["difference"] < row["high"] and 0 <= row["p_value"] <= 1


def chart_references(wb) -> list[tuple[str, str]]:
    """(sheet holding the chart, formula) of every data and category reference of every chart."""
    out = []
    for ws in wb.worksheets:
        for chart in ws._charts:
            for series in chart.series:
                for ref in (series.val, series.cat):
                    num = getattr(ref, "numRef", None) if ref is not None else None
                    text = getattr(ref, "strRef", None) if ref is not None else None
                    for r in (num, text):
                        if r is not None and r.f:
                            out.append((ws.title, r.f))
    return out


def assert_chart_references_resolve(wb) -> None:
    """Every chart points at a sheet of the workbook, at cells that hold something."""
    refs = chart_references(wb)
    assert refs
    for holder, formula in refs:
        sheet, cells = formula.rsplit("!", 1)
        sheet = sheet.strip("'")
        assert sheet in wb.sheetnames, (holder, formula)
        first = cells.replace("$", "").split(":")[0]
        assert wb[sheet][first].value is not None, (holder, formula)
