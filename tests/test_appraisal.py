"""Appraisal waves (one respondent rates many units) against R's survey package, and the CLI contracts."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.appraisal import (COLUMNS, appraisal_design, estimate_appraisal, pairwise_within_types, parse_units,
                                read_appraisal_responses, read_units, unit_contrast)
from analysis.errors import InputError
from analysis.io import read_population
from tests.appraisal_support import UNITS, synthetic_appraisal
from tests.conftest import ROOT

REF = ROOT / "tests" / "reference"
R_SCRIPT = REF / "make_appraisal_reference.R"
COMPARED = ["n", "n_aware", "aware_rate", "aware_se", "n_valid", "rate", "rate_se", "rate_low", "rate_high", "index",
            "index_se", "deff", "df"]
POPULATIONS = {"city": "appraisal_population_city.csv", "districts": "appraisal_population_districts.csv",
               "unweighted": None}


def r_available() -> bool:
    ok = bool(shutil.which("Rscript")) and subprocess.run(["Rscript", "-e", "library(survey)"],
                                                          capture_output=True).returncode == 0
    if not ok and os.environ.get("CI") == "true":
        pytest.fail("CI=true but Rscript with the survey package is not available")
    return ok


def assert_equal_to_r(ours: pd.DataFrame, r_est: pd.DataFrame) -> None:
    merged = r_est.merge(ours, on=["unit", "type"], suffixes=("_r", ""), validate="1:1")
    assert len(merged) == len(r_est) == len(ours)
    for col in COMPARED:
        np.testing.assert_allclose(merged[col].to_numpy(float), merged[f"{col}_r"].to_numpy(float), rtol=1e-6,
                                   err_msg=col)


def assert_contrasts_equal_to_r(ours: pd.DataFrame, r_con: pd.DataFrame) -> None:
    merged = r_con.merge(ours, on=["type", "unit_a", "unit_b"], suffixes=("_r", ""), validate="1:1")
    assert len(merged) == len(r_con) > 0
    np.testing.assert_allclose(merged["diff"], merged["diff_r"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=1e-6)


@pytest.fixture(scope="module")
def stored():
    return (read_appraisal_responses(REF / "appraisal_responses.csv"), read_units(REF / "appraisal_units.csv"))


@pytest.mark.parametrize("kind", list(POPULATIONS))
def test_stored_r_vectors(stored, kind):
    """Every rated unit's figures and every within-type contrast equal R (1e-6), for each weighting."""
    responses, units = stored
    pop = read_population(REF / POPULATIONS[kind]) if POPULATIONS[kind] else None
    ours, ad = estimate_appraisal(responses, units, pop)
    assert ad.weighting == kind
    assert_equal_to_r(ours, pd.read_csv(REF / f"appraisal_r_{kind}_estimates.csv"))
    assert_contrasts_equal_to_r(pairwise_within_types(ad.design, units),
                                pd.read_csv(REF / f"appraisal_r_{kind}_contrasts.csv"))


def test_same_respondents_make_two_units_covariant(stored):
    """The joint SE of a difference is not the independent-samples SE: the covariance is not zero."""
    responses, units = stored
    ours, ad = estimate_appraisal(responses, units, read_population(REF / POPULATIONS["city"]))
    c = unit_contrast(ad.design, units, "eco", "transport")
    se = ours.set_index("unit")["rate_se"]
    independent = np.hypot(se["eco"], se["transport"])
    assert abs(c.se - independent) / independent > 0.02
    r_con = pd.read_csv(REF / "appraisal_r_city_contrasts.csv").set_index(["unit_a", "unit_b"])
    assert c.se == pytest.approx(r_con.loc[("eco", "transport"), "se"], rel=1e-6)


