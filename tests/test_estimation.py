"""Estimates against R's survey package: the shared reference and a live run of R."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.estimation import contrast, contrast_waves, estimate_table, make_design
from analysis.io import read_population, read_responses
from tests.analysis_support import ITEMS, reference_dir, require_r, synthetic
from tests.conftest import ROOT

REF = reference_dir()
needs_ref = pytest.mark.skipif(not (REF / "r_estimates.csv").exists(), reason="shared/reference not found")


@pytest.fixture(scope="module")
def reference():
    return read_responses(REF / "responses_2000.csv"), read_population(REF / "population.csv")


@needs_ref
def test_every_column_of_r_estimates(reference):
    responses, population = reference
    ours = estimate_table(responses, population)
    ref = pd.read_csv(REF / "r_estimates.csv")
    assert len(ours) == len(ref) == 7 * 11
    merged = ref.merge(ours, on=["unit", "item"], suffixes=("_r", ""), how="left", validate="1:1")
    for col in ref.columns[2:]:
        expected = merged[f"{col}_r"].to_numpy(float)
        got = merged[col].to_numpy(float)
        known = ~np.isnan(expected)
        assert known.any()
        np.testing.assert_allclose(got[known], expected[known], rtol=1e-6, err_msg=col)


@needs_ref
def test_kg_option_moves_kg_bounds_into_the_ci(reference):
    responses, population = reference
    kg = estimate_table(responses, population, ci="kg")
    ref = pd.read_csv(REF / "r_estimates.csv").dropna(subset=["rate_low_kg"])
    merged = ref.merge(kg, on=["unit", "item"], suffixes=("_r", ""))
    np.testing.assert_allclose(merged["rate_low"], merged["rate_low_kg_r"], rtol=1e-6)


@needs_ref
def test_subgroups_and_contrasts(reference):
    responses, population = reference
    by_mode = estimate_table(responses, population, by="mode")
    assert set(by_mode["mode"]) == set(responses["mode"])
    city_phone = by_mode[(by_mode["unit"] == "全市") & (by_mode["mode"] == "phone") & (by_mode["item"] == "air")]
    design = make_design(responses, population)
    phone = (responses["mode"] == "phone").to_numpy()
    web = (responses["mode"] == "web").to_numpy()
    c = contrast(design, "air", phone, web)
    assert c.estimate_a == pytest.approx(float(city_phone["rate"].iloc[0]), rel=1e-12)
    assert c.low < c.difference < c.high and 0 <= c.p_value <= 1
    # a domain against itself: zero difference, zero variance
    same = contrast(design, "air", phone, phone)
    assert same.difference == 0 and same.se == pytest.approx(0, abs=1e-12)
    w = contrast_waves(0.80, 0.01, 0.75, 0.02)
    assert w.difference == pytest.approx(0.05) and w.se == pytest.approx(np.hypot(0.01, 0.02))
    assert w.p_value == pytest.approx(0.0253473, rel=1e-4)  # z = 2.236


R_SCRIPT = r"""
suppressMessages(library(survey))
d <- read.csv("resp.csv", stringsAsFactors = FALSE)
pop <- read.csv("pop.csv", stringsAsFactors = FALSE)
items <- strsplit("ITEMS", ",")[[1]]
des <- svydesign(ids = ~1, strata = ~unit, weights = ~1, data = d)
margins <- list(); pops <- list()
for (v in c("sex", "age_group", "education")) {
  p <- pop[pop$variable == v, c("unit", "category", "population")]
  names(p) <- c("unit", v, "Freq")
  margins[[v]] <- as.formula(paste("~unit +", v)); pops[[v]] <- p
}
r <- rake(des, margins, pops, control = list(epsilon = 1e-12, maxit = 500))
write.csv(data.frame(response_id = d$response_id, weight = weights(r)), "r_weights.csv", row.names = FALSE)
out <- NULL
for (it in items) {
  r <- update(r, y = as.numeric(get(it) %in% c(4, 5)), v = get(it) %in% 1:5)
  for (u in c(sort(unique(d$unit)), "ALL")) {
    s <- if (u == "ALL") subset(r, v) else subset(r, v & unit == u)
    m <- svymean(~y, s)
    lg <- svyciprop(~y, s, method = "logit")
    bt <- svyciprop(~y, s, method = "beta")
    out <- rbind(out, data.frame(unit = u, item = it, rate = coef(m)[[1]], rate_se = SE(m)[[1]],
      low = confint(lg)[1], high = confint(lg)[2], low_kg = confint(bt)[1], high_kg = confint(bt)[2]))
  }
}
write.csv(out, "r_est.csv", row.names = FALSE)
yo <- as.numeric(d$overall %in% c(4, 5)); vo <- as.numeric(d$overall %in% 1:5)
r2 <- update(r, yp = yo * vo * (mode == "phone"), vp = vo * (mode == "phone"),
             yw = yo * vo * (mode == "web"), vw = vo * (mode == "web"))
