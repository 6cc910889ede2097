"""The hand-written t and beta quantiles agree with scipy (the reason they exist: import time)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.distributions import beta_ppf, normal_sf, t_ppf, t_sf


@pytest.mark.parametrize("df", [1, 2, 4, 9.5, 30, 299, 1994, 100_000])
@pytest.mark.parametrize("p", [0.001, 0.025, 0.4, 0.975, 0.999])
def test_t_quantile_matches_scipy(df, p):
    assert t_ppf(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9)


def test_beta_quantile_matches_scipy_over_the_ci_range():
    rng = np.random.default_rng(7)
    for _ in range(200):
        a, b = rng.uniform(0.3, 5000, 2)
        for p in (0.025, 0.975):
            assert beta_ppf(p, a, b) == pytest.approx(stats.beta.ppf(p, a, b), rel=1e-10)


def test_tail_probabilities():
    assert t_sf(2.1, 40) == pytest.approx(stats.t.sf(2.1, 40), rel=1e-10)
    assert normal_sf(1.96) == pytest.approx(stats.norm.sf(1.96), rel=1e-12)