@pytest.mark.parametrize("kind", list(POPULATIONS))
def test_covariance_of_the_rated_units_equals_r(stored, kind):
    """Diagonal = R's SE², and var(a) + var(b) − 2 cov(a, b) = R's SE² of every within-type contrast;
    the rank intervals draw the units jointly with it."""
    from analysis.appraisal import estimate_covariance
    from analysis.ranking import rank_intervals
    responses, units = stored
    pop = read_population(REF / POPULATIONS[kind]) if POPULATIONS[kind] else None
    ours, ad = estimate_appraisal(responses, units, pop)
    cov = estimate_covariance(ad.design, units)
    r_est = pd.read_csv(REF / f"appraisal_r_{kind}_estimates.csv").set_index("unit")
    np.testing.assert_allclose(np.sqrt(np.diag(cov.loc[r_est.index, r_est.index])), r_est["rate_se"], rtol=1e-6)
    for row in pd.read_csv(REF / f"appraisal_r_{kind}_contrasts.csv").itertuples():
        var = cov.at[row.unit_a, row.unit_a] + cov.at[row.unit_b, row.unit_b] - 2 * cov.at[row.unit_a, row.unit_b]
        assert np.sqrt(var) == pytest.approx(row.se, rel=1e-6)
    assert (cov.to_numpy()[~np.eye(len(cov), dtype=bool)] != 0).any()
    # two units estimated almost the same, perfectly correlated: jointly they never swap places,
    # independently they would (the covariance changes the rank intervals)
    rate, se = np.array([0.70, 0.705]), np.array([0.02, 0.02])
    joint = np.array([[4e-4, 4e-4 - 1e-9], [4e-4 - 1e-9, 4e-4]])
    assert [list(v) for v in rank_intervals(rate, se)] == [[1, 1], [2, 2]]
    assert [list(v) for v in rank_intervals(rate, se, cov=joint)] == [[2, 1], [2, 1]]


def test_row_order_does_not_matter(stored):
    responses, units = stored
    pop = read_population(REF / POPULATIONS["city"])
    a, _ = estimate_appraisal(responses, units, pop)
    b, _ = estimate_appraisal(responses.sample(frac=1, random_state=3), units, pop)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.r
