"""Score rules of issue 13: undefined composites, not-applicable items, the threshold, rank
intervals, not-estimable units, extreme weights, order-free result hash, config refusals."""
from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.estimation import estimate_table, make_design
from analysis.ranking import p_below
from analysis.score_run import compute_score_run
from analysis.scoring import parse_config, score_table
from tests.analysis_support import ITEMS, synthetic
from tests.conftest import ROOT

SIZES = {"甲区": 260, "乙区": 300, "丙区": 240, "丁区": 280}
CONFIG = {"name": "t", "items": ITEMS, "threshold": 0.8, "full_points": 10}


@pytest.fixture(scope="module")
def sample():
    return synthetic(13, SIZES, education=False)


def by_unit(run):
    return {s["unit"]: s for s in run.to_json()}


def test_an_applicable_item_without_valid_answers_leaves_the_unit_unscored(sample):
    responses, population = sample
    responses = responses.copy()
    responses.loc[responses["unit"] == "乙区", "rural"] = 9
    run = compute_score_run(responses, population, parse_config(CONFIG))
    got = by_unit(run)
    assert got["乙区"]["points"] is None and got["乙区"]["rank"] is None
    assert got["乙区"]["rank_low"] is None and got["乙区"]["p_below"] is None and got["乙区"]["rate"] is None
    assert any("rural" in w and "农村人居环境" in w for w in got["乙区"]["warnings"])
    assert sorted(s["rank"] for u, s in got.items() if u != "乙区") == [1, 2, 3]
    assert list(run.scores["unit"])[-1] == "乙区"  # unranked last
    assert run.extra["pairwise"].query("unit_a == '乙区' or unit_b == '乙区'")["p"].isna().all()


@pytest.mark.skipif("not_applicable" not in inspect.signature(estimate_table).parameters,
                    reason="activates when estimation takes not_applicable (i13a)")
def test_not_applicable_renormalises_and_is_recorded(sample):
    responses, population = sample
    responses = responses.copy()
    responses.loc[responses["unit"] == "乙区", "rural"] = 9
    cfg = parse_config({**CONFIG, "not_applicable": {"乙区": ["rural"]}})
    run = compute_score_run(responses, population, cfg)
    got = by_unit(run)
    assert got["乙区"]["points"] is not None and got["乙区"]["rank"] is not None
    items = run.estimates[(run.estimates["unit"] == "乙区") & run.estimates["item"].isin(ITEMS)]
    expected = items[items["item"] != "rural"]["rate"].mean()
    assert got["乙区"]["rate"] == pytest.approx(expected, rel=1e-12)
    stated = run.record["not_applicable"]["乙区"]
    assert stated["items"] == ["rural"] and sum(stated["item_weights"].values()) == pytest.approx(1)
    assert "rural" not in stated["item_weights"]


def test_threshold_probability_and_rank_intervals_in_the_json(sample):
    responses, population = sample
    run = compute_score_run(responses, population, parse_config(CONFIG))
    comp = run.estimates[run.estimates["item"] == "composite"].set_index("unit")
    for s in run.to_json():
        c = comp.loc[s["unit"]]
        assert s["p_below"] == pytest.approx(float(p_below([c["rate"]], [c["rate_se"]], [c["df"]], 0.8)[0]))
        assert s["rank_low"] <= s["rank"] <= s["rank_high"]
    status = dict(zip(run.scores["unit"], run.scores["threshold_status"]))
    for unit, st in status.items():
        c = comp.loc[unit]
        assert st == ("above" if c["rate_low"] >= 0.8 else "below" if c["rate_high"] < 0.8 else "unclear")
    assert len(run.extra["pairwise"]) == 6


def test_no_threshold_no_p_below(sample):
    responses, population = sample
    cfg = {k: v for k, v in CONFIG.items() if k != "threshold"}
    run = compute_score_run(responses, population, parse_config(cfg))
    assert all("p_below" not in s and "rank_low" in s for s in run.to_json())


def test_shuffled_rows_give_the_same_result_hash(sample):
    responses, population = sample
    cfg = parse_config(CONFIG)
    one = compute_score_run(responses, population, cfg)
    two = compute_score_run(responses.sample(frac=1, random_state=7), population, cfg)
    assert one.result_hash == two.result_hash and one.to_json() == two.to_json()


def test_saturated_unit_is_not_estimable_and_does_not_rank_first(sample):
    responses, population = sample
    ages = ["18-29", "30-39", "40-49", "50-59", "60+"]
    tiny = pd.DataFrame([{"response_id": f"戊区-{i}", "unit": "戊区", "mode": "web", "sex": s, "age_group": a,
                          **{item: 5 if i % 2 else 4 for item in ITEMS}}
                         for i, (s, a) in enumerate(zip(["M", "F", "M", "F", "M", "F"], [*ages, ages[0]]))])
    tiny.loc[0, "air"] = 2  # not unanimous: 0 < rate < 1, yet the SE is 0 by construction
    pop = population[population["unit"] == "甲区"].assign(unit="戊区")
    run = compute_score_run(pd.concat([responses, tiny]), pd.concat([population, pop]), parse_config(CONFIG))
    got = by_unit(run)["戊区"]
    assert got["points"] is None and got["rank"] is None
    assert any("无法估计" in w for w in got["warnings"])


