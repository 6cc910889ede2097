"""Boundary checks of the estimate/weight commands and small numeric rules (issue 13, points 5-7)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.distributions import t_sf
from analysis.estimation import kg_ci
from tests.analysis_support import PROJECT_REFERENCE as REF
from tests.conftest import ROOT


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_tiny_p_values_do_not_print_as_zero():
    assert 0 < t_sf(40.0, 500) < 1e-100
    assert t_sf(-3.0, 20) == pytest.approx(1 - t_sf(3.0, 20), rel=1e-14)


def test_korn_graubard_at_rates_zero_and_one():
    """The df-adjusted Clopper–Pearson bound with n_eff = valid rows (R prints NaN: 0/0)."""
    low, high = kg_ci(np.array([0.0, 1.0]), np.array([0.0, 0.0]), np.array([19.0, 19.0]), 20, np.array([20, 20]))
    assert low[0] == 0 and high[1] == 1
    # n_eff = 20 and df = N − 1: exactly Clopper–Pearson, 1 − 0.025^(1/20)
    assert high[0] == pytest.approx(1 - 0.025 ** (1 / 20), rel=1e-9)
    assert low[1] == pytest.approx(0.025 ** (1 / 20), rel=1e-9)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan"])
def test_population_non_finite_exits_2_naming_the_line(tmp_path, value):
    pop = pd.read_csv(REF / "population.csv")
    pop["population"] = pop["population"].astype(object)
    pop.loc[3, "population"] = value
    pop.to_csv(tmp_path / "pop.csv", index=False)
    done = run_cli("estimate", str(REF / "responses.csv"), "--population", str(tmp_path / "pop.csv"),
                   "--out", str(tmp_path / "e.csv"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pop.csv: line 5 (")
    assert not (tmp_path / "e.csv").exists()


@pytest.mark.parametrize("bounds", ["0.3,inf", "nan,3", "-1,3"])
def test_non_finite_bounds_exit_2(tmp_path, bounds):
    done = run_cli("weight", str(REF / "responses.csv"), "--population", str(REF / "population.csv"),
                   "--variables", "sex,age_group,education", "--bounds", bounds, "--out", str(tmp_path / "w.csv"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "--bounds" in done.stderr and not (tmp_path / "w.csv").exists()


def test_estimate_config_uses_its_weighting_variables(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("name: t\nitems: [air, noise, overall]\nweighting:\n  variables: [sex, age_group, education]\n",
                      encoding="utf-8")
    common = [str(REF / "responses.csv"), "--population", str(REF / "population.csv")]
    a = run_cli("estimate", *common, "--config", str(config), "--out", str(tmp_path / "a.csv"))
    b = run_cli("estimate", *common, "--variables", "sex,age_group,education",
                "--config", str(config), "--out", str(tmp_path / "b.csv"))
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))
    two = run_cli("estimate", *common, "--variables", "sex,age_group", "--config", str(config),
                  "--out", str(tmp_path / "c.csv"))
    assert two.returncode == 0
    assert not pd.read_csv(tmp_path / "a.csv")["rate"].equals(pd.read_csv(tmp_path / "c.csv")["rate"])


def test_cluster_column_must_exist(tmp_path):
    done = run_cli("estimate", str(REF / "responses.csv"), "--population", str(REF / "population.csv"),
                   "--variables", "sex,age_group,education", "--cluster", "building", "--out", str(tmp_path / "e.csv"))
    assert done.returncode == 2 and done.stderr.strip() == "--cluster: responses have no column `building`"
