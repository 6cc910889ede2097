"""How sure is a unit's place: the threshold probability, rank intervals, pairwise tests (METHODS §2b).

A district that scores 79.6 % against an 80 % line, or ranks 3rd out of 6 by 0.2 points,
will appeal. These functions put the uncertainty next to the figure:

- `p_below`: probability that the true composite is below the line, with the same
  approximation (logit scale, t on the CI's df) as the confidence interval, so the
  statement "clearly below" and the CI never disagree;
- `rank_intervals`: 95 % intervals of each unit's rank by simulation from the units'
  estimates and SEs (units are separate strata, hence independent), fixed seed so a
  report is reproducible;
- `pairwise_differences`: every unit against every other, Holm-adjusted.

Inputs are plain arrays in unit order; a unit with a NaN estimate or SE (no score) takes
no part and gets NaN. Used by scoring (districts) and by appraisal (departments).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata, t as student_t

Basis = Literal["rate", "index"]
DRAWS = 20_000
SEED = 20250101


def _arrays(*values: object) -> list[np.ndarray]:
    return [np.asarray(v, dtype=float) for v in np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values])]


def _check_basis(basis: str) -> None:
    if basis not in ("rate", "index"):
        raise ValueError(f"basis must be `rate` or `index`, got `{basis}`")


def p_below(rate: object, se: object, df: object, threshold: float, basis: Basis = "rate") -> np.ndarray:
    """P(true value < threshold) under the CI's approximation.

    Rate: `F_t,df((logit θ − logit r) / (SE / (r(1 − r))))`; index: `F_t,df((θ − index) / SE)`;
    the threshold is on the basis's own scale (a fraction for a rate, 0-100 for an index).
    df below 1 is taken as 1, as for the CI. A rate of exactly 0 or 1 has a degenerate CI
    (the point), so its p_below is 1 or 0; an SE of 0 gives 0 or 1 by the side of the line
    (½ on it). NaN rate, SE or df gives NaN.
    """
    _check_basis(basis)
    r, s, d = _arrays(rate, se, df)
    d = np.maximum(d, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if basis == "rate":
            if not 0 < threshold < 1:
                raise ValueError(f"a rate threshold must lie strictly between 0 and 1, got {threshold}")
            diff = np.log(threshold / (1 - threshold)) - np.log(r / (1 - r))
            scale = s / (r * (1 - r))
        else:
            diff = threshold - r
            scale = s
        z = diff / scale
        out = student_t.cdf(z, d)
    out = np.where(scale == 0, np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, 0.5)), out)
    if basis == "rate":
        out = np.where(r <= 0, 1.0, np.where(r >= 1, 0.0, out))
    bad = np.isnan(r) | np.isnan(s) | np.isnan(d)
    return np.where(bad, np.nan, out)


def threshold_status(low: object, high: object, threshold: float) -> list[str | None]:
    """"above" when the CI's lower bound ≥ θ, "below" when its upper bound < θ, else "unclear".

    None where the bounds are missing (a unit without a score).
    """
    lo, hi = _arrays(low, high)
    out: list[str | None] = []
    for a, b in zip(np.atleast_1d(lo), np.atleast_1d(hi)):
        if np.isnan(a) or np.isnan(b):
            out.append(None)
        elif a >= threshold:
            out.append("above")
        elif b < threshold:
            out.append("below")
        else:
            out.append("unclear")
    return out


def _scale(rate: np.ndarray, se: np.ndarray, basis: Basis) -> tuple[np.ndarray, np.ndarray]:
    """Centre and SD of the simulation: logit scale (delta method) for a rate, raw for an index."""
    if basis == "index":
        return rate, se
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.log(rate / (1 - rate))
        sd = se / (rate * (1 - rate))
    edge = (rate <= 0) | (rate >= 1)  # a rate of 0 or 1 stays where it is, as its CI does
    return centre, np.where(edge, 0.0, sd)


def rank_intervals(rate: object, se: object, basis: Basis = "rate", draws: int = DRAWS,
                   seed: int = SEED, cov: object | None = None) -> tuple[np.ndarray, np.ndarray]:
    """95 % rank interval (1 = best) of every unit, by simulation.

    Each draw takes every unit's value from Normal(estimate, SE) on the logit scale for a
    rate (raw for an index), independently (units are separate strata), and ranks the
    units (1 = highest; a unit's rank is 1 + the number of units strictly above it).
    `rank_low`, `rank_high` are the 2.5 % and 97.5 % quantiles of a unit's ranks, taken as
    R's `quantile(type = 1)` (the inverse of the empirical distribution), so they are
    whole ranks. Units with NaN estimate or SE are left out of the ranking and get NaN.

    `cov` (K × K, on the basis's own scale) is for units that share respondents (an
    appraisal: one respondent rates many units): the draws are then jointly normal with
    that covariance (the delta method carries it to the logit scale), and `se` must be
    the square root of its diagonal. Without it the units are independent (districts:
    separate strata, different respondents).
    """
    _check_basis(basis)
    r, s = _arrays(rate, se)
    r, s = np.atleast_1d(r), np.atleast_1d(s)
    low = np.full(r.shape, np.nan)
    high = np.full(r.shape, np.nan)
    ok = ~(np.isnan(r) | np.isnan(s))
    if not ok.any():
        return low, high
    centre, sd = _scale(r[ok], s[ok], basis)
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((draws, int(ok.sum())))
    if cov is None:
        values = centre[None, :] + sd[None, :] * noise
    else:
        c = np.asarray(cov, dtype=float)[np.ix_(ok, ok)]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(s[ok] > 0, sd / s[ok], 0.0)    # d logit / d rate (1 for an index)
        c = c * np.outer(scale, scale)
        vals, vecs = np.linalg.eigh((c + c.T) / 2)         # a square root that tolerates rank deficiency
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))
        values = centre[None, :] + noise @ root.T
    # rank within each draw: 1 + how many units are strictly higher (ties share the best rank)
    ranks = rankdata(-values, axis=1, method="min")
    low[ok] = np.quantile(ranks, 0.025, axis=0, method="inverted_cdf")
    high[ok] = np.quantile(ranks, 0.975, axis=0, method="inverted_cdf")
    return low, high


def holm(p_values: object) -> np.ndarray:
    """Holm step-down adjusted p-values in the given order (R's `p.adjust(method = "holm")`).

    NaN p-values are left out of the family and stay NaN, as in R.
    """
    p = np.atleast_1d(np.asarray(p_values, dtype=float))
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out


PAIRWISE_COLUMNS = ("unit_a", "unit_b", "diff", "se", "p", "p_holm")


def pairwise_differences(units: Sequence[str], rate: object, se: object, basis: Basis = "rate") -> pd.DataFrame:
    """Every pair of units (in the given order, a before b): difference, SE, two-sided p, Holm p.

    Units are separate strata, so their estimates are independent and the SE of a
    difference is √(SE_a² + SE_b²); the test is the normal one, as for two waves (§2).
    The difference is on the basis's scale (rate as a fraction, index 0-100). Pairs with a
    unit without an estimate (NaN) get NaN and are not counted in the Holm family.
    """
    _check_basis(basis)
    names = list(units)
    r, s = _arrays(rate, se)
    r, s = np.atleast_1d(r), np.atleast_1d(s)
    if not len(names) == len(r) == len(s):
        raise ValueError("units, rate and se must have the same length")
    a, b = np.triu_indices(len(names), k=1)
    diff = r[a] - r[b]
    se_diff = np.hypot(s[a], s[b])
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * norm.sf(np.abs(diff / se_diff))
    p = np.where(se_diff > 0, p, np.nan)
    return pd.DataFrame({"unit_a": [names[i] for i in a], "unit_b": [names[j] for j in b], "diff": diff,
                         "se": se_diff, "p": p, "p_holm": holm(p)}, columns=list(PAIRWISE_COLUMNS))
