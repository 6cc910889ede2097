"""The project against the R vectors committed in tests/reference/ (made by make_reference.R).

The data were drawn in R with their own seed (four unequal units, three margins, mode
mixes that differ, interviewers as clusters, an all-9 item, rates of 0 and 1), so these
tests need neither ../shared nor R. Every column is compared at 1e-6 relative.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.distributions import t_cdf
from analysis.errors import InputError
from analysis.estimation import contrast, estimate_table, make_design
from analysis.io import read_population, read_responses
from analysis.weighting import rake
from tests.analysis_support import PROJECT_REFERENCE as REF
from tests.conftest import ROOT

ITEMS = ["air", "noise", "rural", "sea", "overall"]
ITEM_WEIGHTS = {"air": .3, "noise": .2, "rural": .2, "sea": .2, "overall": .1}
VARIABLES = ("sex", "age_group", "education")
CLUSTER = {"srs": None, "cluster": "interviewer"}
COMPARED = ["rate", "rate_se", "rate_se_fixed_weights", "rate_low", "rate_high", "rate_low_kg", "rate_high_kg",
            "deff", "df", "n_valid", "index", "index_se"]


@pytest.fixture(scope="module")
def data():
    return read_responses(REF / "responses.csv"), read_population(REF / "population.csv")


def ours_for(responses, population, design_name: str) -> pd.DataFrame:
    cluster = CLUSTER[design_name]
    plain = estimate_table(responses, population, ITEMS, ITEM_WEIGHTS, variables=VARIABLES, cluster=cluster)
    by = estimate_table(responses, population, ITEMS, ITEM_WEIGHTS, by="mode", variables=VARIABLES,
                        cluster=cluster).rename(columns={"mode": "group"})
    return pd.concat([plain.assign(group=""), by]).replace({"全市": "ALL"})


def r_domains() -> pd.DataFrame:
    ref = pd.read_csv(REF / "r_domains.csv")
    ref["group"] = ref["group"].fillna("")
    return ref


@pytest.mark.parametrize("design_name", ["srs", "cluster"])
def test_every_column_of_every_domain_equals_r(data, design_name):
    """Units, 全市, unit × mode and 全市 × mode; respondents or interviewers as PSUs (R svyby / subset)."""
    responses, population = data
    ref = r_domains()
    ref = ref[ref["design"] == design_name]
    merged = ref.merge(ours_for(responses, population, design_name), on=["unit", "group", "item"],
                       suffixes=("_r", ""), how="left", validate="1:1")
    assert len(merged) == len(ref) > 100 and merged["n"].notna().all()
    for col in COMPARED:
        expected, got = merged[f"{col}_r"].to_numpy(float), merged[col].to_numpy(float)
        known = ~np.isnan(expected)
        assert known.sum() > 40, col
        np.testing.assert_allclose(got[known], expected[known], rtol=1e-6, atol=1e-9, err_msg=col)
    # where R has no estimate (no valid answer, or the composite over such an item), neither have we
    for col in ("rate", "rate_se"):
        assert merged.loc[merged[f"{col}_r"].isna(), col].isna().all(), col
    # within a unit, the modes' SEs differ (they used to be one and the same)
    u1 = merged[(merged["unit"] == "U1") & (merged["group"] != "") & (merged["item"] == "air")]
    assert u1["rate_se"].nunique() == len(u1) == 3


def test_clusters_widen_the_intervals_and_change_df(data):
    responses, population = data
    srs = estimate_table(responses, population, ["overall"], variables=VARIABLES)
    clu = estimate_table(responses, population, ["overall"], variables=VARIABLES, cluster="interviewer")
    assert (clu["df"] < srs["df"]).all()
    assert not np.allclose(clu["rate_se"], srs["rate_se"])
    np.testing.assert_array_equal(clu["rate"], srs["rate"])


def test_all_nine_item_leaves_the_composite_empty(data):
    responses, population = data
    table = estimate_table(responses, population, ITEMS, ITEM_WEIGHTS, variables=VARIABLES)
    u3 = table[table["unit"] == "U3"].set_index("item")
    assert u3.at["rural", "n_valid"] == 0
    assert np.isnan(u3.at["rural", "rate"]) and np.isnan(u3.at["rural", "rate_se"])
    assert np.isnan(u3.at["composite", "rate"]) and np.isnan(u3.at["composite", "rate_se"])
    # declared not applicable in U3, the item drops out and the weights are renormalised
    na = estimate_table(responses, population, ITEMS, ITEM_WEIGHTS, variables=VARIABLES,
                        not_applicable={"U3": ["rural"]})
    u3 = na[na["unit"] == "U3"].set_index("item")
    rest = {k: v for k, v in ITEM_WEIGHTS.items() if k != "rural"}
    expected = sum(v * u3.at[k, "rate"] for k, v in rest.items()) / sum(rest.values())
    assert u3.at["composite", "rate"] == pytest.approx(expected, rel=1e-12)
    assert u3.at["composite", "rate_se"] > 0


@pytest.mark.parametrize("design_name", ["srs", "cluster"])
def test_mode_contrasts_equal_r_svycontrast(data, design_name):
    responses, population = data
    design = make_design(responses, population, VARIABLES, cluster=CLUSTER[design_name])
    ref = pd.read_csv(REF / "r_contrasts.csv")
    mode, unit = responses["mode"].to_numpy(), responses["unit"].to_numpy()
    for row in ref[ref["design"] == design_name].itertuples():
        where = np.ones(len(responses), bool) if row.unit == "ALL" else unit == row.unit
        c = contrast(design, row.item, where & (mode == row.a), where & (mode == row.b))
        assert c.difference == pytest.approx(row.difference, rel=1e-6)
        assert c.se == pytest.approx(row.se, rel=1e-6)


@pytest.mark.parametrize("design_name", ["srs", "cluster"])
def test_threshold_probability_equals_r(data, design_name):
    responses, population = data
    table = estimate_table(responses, population, ["overall"], variables=VARIABLES,
                           cluster=CLUSTER[design_name])
    table = table[table["item"] == "overall"].set_index("unit")
    ref = pd.read_csv(REF / "r_threshold.csv")
    ref = ref[ref["design"] == design_name]
    ranking = importlib.util.find_spec("analysis.ranking")
    for row in ref.itertuples():
        r, se, df = table.at[row.unit, "rate"], table.at[row.unit, "rate_se"], table.at[row.unit, "df"]
        assert df == row.df
        z = (np.log(row.threshold / (1 - row.threshold)) - np.log(r / (1 - r))) / (se / (r * (1 - r)))
        assert t_cdf(z, df) == pytest.approx(row.p_below, rel=1e-6)
        if ranking is not None:  # the scoring side's p_below (analysis.ranking) on our estimates
            from analysis.ranking import p_below
            got = p_below(np.array([r]), np.array([se]), np.array([df]), row.threshold)
            assert float(np.asarray(got).ravel()[0]) == pytest.approx(row.p_below, rel=1e-6)


def test_three_margin_weights_equal_r(data):
    responses, population = data
    weights, _ = rake(responses, population, VARIABLES)
    expected = pd.read_csv(REF / "r_weights_3margins.csv").set_index("response_id")["weight"]
    got = pd.Series(weights.to_numpy(), index=responses["response_id"])
    np.testing.assert_allclose(got.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-6)


def margin_error(responses, population, weights) -> float:
    frame = responses.assign(w=np.asarray(weights))
    worst = 0.0
    for var in VARIABLES:
        got = frame.groupby(["unit", var])["w"].sum()
        pop = population[population["variable"] == var].set_index(["unit", "category"])["population"]
        total = population[population["variable"] == var].groupby("unit")["population"].sum()
        for (u, c), target in pop.items():
            if u in set(frame["unit"]):
                worst = max(worst, abs(got.get((u, c), 0.0) - target) / total[u])
    return worst


def test_bounded_raking_succeeds_where_r_logit_calibration_converges(data):
    """Bounds 0.3, 3 on three margins: R's calibrate(calfun="logit") converges in U1-U3 and we
    give its weights; in U4 it does not, and a linear program confirms no weights exist."""
    responses, population = data
    summary = pd.read_csv(REF / "r_bounds_summary.csv")
    expected = pd.read_csv(REF / "r_weights_bounded.csv").set_index("response_id")["weight"]
    converged = summary.loc[summary["converged"], "unit"].tolist()
    assert converged == ["U1", "U2", "U3"]
    assert (summary["unbounded_g_max"] > 3).all()  # the bounds bind in every unit
    part = responses[responses["unit"].isin(converged)]
    weights, _ = rake(part, population[population["unit"].isin(converged)], VARIABLES, bounds=(0.3, 3))
    ratio = weights / weights.groupby(part["unit"]).transform("mean")
    assert ratio.min() >= 0.3 * (1 - 1e-9) and ratio.max() <= 3 * (1 + 1e-9)
    assert margin_error(part, population, weights) <= 1e-6
    got = pd.Series(weights.to_numpy(), index=part["response_id"])
    np.testing.assert_allclose(got.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-6)
    with pytest.raises(InputError) as err:
        rake(responses, population, VARIABLES, bounds=(0.3, 3))
    assert err.value.problems == [p for p in err.value.problems if p.startswith("unit U4: the upper bound 3 binds")]
    assert len(err.value.problems) == 1


def test_a_slow_alternation_is_not_a_refusal(data, monkeypatch):
    """With the cap-and-rake rounds cut to one, the logit calibration still finds the weights."""
    import analysis.weighting as weighting
    responses, population = data
    part = responses[responses["unit"] == "U1"]
    monkeypatch.setattr(weighting, "MAX_BOUND_ROUNDS", 1)
    weights, _ = rake(part, population[population["unit"] == "U1"], VARIABLES, bounds=(0.3, 3))
    assert margin_error(part, population, weights) <= 1e-6


def test_shuffled_rows_give_identical_figures(data):
    responses, population = data
    shuffled = responses.sample(frac=1, random_state=7).reset_index(drop=True)
    for kw in ({}, {"by": "mode", "cluster": "interviewer"}):
        a = estimate_table(responses, population, ITEMS, ITEM_WEIGHTS, variables=VARIABLES, **kw)
        b = estimate_table(shuffled, population, ITEMS, ITEM_WEIGHTS, variables=VARIABLES, **kw)
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_cli_estimate_by_mode_with_clusters_equals_r(tmp_path):
    out = tmp_path / "e.csv"
    done = subprocess.run([sys.executable, "-m", "analysis", "estimate", str(REF / "responses.csv"), "--population",
                           str(REF / "population.csv"), "--variables", ",".join(VARIABLES), "--by", "mode",
                           "--cluster", "interviewer", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ours = pd.read_csv(out).replace({"全市": "ALL"}).rename(columns={"mode": "group"})
    assert list(ours.columns[:3]) == ["unit", "group", "item"]
    ref = r_domains()
    ref = ref[(ref["design"] == "cluster") & (ref["group"] != "") & (ref["item"] != "composite")]
    merged = ref.merge(ours, on=["unit", "group", "item"], suffixes=("_r", ""), validate="1:1")
    assert len(merged) == len(ref)
    for col in ("rate", "rate_se", "rate_low", "rate_high"):
        known = merged[f"{col}_r"].notna()
        np.testing.assert_allclose(merged.loc[known, col], merged.loc[known, f"{col}_r"], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("design_name", ["srs", "cluster"])
def test_mode_differences_of_every_unit_item_and_composite_equal_r(data, design_name):
    """Every pair of modes in every unit and 全市, every item and the composite (R: svycontrast
    of the two domain ratios from svytotal); where R has no difference (no valid answer), neither have we."""
    from analysis.estimation import group_differences
    responses, population = data
    design = make_design(responses, population, VARIABLES, cluster=CLUSTER[design_name])
    ours = group_differences(design, ITEMS, "mode", ITEM_WEIGHTS).replace({"全市": "ALL"})
    ref = pd.read_csv(REF / "r_mode_differences.csv")
    ref = ref[ref["design"] == design_name]
    merged = ours.merge(ref, on=["unit", "item", "mode_a", "mode_b"], how="left", suffixes=("", "_r"))
    known = merged["se_r"].notna()
    assert known.sum() == len(ref) > 60
    for col in ("difference", "se"):
        np.testing.assert_allclose(merged.loc[known, col], merged.loc[known, f"{col}_r"], rtol=1e-6, err_msg=col)
    assert merged.loc[~known, "se"].isna().all() and set(merged.loc[~known, "unit"]) == {"U3"}
    # U4 has no door interviews: no comparison with door there
    assert not ((merged["unit"] == "U4") & ((merged["mode_a"] == "door") | (merged["mode_b"] == "door"))).any()
    # the difference of the per-mode rates, and a CI that holds it
    assert np.allclose(merged["difference"], merged["rate_a"] - merged["rate_b"], equal_nan=True)
    assert (merged.loc[known, "low"] <= merged.loc[known, "difference"]).all()  # = where SE 0 (U4 sea: rate 1)
    # the single contrast function agrees (U1, phone − web, overall)
    row = merged[(merged["unit"] == "U1") & (merged["item"] == "overall") & (merged["mode_a"] == "phone")
                 & (merged["mode_b"] == "web")].iloc[0]
    c = contrast(design, "overall", (responses["unit"] == "U1").to_numpy() & (responses["mode"] == "phone").to_numpy(),
                 (responses["unit"] == "U1").to_numpy() & (responses["mode"] == "web").to_numpy())
    assert c.se == pytest.approx(row["se"], rel=1e-9) and c.df == row["df"]


def test_mode_mix_equals_r_and_flags_the_units_that_differ(data):
    from analysis.modes import mode_mix
    responses, _ = data
    mix = mode_mix(responses)
    ref = pd.read_csv(REF / "r_mode_mix.csv").pivot(index="unit", columns="mode", values="share")
    got = mix.set_index("unit")[list(ref.columns)]
    np.testing.assert_allclose(got.to_numpy(float), ref.to_numpy(float), rtol=1e-12)
    # distance to the pooled mix of the other units, from R's shares and the unit sizes
    n = responses["unit"].value_counts()
    counts = ref.mul(n.reindex(ref.index), axis=0)
    for unit in ref.index:
        rest = counts.drop(index=unit).sum()
        expected = 0.5 * (ref.loc[unit] - rest / rest.sum()).abs().sum()
        assert mix.set_index("unit").at[unit, "distance"] == pytest.approx(expected, rel=1e-9)
    assert mix["differs"].all()  # the R data were drawn with very different mixes (U2 60 % web, U4 no door)
    alike = pd.DataFrame({"unit": ["A"] * 10 + ["B"] * 10, "mode": ["phone"] * 6 + ["web"] * 4 + ["phone"] * 5
                          + ["web"] * 5})
    assert not mode_mix(alike)["differs"].any()  # 10 % apart
    assert mode_mix(alike, limit=0.05)["differs"].all()
    shuffled = mode_mix(responses.sample(frac=1, random_state=3))
    pd.testing.assert_frame_equal(mix, shuffled)


def test_unweighted_district_score_equals_r_and_says_so(data, tmp_path):
    """No population: weights 1, strata = units (R: svydesign(ids = ~1, strata = ~unit) without rake);
    the record, the stderr line and the report say `unweighted`."""
    from openpyxl import load_workbook
    from analysis.score_run import compute_score_run, write_run_report
    from analysis.scoring import parse_config
    responses, _ = data
    config = parse_config({"name": "ref", "items": ITEM_WEIGHTS, "full_points": 10, "threshold": 0.8,
                           "not_applicable": {"U3": ["rural"]}}, "ref.yaml")
    run = compute_score_run(responses, None, config)
    assert run.record["weighting"] == "unweighted" and run.record["population"] is None
    ref = pd.read_csv(REF / "r_unweighted.csv")
    est = run.estimates.merge(ref, on=["unit", "item"], suffixes=("", "_r"))
    assert len(est) == len(ref) > 20
    np.testing.assert_allclose(est["rate"], est["rate_r"], rtol=1e-9)
    np.testing.assert_allclose(est["rate_se"], est["rate_se_r"], rtol=1e-6)
    items = est[est["item"] != "composite"]
    np.testing.assert_array_equal(items["df"], items["df_r"])
    u1 = run.scores.set_index("unit").loc["U1"]
    assert u1["points"] == pytest.approx(round(10 * ref.query("unit == 'U1' and item == 'composite'")["rate"].iloc[0], 2))
    out = tmp_path / "u.xlsx"
    write_run_report(run, out)
    wb = load_workbook(out)
    method = [c.value for c in wb["方法"]["A"] if c.value]
    assert any(str(v).startswith("1. 加权：未加权") for v in method)
    assert any("未加权" in str(c.value) for row in wb["摘要"].iter_rows() for c in row if c.value)
    import json
    import yaml
    cfg = tmp_path / "ref.yaml"
    cfg.write_text(yaml.safe_dump({"name": "ref", "items": ITEM_WEIGHTS, "full_points": 10, "threshold": 0.8,
                                   "not_applicable": {"U3": ["rural"]}}), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "analysis", "score", str(REF / "responses.csv"), "--config",
                           str(cfg), "--out", str(tmp_path / "c.xlsx"), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "weighting: unweighted" in done.stderr and "; unweighted; result sha256" in done.stderr
    assert [o["points"] for o in json.loads(done.stdout)] == [o["points"] for o in run.to_json()]


def test_weight_command_flags_extreme_weights_as_r_weights_say(tmp_path):
    """Which weights exceed 5 × (default) or 2.5 × the unit's mean weight, from R's raked weights;
    the command names them per unit on stderr and, with --flag, in a column `extreme`."""
    r_w = pd.read_csv(REF / "r_weights_3margins.csv")
    r_w["unit"] = r_w["response_id"].str.split("-").str[0]
    for ratio in (5.0, 2.5):
        expected = r_w[r_w["weight"] / r_w.groupby("unit")["weight"].transform("mean") > ratio]
        out = tmp_path / f"w{ratio}.csv"
        done = subprocess.run([sys.executable, "-m", "analysis", "weight", str(REF / "responses.csv"),
                               "--population", str(REF / "population.csv"), "--variables", ",".join(VARIABLES),
                               "--max-ratio", str(ratio), "--flag", "--out", str(out)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        got = pd.read_csv(out)
        assert list(got.columns) == ["response_id", "weight", "extreme"]
        assert set(got.loc[got["extreme"] == 1, "response_id"]) == set(expected["response_id"]) != set()
        warned = [line for line in done.stderr.splitlines() if line.startswith("warning: unit ")]
        assert [w.split(":")[1].strip().removeprefix("unit ") for w in warned] == sorted(expected["unit"].unique())
    assert ratio == 2.5 and len(expected) > len(r_w[r_w["weight"] / r_w.groupby("unit")["weight"].transform("mean") > 5])
    # the contract file without --flag; a bad ratio exits 2 and writes nothing
    done = subprocess.run([sys.executable, "-m", "analysis", "weight", str(REF / "responses.csv"), "--population",
                           str(REF / "population.csv"), "--max-ratio", "inf", "--out", str(tmp_path / "bad.csv")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--max-ratio" in done.stderr and not (tmp_path / "bad.csv").exists()
