"""Key-driver analysis: which item satisfactions go with overall satisfaction.

A weighted logistic regression of "overall satisfied (4-5)" on each item's satisfied
indicator. It is descriptive: weights are treated as fixed (no design-based SEs), and
the items are correlated, so odds ratios describe association, not effect.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DRIVER_ITEMS = ("air", "water", "sea", "noise", "waste", "greenery", "rural", "enforcement", "publicity")


def key_drivers(responses: pd.DataFrame, weights: pd.Series, target: str = "overall",
                items: tuple[str, ...] = DRIVER_ITEMS) -> pd.DataFrame:
    """Odds ratio (with 95 % CI and p) per item; rows with an invalid target are left out.

    An item answered 9 / missing counts as "not satisfied" and gets its own don't-know
    indicator, so no respondent is dropped for one unknown item.
    """
    import statsmodels.api as sm

    codes = responses[[target, *items]].apply(pd.to_numeric, errors="coerce")
    keep = codes[target].isin([1, 2, 3, 4, 5]).to_numpy()
    y = codes.loc[keep, target].isin([4, 5]).astype(float).to_numpy()
    cols: dict[str, np.ndarray] = {}
    for item in items:
        c = codes.loc[keep, item]
        cols[item] = c.isin([4, 5]).astype(float).to_numpy()
        dk = (~c.isin([1, 2, 3, 4, 5])).astype(float).to_numpy()
        if dk.sum() > 0:
            cols[f"{item}_dk"] = dk
    w = np.asarray(weights, dtype=float)[keep]
    w = w * (len(w) / w.sum())  # normalised: the sample size stays the sample size
    # Rows with the same answers pattern share one likelihood term: fit on the patterns with
    # summed weights (identical estimates and covariance, a few hundred rows instead of 100,000).
    patterns = pd.DataFrame(cols).assign(_y=y, _w=w)
    grouped = patterns.groupby([*cols, "_y"], as_index=False, sort=False)["_w"].sum()
    X = sm.add_constant(grouped[list(cols)], has_constant="add")
    fit = sm.GLM(grouped["_y"].to_numpy(), X, family=sm.families.Binomial(),
                 var_weights=grouped["_w"].to_numpy()).fit()
    conf = fit.conf_int()
    out = pd.DataFrame({
        "item": list(items),
        "odds_ratio": [float(np.exp(fit.params[i])) for i in items],
        "or_low": [float(np.exp(conf.loc[i, 0])) for i in items],
        "or_high": [float(np.exp(conf.loc[i, 1])) for i in items],
        "p_value": [float(fit.pvalues[i]) for i in items],
        "satisfied_share": [float(np.average(cols[i], weights=w)) for i in items],
    })
    return out.sort_values("odds_ratio", ascending=False).reset_index(drop=True)
