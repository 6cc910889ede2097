"""Threshold probability, rank intervals and pairwise tests (METHODS §2b) on R-computed values.

The expected numbers come from R 4 (`pt`, `pnorm`, `p.adjust`), written out below so the
test needs no R: e.g. `pt((qlogis(0.8) - qlogis(0.85)) / (0.02 / (0.85 * 0.15)), 298)`.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from analysis.ranking import holm, p_below, pairwise_differences, rank_intervals, threshold_status

RATE = [0.85, 0.78, 0.80, 0.62]
SE = [0.02, 0.015, 0.03, 0.04]


def test_p_below_on_the_logit_scale_equals_r():
    got = p_below(RATE, SE, [298, 150, 40, 1], 0.80)
    assert got == pytest.approx([0.0135699286786208, 0.915177548120456, 0.5, 0.940439946841104], rel=1e-9)


def test_p_below_on_the_index_scale_equals_r():
    got = p_below([72.5, 81, 79.9], [1.2, 0.8, 2.5], [100, 200, 30], 80, basis="index")
    assert got == pytest.approx([0.999999994933037, 0.106380104353972, 0.515820927800884], rel=1e-9)


def test_p_below_edges():
    got = p_below([np.nan, 0.9, 0.7, 0.8, 1.0, 0.0, 0.9], [0.01, np.nan, 0.0, 0.0, 0.0, 0.0, 0.01],
                  [10, 10, 10, 10, 10, 10, 0], 0.8)
    assert np.isnan(got[:2]).all()
    assert got[2:6].tolist() == [1.0, 0.5, 0.0, 1.0]
    # df 0 is taken as 1 (as the CI does): pt(z, 1)
    z = (np.log(4) - np.log(9)) / (0.01 / 0.09)
    assert got[6] == pytest.approx(0.5 + np.arctan(z) / np.pi, rel=1e-12)
    with pytest.raises(ValueError, match="between 0 and 1"):
        p_below([0.9], [0.01], [10], 80)


def test_threshold_status_follows_the_ci():
    assert threshold_status([0.80, 0.75, 0.70, np.nan], [0.9, 0.85, 0.7999, 0.9], 0.80) == \
        ["above", "unclear", "below", None]


def test_holm_equals_p_adjust():
    got = holm([0.01, 0.04, 0.03, np.nan, 0.2, 0.005])
    assert got[[0, 1, 2, 4, 5]] == pytest.approx([0.04, 0.09, 0.09, 0.2, 0.025], rel=1e-12)
    assert np.isnan(got[3])
    assert holm([]).size == 0


def test_pairwise_differences_equal_r():
    table = pairwise_differences(["a", "b", "c", "d"], RATE, SE)
    assert list(table.columns) == ["unit_a", "unit_b", "diff", "se", "p", "p_holm"]
    assert list(zip(table["unit_a"], table["unit_b"])) == [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"),
                                                           ("b", "d"), ("c", "d")]
    assert table["diff"].tolist() == pytest.approx([0.07, 0.05, 0.23, -0.02, 0.16, 0.18])
    assert table["se"].iloc[0] == pytest.approx(0.025)
    assert table["p"].tolist() == pytest.approx([0.0051102606608559, 0.165517858697471, 2.70448478863356e-07,
                                                 0.550984987585093, 0.000180166344984635,
                                                 0.000318217180315067], rel=1e-9)
    assert table["p_holm"].tolist() == pytest.approx([0.0153307819825677, 0.331035717394941, 1.62269087318013e-06,
                                                      0.550984987585093, 0.000900831724923177,
                                                      0.00127286872126027], rel=1e-9)


def test_pairwise_with_a_unit_without_estimate():
    table = pairwise_differences(["a", "b", "c"], [0.9, np.nan, 0.8], [0.01, 0.02, 0.02])
    assert table["p"].isna().tolist() == [True, False, True]
    # one test left in the family: Holm leaves it as it is
    assert table["p_holm"].iloc[1] == pytest.approx(table["p"].iloc[1])


def test_rank_intervals_of_well_separated_units_are_their_ranks():
    low, high = rank_intervals([0.7, 0.9, 0.8], [0.001, 0.001, 0.001])
    assert low.tolist() == [3, 1, 2] and high.tolist() == [3, 1, 2]


def test_rank_intervals_cover_what_the_normal_law_says():
    # P(A > B) on the logit scale: Φ(Δ / √(σA² + σB²)). 0.99 → A is first in 97.5 % of draws; 0.95 → not.
    sd = 0.1
    for q, expected in ((0.99, ([1, 2], [1, 2])), (0.95, ([1, 1], [2, 2]))):
        gap = norm.ppf(q) * np.sqrt(2) * sd
        la, lb = 1.0 + gap, 1.0               # logits of the two rates
        ra, rb = 1 / (1 + np.exp(-la)), 1 / (1 + np.exp(-lb))
        se = [sd * ra * (1 - ra), sd * rb * (1 - rb)]  # SE on the rate scale giving sd on the logit scale
        low, high = rank_intervals([ra, rb], se)
        assert (low.tolist(), high.tolist()) == expected, q


def test_rank_intervals_are_reproducible_and_nan_is_left_out():
    rate, se = [0.81, np.nan, 0.80, 0.79], [0.02, 0.02, 0.02, 0.02]
    low, high = rank_intervals(rate, se)
    again = rank_intervals(rate, se)
    assert np.array_equal(low, again[0], equal_nan=True) and np.array_equal(high, again[1], equal_nan=True)
    assert np.isnan(low[1]) and np.isnan(high[1])
    assert low[[0, 2, 3]].tolist() == [1, 1, 1] and high[[0, 2, 3]].tolist() == [3, 3, 3]
    assert all(np.isnan(v).all() for v in rank_intervals([np.nan], [0.1]))


def test_rank_intervals_on_the_index_scale():
    low, high = rank_intervals([70.0, 80.0, 79.0], [0.5, 0.5, 0.5], basis="index")
    # 80 vs 79: Δ/√2σ² = 1.41 → P = 0.92: both within [1, 2]; 70 is last
    assert low.tolist() == [3, 1, 1] and high.tolist() == [3, 2, 2]
