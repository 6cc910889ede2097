"""Design-based estimates of satisfaction (METHODS §2), matching R's `survey` package.

One design object (rows, raked weights, strata = units, the raking margin cells) and
small estimators on it, as in R: `domain_estimates` for rates and indexes by domain,
`contrast` for a difference of two domains of one sample, `contrast_waves` for two
independent waves, and `estimate_table` that produces the table of DESIGN.md.

Everything is vectorised over items and domains: the linearised values of all domains
that do not overlap (e.g. the six units) share one column, because both the
calibration cells and the strata lie within a unit, so one pass of calibration and one
per-stratum variance serve them all.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.distributions import beta_quantiles, normal_sf, t_quantiles, t_sf
from analysis.errors import InputError
from analysis.weighting import rake

ITEMS = ("air", "water", "sea", "noise", "waste", "greenery", "rural", "enforcement", "publicity", "overall")
CITY = "全市"
CALIBRATION_ROUNDS = 10
COLUMNS = ("unit", "item", "n", "n_valid", "rate", "rate_se", "rate_se_fixed_weights", "rate_low", "rate_high",
           "rate_low_kg", "rate_high_kg", "index", "index_se", "deff", "n_eff")


@dataclass
class Design:
    """Responses with raked weights; strata are units, PSUs are respondents."""
    data: pd.DataFrame
    weights: np.ndarray
    strata: np.ndarray              # unit code per row
    units: list[str]
    margin_cells: list[np.ndarray]  # per raking margin: cell (unit × category) code per row
    diagnostics: pd.DataFrame

    @property
    def n(self) -> int:
        return len(self.weights)

    def calibrate(self, x: np.ndarray) -> np.ndarray:
        """Residualise u = x / w on the margin cells (R's adjustment for a raked design).

        The rounds subtract per-margin-cell means; those depend on the rows only through
        their sums within the joint cells (unit × every margin's category), so the rounds
        run on that small table and the rows are touched twice, not 2 × 10 × margins times.
        """
        u = x / self.weights[:, None]
        sums = self._joint.sums(u)                       # joint cells × columns
        shift = np.zeros_like(sums)                      # what each joint cell has had subtracted
        counts = self._joint.counts[:, None]
        for _ in range(CALIBRATION_ROUNDS):
            for to_margin, margin_counts in self._joint_to_margin:
                left = sums - counts * shift
                cell_sums = np.zeros((len(margin_counts), left.shape[1]))
                np.add.at(cell_sums, to_margin, left)
                shift += (cell_sums / margin_counts[:, None])[to_margin]
        return (u - shift[self._joint.codes]) * self.weights[:, None]

    def stratum_variances(self, x: np.ndarray) -> np.ndarray:
        """V_h per stratum (rows) and column: n_h/(n_h − 1) · Σ (x − mean_h)²."""
        s1 = self._strata_groups.sums(x)
        s2 = self._strata_groups.sums(x * x)
        n_h = self._strata_counts[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(n_h > 1, n_h / (n_h - 1) * (s2 - s1 * s1 / n_h), 0.0)
        return np.maximum(v, 0.0)

    def __post_init__(self) -> None:
        self._strata_groups = _Groups(self.strata, len(self.units))
        self._strata_counts = self._strata_groups.counts
        stacked = np.column_stack(self.margin_cells)
        joint_keys, joint_codes = np.unique(stacked, axis=0, return_inverse=True)
        self._joint = _Groups(joint_codes.ravel())
        self._joint_to_margin = []
        for m, cells in enumerate(self.margin_cells):
            to_margin = joint_keys[:, m]
            self._joint_to_margin.append((to_margin, np.bincount(cells, minlength=to_margin.max() + 1).astype(float)))


class _Groups:
    """Column sums and means by group for a whole matrix at once (sorted rows + reduceat)."""

    def __init__(self, codes: np.ndarray, n_groups: int | None = None):
        self.codes = codes
        self.n_groups = int(codes.max()) + 1 if n_groups is None else n_groups
        self.order = np.argsort(codes, kind="stable")
        self.counts = np.bincount(codes, minlength=self.n_groups).astype(float)
        self.present = np.flatnonzero(self.counts)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(int)[self.present]

    def sums(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n_groups, x.shape[1]))
        out[self.present] = np.add.reduceat(x[self.order], self.starts, axis=0)
        return out

    def means(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.sums(x) / self.counts[:, None]


def make_design(responses: pd.DataFrame, population: pd.DataFrame, variables: Sequence[str] = ("sex", "age_group"),
                unit: str = "unit", base_weight: pd.Series | None = None,
                bounds: tuple[float, float] | None = None) -> Design:
    """Rake and build the design (all rows of the weighting sample are kept)."""
    data = responses.reset_index(drop=True)
    weights, diagnostics = rake(data, population, variables, unit, base_weight, bounds)
    units = list(diagnostics["unit"])
    strata = pd.Categorical(data[unit], categories=units).codes.astype(int)
    margin_cells = []
    for var in variables:
        code, levels = pd.factorize(data[var])
        margin_cells.append(np.unique(strata.astype(np.int64) * len(levels) + code, return_inverse=True)[1])
    return Design(data, weights.to_numpy(dtype=float), strata, units, margin_cells, diagnostics)


# --------------------------------------------------------------------------------------
# Item codes
# --------------------------------------------------------------------------------------
def item_codes(data: pd.DataFrame, items: Sequence[str]) -> np.ndarray:
    missing = [i for i in items if i not in data.columns]
    if missing:
        raise InputError([f"responses: item column `{i}` is missing" for i in missing])
    return data[list(items)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


def _indicators(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    valid = np.isin(codes, (1, 2, 3, 4, 5))
    satisfied = np.where(valid, np.isin(codes, (4, 5)), False).astype(float)
    score = np.where(valid, 25.0 * (np.nan_to_num(codes) - 1), 0.0)
    return valid.astype(float), satisfied, score


# --------------------------------------------------------------------------------------
# Domains
# --------------------------------------------------------------------------------------
@dataclass
class Stack:
    """Disjoint domains sharing columns: `dom` gives each row's domain (−1: none)."""
    labels: list[tuple[str, object]]   # (unit label, group value or None)
    dom: np.ndarray
    strata_of: list[np.ndarray]         # strata each domain spans


def unit_stack(design: Design) -> Stack:
    return Stack([(u, None) for u in design.units], design.strata.copy(),
                 [np.array([h]) for h in range(len(design.units))])


def city_stack(design: Design) -> Stack:
    return Stack([(CITY, None)], np.zeros(design.n, dtype=int), [np.arange(len(design.units))])


def group_stacks(design: Design, by: str) -> list[Stack]:
    """Unit × group and 全市 × group domains of a subgroup column."""
    if by not in design.data.columns:
        raise InputError([f"--by: responses have no column `{by}`"])
    values = design.data[by].astype("string")
    levels = [v for v in pd.unique(values.dropna())]
    codes = pd.Categorical(values, categories=levels).codes.astype(int)
    units = design.units
    per_unit = np.where(codes >= 0, design.strata * len(levels) + codes, -1)
    labels = [(u, g) for u in units for g in levels]
    strata_of = [np.array([h]) for h in range(len(units)) for _ in levels]
    city = Stack([(CITY, g) for g in levels], codes, [np.arange(len(units))] * len(levels))
    return [Stack(labels, per_unit, strata_of), city]


# --------------------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------------------
def _ratio_linearization(w: np.ndarray, dom: np.ndarray, n_dom: int, valid: np.ndarray, value: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per item: ratio per domain, linearised values x (N × K), and Σ w·v per domain."""
    inside = dom >= 0
    d = np.where(inside, dom, 0)
    k = valid.shape[1]
    den = np.zeros((n_dom, k))
    num = np.zeros((n_dom, k))
    for j in range(k):
        wv = w * valid[:, j] * inside
        den[:, j] = np.bincount(d, weights=wv, minlength=n_dom)
        num[:, j] = np.bincount(d, weights=wv * value[:, j], minlength=n_dom)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = num / den
    x = (w * inside)[:, None] * valid * (value - ratio[d]) / den[d]
    x = np.where(np.isfinite(x), x, 0.0)
    return ratio, x, den


def _t(df: np.ndarray, p: float = 0.975) -> np.ndarray:
    return t_quantiles(p, np.maximum(df, 1))


def logit_ci(rate: np.ndarray, se: np.ndarray, df: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logit-scale CI (R's svyciprop method="logit")."""
    rate, se, df = np.broadcast_arrays(np.asarray(rate, float), np.asarray(se, float), np.asarray(df, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.log(rate / (1 - rate))
        half = _t(df) * se / (rate * (1 - rate))
        low = 1 / (1 + np.exp(-(centre - half)))
        high = 1 / (1 + np.exp(-(centre + half)))
    edge = (rate <= 0) | (rate >= 1)
    return np.where(edge, rate, low), np.where(edge, rate, high)


def kg_ci(rate: np.ndarray, var: np.ndarray, df: np.ndarray, n_sample: int) -> tuple[np.ndarray, np.ndarray]:
    """Korn–Graubard CI (R's svyciprop method="beta")."""
    rate, var, df = np.broadcast_arrays(np.asarray(rate, float), np.asarray(var, float), np.asarray(df, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        m = rate * (1 - rate) / var * (_t(np.asarray(n_sample - 1.0)) / _t(df)) ** 2
        low = np.where(rate > 0, beta_quantiles(0.025, m * rate, m * (1 - rate) + 1), 0.0)
        high = np.where(rate < 1, beta_quantiles(0.975, m * rate + 1, m * (1 - rate)), 1.0)
    return low, high


def domain_estimates(design: Design, stacks: Sequence[Stack], items: Sequence[str],
                     item_weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Rate and index of every item, and the composite rate, for every domain of the stacks."""
    items = list(items)
    codes = item_codes(design.data, items)
    valid, satisfied, score = _indicators(codes)
    c = np.array([(item_weights or {}).get(i, 1.0) for i in items], dtype=float)
    c = c / c.sum()
    w = design.weights
    rows = []
    for stack in stacks:
        n_dom = len(stack.labels)
        rate, x_rate, den = _ratio_linearization(w, stack.dom, n_dom, valid, satisfied)
        index, x_index, _ = _ratio_linearization(w, stack.dom, n_dom, valid, score)
        x_comp = x_rate @ c
        x_comp_index = x_index @ c
        raw = np.column_stack([x_rate, x_index, x_comp, x_comp_index])
        v_cal = design.stratum_variances(design.calibrate(raw))
        v_fix = design.stratum_variances(raw)
        inside = stack.dom >= 0
        d = np.where(inside, stack.dom, 0)
        n_rows = np.bincount(d, weights=inside.astype(float), minlength=n_dom)
        n_valid = np.stack([np.bincount(d, weights=valid[:, j] * inside, minlength=n_dom)
                            for j in range(len(items))], axis=1)
        # s² for deff: Σ w v (y − r)² / Σ w v · n/(n − 1) per domain and item
        resid2 = np.stack([np.bincount(d, weights=w * valid[:, j] * inside *
                                       (satisfied[:, j] - rate[d, j]) ** 2, minlength=n_dom)
                           for j in range(len(items))], axis=1)
        k = len(items)
        for di, (label, group) in enumerate(stack.labels):
            hs = stack.strata_of[di]
            var = v_cal[hs].sum(axis=0)
            var_fix = v_fix[hs].sum(axis=0)
            n_units = len(hs)
            for j, item in enumerate(items):
                rows.append(_row(label, group, item, n_rows[di], n_valid[di, j], rate[di, j], var[j],
                                 var_fix[j], index[di, j], var[k + j], resid2[di, j], den[di, j], n_units))
            comp_rate = float(np.nansum(c * rate[di]))
            comp_index = float(np.nansum(c * index[di]))
            rows.append(_row(label, group, "composite", n_rows[di], np.nan, comp_rate, var[2 * k], var_fix[2 * k],
                             comp_index, var[2 * k + 1], np.nan, np.nan, n_units))
    frame = pd.DataFrame(rows)
    return _add_intervals(frame, design.n)


def _row(unit: str, group: object, item: str, n: float, n_valid: float, rate: float, var: float, var_fix: float,
         index: float, index_var: float, resid2: float, den: float, n_units: int) -> dict:
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = resid2 / den * n_valid / (n_valid - 1) if n_valid > 1 else np.nan
        deff = var / (s2 / n_valid) if n_valid > 1 and s2 > 0 else np.nan
    return {"unit": unit, "group": group, "item": item, "n": int(n),
            "n_valid": n_valid if np.isnan(n_valid) else int(n_valid), "rate": rate,
            "rate_se": np.sqrt(var), "rate_se_fixed_weights": np.sqrt(var_fix), "index": index,
            "index_se": np.sqrt(index_var), "deff": deff, "n_eff": n_valid / deff if deff and deff > 0 else np.nan,
            "_df": (n if np.isnan(n_valid) else n_valid) - n_units}


def _add_intervals(frame: pd.DataFrame, n_sample: int) -> pd.DataFrame:
    rate, se, df = frame["rate"].to_numpy(float), frame["rate_se"].to_numpy(float), frame["_df"].to_numpy(float)
    frame["rate_low"], frame["rate_high"] = logit_ci(rate, se, df)
    frame["rate_low_kg"], frame["rate_high_kg"] = kg_ci(rate, se ** 2, df, n_sample)
    t = _t(df)
    frame["index_low"] = frame["index"] - t * frame["index_se"]
    frame["index_high"] = frame["index"] + t * frame["index_se"]
    frame["df"] = frame.pop("_df")
    return frame


def estimate_table(responses: pd.DataFrame, population: pd.DataFrame, items: Sequence[str] | None = None,
                   item_weights: Mapping[str, float] | None = None, by: str | None = None, ci: str = "logit",
                   variables: Sequence[str] = ("sex", "age_group"), design: Design | None = None) -> pd.DataFrame:
    """The estimates table of DESIGN.md: each unit, then 全市; each item, then `composite`.

    With `by`, domains are unit × group and 全市 × group, with the group in a column
    named after `by`. `ci="kg"` puts the Korn–Graubard bounds in rate_low/rate_high.
    """
    items = list(items or [i for i in ITEMS if i in responses.columns])
    design = design or make_design(responses, population, variables)
    stacks = group_stacks(design, by) if by else [unit_stack(design), city_stack(design)]
    table = domain_estimates(design, stacks, items, item_weights)
    if ci == "kg":
        table["rate_low"], table["rate_high"] = table["rate_low_kg"], table["rate_high_kg"]
    if by:
        table = table.rename(columns={"group": by})
        front = ["unit", by]
    else:
        table = table.drop(columns="group")
        front = ["unit"]
    rest = [c for c in COLUMNS if c not in front] + ["index_low", "index_high", "df"]
    return table[front + rest]


# --------------------------------------------------------------------------------------
# Contrasts
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Contrast:
    estimate_a: float
    estimate_b: float
    difference: float
    se: float
    low: float
    high: float
    p_value: float


def contrast(design: Design, item: str, domain_a: np.ndarray, domain_b: np.ndarray) -> Contrast:
    """Rate of domain A minus rate of domain B in one sample; the covariance is in the variance."""
    codes = item_codes(design.data, [item])
    valid, satisfied, _ = _indicators(codes)
    w = design.weights
    xs, rates = [], []
    for mask in (domain_a, domain_b):
        dom = np.where(np.asarray(mask, bool), 0, -1)
        rate, x, _ = _ratio_linearization(w, dom, 1, valid, satisfied)
        xs.append(x[:, 0])
        rates.append(float(rate[0, 0]))
    x = (xs[0] - xs[1])[:, None]
    var = float(design.stratum_variances(design.calibrate(x)).sum())
    se = np.sqrt(var)
    diff = rates[0] - rates[1]
    df = max(design.n - len(design.units), 1)
    t = float(_t(np.asarray(float(df))))
    p = float(2 * t_sf(abs(diff / se), df)) if se > 0 else float("nan")
    return Contrast(rates[0], rates[1], diff, se, diff - t * se, diff + t * se, p)


def contrast_waves(rate_1: float, se_1: float, rate_2: float, se_2: float) -> Contrast:
    """Two independent samples (waves): z = (r₁ − r₂)/√(SE₁² + SE₂²)."""
    se = float(np.hypot(se_1, se_2))
    diff = rate_1 - rate_2
    p = float(2 * normal_sf(abs(diff / se))) if se > 0 else float("nan")
    return Contrast(rate_1, rate_2, diff, se, diff - 1.959963984540054 * se, diff + 1.959963984540054 * se, p)