ct <- svycontrast(svytotal(~yp + vp + yw + vw, r2), quote(yp / vp - yw / vw))
write.csv(data.frame(diff = coef(ct)[[1]], se = SE(ct)[[1]]), "r_contrast.csv", row.names = FALSE)
"""


@pytest.mark.r
def test_fresh_random_data_against_live_r(tmp_path):
    """New seed and shape (education as third margin, unequal units): R and the project agree."""
    require_r()
    responses, population = synthetic(20251123, {"U1": 260, "U2": 140, "U3": 410, "U4": 95})
    items = ["air", "noise", "rural", "overall"]
    responses.to_csv(tmp_path / "resp.csv", index=False)
    population.to_csv(tmp_path / "pop.csv", index=False)
    (tmp_path / "run.R").write_text(R_SCRIPT.replace("ITEMS", ",".join(items)), encoding="utf-8")
    done = subprocess.run(["Rscript", "run.R"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    variables = ("sex", "age_group", "education")
    design = make_design(responses, population, variables)
    r_weights = pd.read_csv(tmp_path / "r_weights.csv")
    np.testing.assert_allclose(design.weights, r_weights["weight"].to_numpy(), rtol=1e-6)
    ours = estimate_table(responses, population, items=items, variables=variables).replace({"全市": "ALL"})
    r_est = pd.read_csv(tmp_path / "r_est.csv")
    merged = r_est.merge(ours, on=["unit", "item"], suffixes=("_r", ""), validate="1:1")
    assert len(merged) == len(items) * 5
    for r_col, col in [("rate_r", "rate"), ("rate_se_r", "rate_se"), ("low", "rate_low"), ("high", "rate_high"),
                       ("low_kg", "rate_low_kg"), ("high_kg", "rate_high_kg")]:
        np.testing.assert_allclose(merged[col], merged[r_col], rtol=1e-6, err_msg=col)
    # phone − web in one sample: the linearised difference carries the covariance (R: svycontrast)
    r_contrast = pd.read_csv(tmp_path / "r_contrast.csv")
    mode = responses["mode"].to_numpy()
    ours_contrast = contrast(design, "overall", mode == "phone", mode == "web")
    assert ours_contrast.difference == pytest.approx(r_contrast["diff"][0], rel=1e-6)
    assert ours_contrast.se == pytest.approx(r_contrast["se"][0], rel=1e-6)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@needs_ref
def test_cli_weight_and_estimate_write_the_documented_columns(tmp_path):
    w = run_cli("weight", str(REF / "responses_2000.csv"), "--population", str(REF / "population.csv"),
                "--out", str(tmp_path / "w.csv"))
    assert w.returncode == 0, w.stderr
    weights = pd.read_csv(tmp_path / "w.csv")
    assert list(weights.columns) == ["response_id", "weight"] and len(weights) == 2000
    e = run_cli("estimate", str(REF / "responses_2000.csv"), "--population", str(REF / "population.csv"),
                "--out", str(tmp_path / "e.csv"))
    assert e.returncode == 0, e.stderr
    est = pd.read_csv(tmp_path / "e.csv")
    assert list(est.columns) == list(pd.read_csv(REF / "r_estimates.csv").columns)
    by = run_cli("estimate", str(REF / "responses_2000.csv"), "--population", str(REF / "population.csv"),
                 "--by", "sex", "--out", str(tmp_path / "s.csv"))
    assert by.returncode == 0 and list(pd.read_csv(tmp_path / "s.csv").columns[:3]) == ["unit", "sex", "item"]


def test_cli_bad_input_exits_2_one_line_each_no_traceback(tmp_path):
    responses, population = synthetic(1, {"A": 40, "B": 40}, education=False)
    responses.loc[0, "age_group"] = "99+"
    population.loc[0, "population"] = -1
    responses.to_csv(tmp_path / "r.csv", index=False)
    population.to_csv(tmp_path / "p.csv", index=False)
    bad = run_cli("weight", str(tmp_path / "r.csv"), "--population", str(tmp_path / "p.csv"), "--out",
                  str(tmp_path / "w.csv"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == ["p.csv: line 2 (A, sex, M): population -1.0 is negative"]
    population.loc[0, "population"] = 1000
    population.to_csv(tmp_path / "p.csv", index=False)
    bad = run_cli("weight", str(tmp_path / "r.csv"), "--population", str(tmp_path / "p.csv"), "--out",
                  str(tmp_path / "w.csv"))
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert any("category 99+: respondents but no population row" in ln for ln in lines)
    assert any("margins have different totals" in ln for ln in lines)
    missing = run_cli("estimate", str(tmp_path / "nope.csv"), "--population", str(tmp_path / "p.csv"), "--out", "x")
    assert missing.returncode == 2 and "file not found" in missing.stderr