def test_fresh_file_against_live_r(tmp_path):
    """A file never seen before (new seed, size, districts): R and the project agree for every weighting."""
    if not r_available():
        pytest.skip("Rscript with the survey package is not installed")
    units = UNITS.iloc[[0, 1, 3, 5, 6, 7, 8]].reset_index(drop=True)
    responses, city, districts = synthetic_appraisal(20261201, 650, ("X1", "X2", "X3", "X4"), units)
    responses.to_csv(tmp_path / "r.csv", index=False)
    units.to_csv(tmp_path / "u.csv", index=False)
    city.to_csv(tmp_path / "city.csv", index=False)
    districts.to_csv(tmp_path / "districts.csv", index=False)
    rated = parse_units(units)
    for kind, pop in (("city", "city.csv"), ("districts", "districts.csv"), ("unweighted", "none")):
        done = subprocess.run(["Rscript", str(R_SCRIPT), "r.csv", "u.csv", pop, kind], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        population = read_population(tmp_path / pop) if pop != "none" else None
        ours, ad = estimate_appraisal(read_appraisal_responses(tmp_path / "r.csv"), rated, population)
        assert_equal_to_r(ours, pd.read_csv(tmp_path / f"{kind}_estimates.csv"))
        assert_contrasts_equal_to_r(pairwise_within_types(ad.design, rated),
                                    pd.read_csv(tmp_path / f"{kind}_contrasts.csv"))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_cli_estimate_contract_and_unweighted_record(tmp_path):
    out = tmp_path / "e.csv"
    done = run_cli("estimate", str(REF / "appraisal_responses.csv"), "--appraisal", str(REF / "appraisal_units.csv"),
                   "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "unweighted" in done.stderr
    table = pd.read_csv(out)
    assert list(table.columns) == list(COLUMNS) and len(table) == len(UNITS)
    r_est = pd.read_csv(REF / "appraisal_r_unweighted_estimates.csv")
    np.testing.assert_allclose(table["rate_se"], r_est["rate_se"], rtol=1e-6)
    city = run_cli("estimate", str(REF / "appraisal_responses.csv"), "--appraisal", str(REF / "appraisal_units.csv"),
                   "--population", str(REF / POPULATIONS["city"]), "--out", str(out))
    assert city.returncode == 0 and "unweighted" not in city.stderr and "全市" in city.stderr


def test_cli_district_estimate_without_population_says_unweighted(tmp_path):
    """A district wave without census figures: weights 1, stated, never silent."""
    district = pd.read_csv(ROOT.parent / "shared" / "reference" / "responses_2000.csv") \
        if (ROOT.parent / "shared" / "reference" / "responses_2000.csv").exists() else None
    if district is not None:
        district.to_csv(tmp_path / "d.csv", index=False)
        done = run_cli("estimate", str(tmp_path / "d.csv"), "--out", str(tmp_path / "e.csv"))
        assert done.returncode == 0 and "unweighted" in done.stderr


def test_cli_score_contract(tmp_path):
    text = (ROOT / "data" / "scoring" / "appraisal.yaml").read_text(encoding="utf-8")
    assert "min_n_valid: 50" in text
    (tmp_path / "cfg.yaml").write_text(text.replace("min_n_valid: 50", "min_n_valid: 120"), encoding="utf-8")
    done = run_cli("score", str(REF / "appraisal_responses.csv"), "--appraisal", str(REF / "appraisal_units.csv"),
                   "--config", str(tmp_path / "cfg.yaml"), "--json",
                   "--out", str(tmp_path / "rep.xlsx"))
    assert done.returncode == 0, done.stderr
    assert "unweighted" in done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == len(UNITS)
    for row in rows:
        assert {"unit", "type", "rate", "rate_low", "rate_high", "n_valid", "points", "rank", "rank_low",
                "rank_high", "warnings", "p_below"} <= set(row)
        assert row["rank_low"] <= row["rank"] <= row["rank_high"] or row["rank_low"] <= row["rank_high"]
    for t, n in UNITS["type"].value_counts().items():
        assert sorted(r["rank"] for r in rows if r["type"] == t) == list(range(1, n + 1))
    small = [r for r in rows if r["n_valid"] < 120]
    assert small and all(any("少于 120" in w for w in r["warnings"]) for r in small)
    assert all(not any("少于" in w for w in r["warnings"]) for r in rows if r["n_valid"] >= 120)
    by_unit = {r["unit"]: r for r in rows}
    r_est = pd.read_csv(REF / "appraisal_r_unweighted_estimates.csv").set_index("unit")
    for uid, r_row in r_est.iterrows():
        assert by_unit[uid]["rate"] == pytest.approx(r_row["rate"], rel=1e-9)
        assert by_unit[uid]["points"] == round(10 * r_row["rate"] + 1e-12, 2)
    from openpyxl import load_workbook
    assert load_workbook(tmp_path / "rep.xlsx").sheetnames == ["市直部门", "省属驻厦单位", "市属国有企业", "两两比较",
                                                                 "权重", "方法"]


def test_cli_refuses_bad_input_one_line_each(tmp_path):
    units = UNITS.copy()
    units.loc[1, "type"] = "bureau"
    units.loc[2, "id"] = "eco"
    units.to_csv(tmp_path / "u.csv", index=False)
    bad = run_cli("estimate", str(REF / "appraisal_responses.csv"), "--appraisal", str(tmp_path / "u.csv"),
                  "--out", str(tmp_path / "e.csv"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == ["u.csv: line 3: type `bureau` must be one of department, provincial, soe",
                                               "u.csv: line 4: id `eco` is listed twice"]
    assert not (tmp_path / "e.csv").exists()
    responses = pd.read_csv(REF / "appraisal_responses.csv")
    unaware = responses.index[responses["eco_aware"] == 2][0]
    responses.loc[unaware, "eco"] = 4
    responses.loc[0, "garden_aware"] = 3
    responses.to_csv(tmp_path / "r.csv", index=False)
    bad = run_cli("estimate", str(tmp_path / "r.csv"), "--appraisal", str(REF / "appraisal_units.csv"),
                  "--out", str(tmp_path / "e.csv"))
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(lines) == 2
    assert "rating(s) from respondents not aware of 市生态环境局" in lines[0]
    assert "column `garden_aware`: 1 answer(s) not in 1/2" in lines[1]
    cfg = run_cli("score", str(REF / "appraisal_responses.csv"), "--appraisal", str(REF / "appraisal_units.csv"),
                  "--config", str(ROOT / "data" / "scoring" / "default.yaml"), "--json")
    assert cfg.returncode == 2 and "kind: appraisal" in cfg.stderr


def test_banded_and_relative_points_within_type(stored):
    from analysis.appraisal_scoring import parse_appraisal_config, score_appraisal
    responses, units = stored
    rel = parse_appraisal_config({"kind": "appraisal", "name": "r", "method": "relative", "relative_floor": 0.6})
    scores = score_appraisal(responses, units, None, rel).scores
    for _, part in scores.groupby("type"):
        assert part["points"].max() == 10 and part["points"].min() == 6
    band = parse_appraisal_config({"kind": "appraisal", "name": "b", "method": "banded",
                                   "bands": [{"min": 0.6, "share": 1}, {"min": 0.5, "share": 0.8}]})
    scores = score_appraisal(responses, units, None, band).scores
    expected = np.where(scores["rate"] >= 0.6, 10, np.where(scores["rate"] >= 0.5, 8, 0))
    np.testing.assert_array_equal(scores["points"], expected)