def test_extreme_weights_are_flagged(sample):
    responses, population = sample
    run = compute_score_run(responses, population, parse_config({**CONFIG, "warnings": {"max_weight_ratio": 1.5}}))
    diag = run.diagnostics.set_index("unit")
    assert {"max_weight_ratio", "weights_above"} <= set(diag.columns)
    flagged = diag[diag["weights_above"] > 0].index
    assert len(flagged) > 0
    for s in run.to_json():
        has = any("平均权重的 1.5 倍" in w for w in s["warnings"])
        assert has == (s["unit"] in flagged)


def test_margin_of_exactly_five_points_is_not_flagged():
    cfg = parse_config({"name": "t", "items": ["air"]})
    units = pd.DataFrame([("a", 0.75, 0.7, 0.8, 400), ("b", 0.8, 0.7499, 0.85, 400)],
                         columns=["unit", "basis", "low", "high", "n_valid"])
    assert (0.8 - 0.7) / 2 * 100 > 5  # floating error the rule must forgive
    warnings = dict(zip(*[score_table(units, cfg)[c] for c in ("unit", "warnings")]))
    assert warnings["a"] == [] and len(warnings["b"]) == 1


@pytest.mark.parametrize("text, field", [
    ("items: {air: .nan, water: 1}", "items.air"),
    ("items: {air: -1, water: 1}", "items"),
    ("items: [air]\nfull_points: .inf", "full_points"),
    ("items: [[air, [1]]]", "items.air"),
    ("items: [[[air]]]", "items"),
    ("items: [air]\nthreshold: .nan", "threshold"),
    ("items: [air]\nwarnings: {max_margin_points: .inf}", "warnings.max_margin_points"),
])
def test_bad_numbers_in_a_config_exit_2_naming_the_field(tmp_path, sample, text, field):
    responses, population = sample
    responses.to_csv(tmp_path / "r.csv", index=False)
    population.to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / "bad.yaml").write_text(f"name: x\n{text}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "analysis", "score", str(tmp_path / "r.csv"), "--population",
                           str(tmp_path / "p.csv"), "--config", str(tmp_path / "bad.yaml"), "--out",
                           str(tmp_path / "x.xlsx")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"bad.yaml: {field}:"), lines
    assert not (tmp_path / "x.xlsx").exists()


def test_cli_record_line_ends_in_the_full_result_hash_same_for_shuffled_rows(tmp_path, sample):
    responses, population = sample
    population.to_csv(tmp_path / "p.csv", index=False)
    (tmp_path / "c.yaml").write_text(json.dumps(CONFIG, ensure_ascii=False), encoding="utf-8")
    hashes = []
    for n, frame in enumerate((responses, responses.sample(frac=1, random_state=3))):
        frame.to_csv(tmp_path / f"r{n}.csv", index=False)
        done = subprocess.run([sys.executable, "-m", "analysis", "score", str(tmp_path / f"r{n}.csv"),
                               "--population", str(tmp_path / "p.csv"), "--config", str(tmp_path / "c.yaml"),
                               "--out", str(tmp_path / f"x{n}.xlsx"), "--json"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        line = [ln for ln in done.stderr.splitlines() if "result sha256" in ln][0]
        hashes.append(re.search(r"result sha256 ([0-9a-f]{64})$", line).group(1))
        assert all("p_below" in s for s in json.loads(done.stdout))
    assert hashes[0] == hashes[1]


@pytest.mark.skipif("cluster" not in inspect.signature(make_design).parameters,
                    reason="activates when estimation takes cluster (i13a)")
def test_cluster_from_the_config_or_the_cli_reaches_the_design(tmp_path, sample):
    responses, population = sample
    responses = responses.copy()
    rng = np.random.default_rng(5)
    responses["interviewer"] = [f"P{rng.integers(0, 6)}" if m == "phone" else "" for m in responses["mode"]]
    plain = compute_score_run(responses, population, parse_config(CONFIG))
    clustered = compute_score_run(responses, population, parse_config({**CONFIG, "design": {"cluster": "interviewer"}}))
    by_cli = compute_score_run(responses, population, parse_config(CONFIG), cluster="interviewer")
    assert clustered.record["design"] == {"strata": "unit", "psu": "interviewer"}
    assert clustered.to_json() == by_cli.to_json()
    effect = clustered.extra["cluster_effect"].set_index("unit")
    comp = plain.estimates[plain.estimates["item"] == "composite"].set_index("unit")["rate_se"]
    assert effect["se_respondents"].to_numpy() == pytest.approx(comp.reindex(effect.index).to_numpy(), rel=1e-12)
    assert effect["widening"].to_numpy() == pytest.approx((effect["se_clustered"] / effect["se_respondents"]).to_numpy())
    assert not np.allclose(effect["se_clustered"], effect["se_respondents"])
