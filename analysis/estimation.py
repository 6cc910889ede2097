"""Design-based estimates of satisfaction (METHODS §2, §2a), matching R's `survey` package.

One design object (rows, raked weights, strata = units, PSUs = respondents or the
values of a cluster column within units, the raking margin cells) and small
estimators on it, as in R: `domain_estimates` for rates and indexes by domain,
`contrast` for a difference of two domains of one sample, `contrast_waves` for two
independent waves, and `estimate_table` that produces the table of DESIGN.md.

Everything is vectorised over items and domains. Domains that lie in different units
(e.g. the six units, or the six unit × phone domains) share one linearisation column:
the calibration cells and the strata lie within a unit, so each domain's values stay in
its own stratum. Two domains of the same unit (unit × phone, unit × web) never share a
column — the variance of their sum is not the variance of either (R's `svyby`).

Results do not depend on row order: every sum over rows runs in response-id order
within its group, so shuffled rows give bit-identical figures.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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


class _Groups:
    """Column sums by group for a whole matrix at once (sorted rows + reduceat).

    Rows are summed in the order of `rank` within each group (response-id order), so
    the sums are the same floating-point numbers for the same rows in any order. Rows
    with a negative code belong to no group and are never touched (a subgroup's stack
    then sums its own rows only; reduceat's result for a group depends on that group's
    rows alone, so leaving the others out changes no bit).
    """

    def __init__(self, codes: np.ndarray, n_groups: int | None = None, by_rank: np.ndarray | None = None):
        self.codes = codes
        self.n_groups = int(codes.max()) + 1 if n_groups is None else n_groups
        if by_rank is None:
            by_rank = np.arange(len(codes))
        ranked = codes[by_rank]
        if ranked.size and ranked.min() < 0:  # leave rows outside every group out
            by_rank, ranked = by_rank[ranked >= 0], ranked[ranked >= 0]
        self.order = by_rank[np.argsort(ranked, kind="stable")]  # rank order kept within each group
        self.counts = np.bincount(ranked, minlength=self.n_groups).astype(float)
        self.present = np.flatnonzero(self.counts)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(int)[self.present]

    def sums(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n_groups, x.shape[1]))
        if len(self.present):
            # np.take: the same rows as x[order], gathered about twice as fast
            out[self.present] = np.add.reduceat(np.take(x, self.order, axis=0), self.starts, axis=0)
        return out


def _row_order(data: pd.DataFrame) -> np.ndarray:
    """Row positions in response-id order (the order every sum runs in)."""
    if "response_id" not in data.columns:
        return np.arange(len(data))
    ids = data["response_id"].astype(str).to_numpy()
    return np.argsort(ids, kind="stable")


@dataclass
class Design:
    """Responses with raked weights; strata are units, PSUs are respondents or clusters.

    `psu` gives each row's PSU code (PSUs nested in units, numbered in sorted order of
    unit and cluster value); None means every respondent is its own PSU.
    """
    data: pd.DataFrame
    weights: np.ndarray
    strata: np.ndarray              # unit code per row
    units: list[str]
    margin_cells: list[np.ndarray]  # per raking margin: cell (unit × category) code per row
    diagnostics: pd.DataFrame
    psu: np.ndarray | None = None
    cluster: str | None = None
    variables: tuple[str, ...] = ()
    by_rank: np.ndarray = field(default=None)  # type: ignore[assignment]

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
        """V_h per stratum (rows) and column: m_h/(m_h − 1) · Σ_j (z_hj − mean_h z)².

        z_hj is the PSU total of x (the row itself without clusters); m_h the PSUs of h.
        """
        if self._psu_groups is not None:
            z = self._psu_groups.sums(x)
            groups, m_h = self._psu_strata, self._psu_strata.counts[:, None]
        else:
            z, groups, m_h = x, self._strata_groups, self._strata_groups.counts[:, None]
        s1 = groups.sums(z)
        s2 = groups.sums(z * z)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(m_h > 1, m_h / (m_h - 1) * (s2 - s1 * s1 / m_h), 0.0)
        return np.maximum(v, 0.0)

    def covariance(self, x: np.ndarray) -> np.ndarray:
        """Σ_h m_h/(m_h − 1) · Σ_j (z_hj − z̄_h)(z_hj − z̄_h)ᵀ: the K × K covariance of the columns'
        totals (x already calibrated), whose diagonal is `stratum_variances(x).sum(axis=0)`."""
        if self._psu_groups is not None:
            z, groups = self._psu_groups.sums(x), self._psu_strata
        else:
            z, groups = x, self._strata_groups
        m_h = groups.counts
        centred = z - (groups.sums(z) / np.maximum(m_h, 1)[:, None])[groups.codes]
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(m_h > 1, m_h / (m_h - 1), 0.0)[groups.codes]
        return (centred * factor[:, None]).T @ centred

    def psu_counts(self, present: np.ndarray) -> np.ndarray:
        """Per stratum and column: PSUs with at least one row where `present` (N × K) is nonzero."""
        if self._psu_groups is None:
            return self._strata_groups.sums(present)
        return self._psu_strata.sums((self._psu_groups.sums(present) > 0).astype(float))

    @property
    def psus_per_stratum(self) -> np.ndarray:
        return (self._psu_strata.counts if self._psu_groups is not None else self._strata_groups.counts).copy()

    def __post_init__(self) -> None:
        if self.by_rank is None:
            self.by_rank = _row_order(self.data)
        self._strata_groups = _Groups(self.strata, len(self.units), self.by_rank)
        self._psu_groups = None
        if self.psu is not None:
            self._psu_groups = _Groups(self.psu, int(self.psu.max()) + 1, self.by_rank)
            psu_stratum = np.zeros(self._psu_groups.n_groups, dtype=int)
            psu_stratum[self.psu] = self.strata
            self._psu_strata = _Groups(psu_stratum, len(self.units))
        # joint cells in lexicographic order of the margin cells (np.unique(axis=0)'s order),
        # found through one mixed-radix integer key: a 1-d unique instead of a row sort
        radix = [int(c.max()) + 1 if c.size else 1 for c in self.margin_cells]
        key = np.zeros(self.n, dtype=np.int64)
        for cells, base in zip(self.margin_cells, radix):
            key = key * base + cells
        unique_keys, joint_codes = np.unique(key, return_inverse=True)
        joint_keys = np.empty((len(unique_keys), len(radix)), dtype=np.int64)
        rest = unique_keys.copy()
        for m in range(len(radix) - 1, -1, -1):
            rest, joint_keys[:, m] = np.divmod(rest, radix[m])
        self._joint = _Groups(joint_codes.ravel(), None, self.by_rank)
        self._joint_to_margin = []
        for m, cells in enumerate(self.margin_cells):
            to_margin = joint_keys[:, m]
            self._joint_to_margin.append((to_margin, np.bincount(cells, minlength=to_margin.max() + 1).astype(float)))


def cluster_psus(data: pd.DataFrame, strata: np.ndarray, cluster: str) -> np.ndarray:
    """PSU code per row: the cluster value within its unit (nest = TRUE); empty = own PSU.

    Codes follow the sorted (unit, value) order and, for rows without a value, the
    response-id order, so they do not depend on row order.
    """
    if cluster not in data.columns:
        raise InputError([f"--cluster: responses have no column `{cluster}`"])
    values = data[cluster].astype("string").str.strip()
    empty = (values.isna() | (values == "")).to_numpy()
    codes, _ = pd.factorize(values.where(~empty, None), sort=True)
    n_values = int(codes.max()) + 1 if (codes >= 0).any() else 0
    own = np.empty(len(data), dtype=np.int64)
    own[_row_order(data)] = np.arange(len(data))
    key = np.where(empty, n_values + own, codes).astype(np.int64)
    combined = strata.astype(np.int64) * (n_values + len(data) + 1) + key
    return np.unique(combined, return_inverse=True)[1].ravel()


def make_design(responses: pd.DataFrame, population: pd.DataFrame, variables: Sequence[str] = ("sex", "age_group"),
                unit: str = "unit", base_weight: pd.Series | None = None,
                bounds: tuple[float, float] | None = None, cluster: str | None = None) -> Design:
    """Rake and build the design (all rows of the weighting sample are kept).

    `cluster` names the column whose values are the PSUs within each unit (R's
    `svydesign(ids = ~cluster, strata = ~unit, nest = TRUE)`); the raking is the same.
    """
    data = responses.reset_index(drop=True)
    if cluster is not None and cluster not in data.columns:
        raise InputError([f"--cluster: responses have no column `{cluster}`"])
    weights, diagnostics = rake(data, population, variables, unit, base_weight, bounds)
    units = list(diagnostics["unit"])
    strata = pd.Categorical(data[unit], categories=units).codes.astype(int)
    margin_cells = []
    for var in variables:
        code, levels = pd.factorize(data[var], sort=True)
        margin_cells.append(np.unique(strata.astype(np.int64) * len(levels) + code, return_inverse=True)[1].ravel())
    psu = cluster_psus(data, strata, cluster) if cluster else None
    return Design(data, weights.to_numpy(dtype=float), strata, units, margin_cells, diagnostics, psu, cluster,
                  tuple(variables))


def equal_weight_design(responses: pd.DataFrame, strata: str | None = None, cluster: str | None = None) -> Design:
    """Weights 1, no calibration: R's `svydesign(ids = ~1 or ~cluster, strata = ~strata)` without `rake`.

    For data without population margins (an appraisal wave, or a district wave without
    census figures): the record then says `unweighted`. The one "margin" is the stratum
    itself: subtracting a stratum mean from the linearised values changes no stratum
    variance, so the calibration is the identity, as it must be.
    """
    data = responses.reset_index(drop=True)
    if strata is None:
        labels = [CITY]
        codes = np.zeros(len(data), dtype=int)
    else:
        if strata not in data.columns:
            raise InputError([f"responses: column `{strata}` is missing"])
        values = data[strata].astype("string")
        if values.isna().any():
            raise InputError([f"responses: {int(values.isna().sum())} response(s) without `{strata}`"])
        labels = sorted(str(u) for u in pd.unique(values))
        codes = pd.Categorical(values, categories=labels).codes.astype(int)
    n = np.bincount(codes, minlength=len(labels))
    diagnostics = pd.DataFrame({"unit": labels, "n": n, "sum_w": n.astype(float), "min_w": 1.0, "max_w": 1.0,
                                "max_min_ratio": 1.0, "cv": 0.0, "deff_w": 1.0, "n_eff_w": n.astype(float),
                                "sweeps": 0, "max_margin_error": 0.0})
    psu = cluster_psus(data, codes, cluster) if cluster else None
    return Design(data, np.ones(len(data)), codes.astype(int), labels, [codes.astype(int)], diagnostics, psu,
                  cluster)


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
    """Domains sharing linearisation columns: `dom` gives each row's domain (−1: none).

    Domains of one stack lie in different units (or there is one domain), so their
    calibrated values never meet in a stratum.
    """
    labels: list[tuple[str, object]]   # (unit label, group value or None)
    dom: np.ndarray
    strata_of: list[np.ndarray]         # strata each domain spans


def _city_strata(design: Design) -> np.ndarray:
    return np.argsort(np.array(design.units, dtype=object), kind="stable")  # fixed summation order


def unit_stack(design: Design) -> Stack:
    return Stack([(u, None) for u in design.units], design.strata.copy(),
                 [np.array([h]) for h in range(len(design.units))])


def city_stack(design: Design) -> Stack:
    return Stack([(CITY, None)], np.zeros(design.n, dtype=int), [_city_strata(design)])


def group_levels(design: Design, by: str) -> tuple[list[str], np.ndarray]:
    """Sorted levels of a subgroup column and each row's level code (−1: missing)."""
    if by not in design.data.columns:
        raise InputError([f"--by: responses have no column `{by}`"])
    values = design.data[by].astype("string")
    levels = sorted(str(v) for v in pd.unique(values.dropna()))
    return levels, pd.Categorical(values, categories=levels).codes.astype(int)


def group_stacks(design: Design, by: str) -> list[Stack]:
    """Unit × group and 全市 × group domains: one pair of stacks per group level.

    unit × g domains of different units share a column; unit × g and unit × g' never do.
    """
    levels, codes = group_levels(design, by)
    units = design.units
    stacks = []
    for gi, g in enumerate(levels):
        inside = codes == gi
        stacks.append(Stack([(u, g) for u in units], np.where(inside, design.strata, -1),
                            [np.array([h]) for h in range(len(units))]))
        stacks.append(Stack([(CITY, g)], np.where(inside, 0, -1), [_city_strata(design)]))
    return stacks


# --------------------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------------------
def _ratio_linearization(design: Design, dom: np.ndarray, n_dom: int, valid: np.ndarray, value: np.ndarray,
                         groups: _Groups | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per item: ratio per domain, linearised values x (N × K), and Σ w·v per domain.

    `groups` is `_Groups(dom, n_dom, design.by_rank)` when the caller already has it.
    """
    inside = dom >= 0
    d = np.where(inside, dom, 0)
    groups = groups if groups is not None else _Groups(dom, n_dom, design.by_rank)
    wv = (design.weights * inside)[:, None] * valid
    k = valid.shape[1]
    sums = groups.sums(np.hstack([wv, wv * value]))
    den, num = sums[:, :k], sums[:, k:]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = num / den
        x = wv * (value - ratio[d]) / den[d]
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


def kg_ci(rate: np.ndarray, var: np.ndarray, df: np.ndarray, n_sample: int,
          n_valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Korn–Graubard CI (R's svyciprop method="beta").

    At a rate of 0 or 1 the variance is 0 and R's effective sample size r(1 − r)/V is
    0/0 (R prints NaN); there the effective sample size is the domain's valid rows
    (Korn & Graubard's rule), so the interval is the df-adjusted Clopper–Pearson one,
    e.g. [0, Beta⁻¹(0.975; 1, m)] for a rate of 0.
    """
    rate, var, df = np.broadcast_arrays(np.asarray(rate, float), np.asarray(var, float), np.asarray(df, float))
    edge = (rate == 0) | (rate == 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = rate * (1 - rate) / var
        if n_valid is not None:
            n_eff = np.where(edge, np.broadcast_to(np.asarray(n_valid, float), rate.shape), n_eff)
        m = n_eff * (_t(np.asarray(n_sample - 1.0)) / _t(df)) ** 2
        low = np.where(rate > 0, beta_quantiles(0.025, m * rate, m * (1 - rate) + 1), 0.0)
        high = np.where(rate < 1, beta_quantiles(0.975, m * rate + 1, m * (1 - rate)), 1.0)
    nan = np.isnan(rate)
    return np.where(nan, np.nan, low), np.where(nan, np.nan, high)


def composite_weights(items: Sequence[str], item_weights: Mapping[str, float] | None,
                      units: Sequence[str], not_applicable: Mapping[str, Sequence[str]] | None = None
                      ) -> np.ndarray:
    """Item weights c_k per unit (rows), renormalised over the unit's applicable items."""
    c = np.array([(item_weights or {}).get(i, 1.0) for i in items], dtype=float)
    out = np.tile(c, (len(units), 1))
    for r, u in enumerate(units):
        for item in (not_applicable or {}).get(u, ()):
            if item in items:
                out[r, list(items).index(item)] = 0.0
    totals = out.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(totals > 0, out / totals, np.nan)


def domain_estimates(design: Design, stacks: Sequence[Stack], items: Sequence[str],
                     item_weights: Mapping[str, float] | None = None,
                     not_applicable: Mapping[str, Sequence[str]] | None = None, kg: bool = True) -> pd.DataFrame:
    """Rate and index of every item, and the composite rate, for every domain of the stacks.

    The composite is Σ c_k · rate_k over the unit's applicable items; an applicable item
    without a valid answer in the domain leaves it undefined (NaN, as R).
    """
    items = list(items)
    k = len(items)
    codes = item_codes(design.data, items)
    valid, satisfied, score = _indicators(codes)
    w = design.weights
    rows = []
    for stack in stacks:
        n_dom = len(stack.labels)
        inside = stack.dom >= 0
        d = np.where(inside, stack.dom, 0)
        c = composite_weights(items, item_weights, [lab for lab, _ in stack.labels],
                              {u: v for u, v in (not_applicable or {}).items() if u != CITY})
        groups = _Groups(stack.dom, n_dom, design.by_rank)   # one sort per stack, rows of its domains only
        rate, x_rate, den = _ratio_linearization(design, stack.dom, n_dom, valid, satisfied, groups)
        index, x_index, _ = _ratio_linearization(design, stack.dom, n_dom, valid, score, groups)
        c_row = np.nan_to_num(c)[d]
        raw = np.column_stack([x_rate, x_index, (x_rate * c_row).sum(axis=1), (x_index * c_row).sum(axis=1)])
        v_cal = design.stratum_variances(design.calibrate(raw))
        v_fix = design.stratum_variances(raw)
        present = valid * inside[:, None]
        wv = w[:, None] * present
        sums = groups.sums(np.hstack([present, inside[:, None].astype(float), wv * (satisfied - rate[d]) ** 2]))
        n_valid, n_rows, resid2 = sums[:n_dom, :k], sums[:n_dom, k], sums[:n_dom, k + 1:]
        psus = design.psu_counts(np.column_stack([present, inside]))   # strata × (K + 1)
        for di, (label, group) in enumerate(stack.labels):
            hs = stack.strata_of[di]
            var = v_cal[hs].sum(axis=0)
            var_fix = v_fix[hs].sum(axis=0)
            df = psus[hs].sum(axis=0) - (psus[hs] > 0).sum(axis=0)
            for j, item in enumerate(items):
                rows.append(_row(label, group, item, n_rows[di], n_valid[di, j], rate[di, j], var[j],
                                 var_fix[j], index[di, j], var[k + j], resid2[di, j], den[di, j], df[j]))
            weights_d = c[di]
            used = weights_d > 0
            undefined = bool(np.isnan(weights_d).any() or np.isnan(rate[di][used]).any())
            comp_rate = np.nan if undefined else float(np.sum(weights_d[used] * rate[di][used]))
            comp_index = np.nan if undefined else float(np.sum(weights_d[used] * index[di][used]))
            rows.append(_row(label, group, "composite", n_rows[di], np.nan, comp_rate,
                             np.nan if undefined else var[2 * k], np.nan if undefined else var_fix[2 * k],
                             comp_index, np.nan if undefined else var[2 * k + 1], np.nan, np.nan, df[k]))
    frame = pd.DataFrame(rows)
    return _add_intervals(frame, design.n, kg)


def _row(unit: str, group: object, item: str, n: float, n_valid: float, rate: float, var: float, var_fix: float,
         index: float, index_var: float, resid2: float, den: float, df: float) -> dict:
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = resid2 / den * n_valid / (n_valid - 1) if n_valid > 1 else np.nan
        deff = var / (s2 / n_valid) if n_valid > 1 and s2 > 0 else np.nan
    if n_valid == 0:  # no valid answer: no estimate, and no SE either
        var = var_fix = index_var = np.nan
    return {"unit": unit, "group": group, "item": item, "n": int(n),
            "n_valid": n_valid if np.isnan(n_valid) else int(n_valid), "rate": rate,
            "rate_se": np.sqrt(var), "rate_se_fixed_weights": np.sqrt(var_fix), "index": index,
            "index_se": np.sqrt(index_var), "deff": deff, "n_eff": n_valid / deff if deff and deff > 0 else np.nan,
            "_df": float(df)}


def _add_intervals(frame: pd.DataFrame, n_sample: int, kg: bool = True) -> pd.DataFrame:
    """Logit CIs, index CIs and (unless `kg` is False: NaN) the Korn–Graubard bounds.

    The beta quantiles of Korn–Graubard are the slow part at large n (their continued
    fraction needs ~√m terms), so callers that do not show them can skip them.
    """
    rate, se, df = frame["rate"].to_numpy(float), frame["rate_se"].to_numpy(float), frame["_df"].to_numpy(float)
    frame["rate_low"], frame["rate_high"] = logit_ci(rate, se, df)
    n_valid = frame["n_valid"].to_numpy(float)
    if kg:
        frame["rate_low_kg"], frame["rate_high_kg"] = kg_ci(rate, se ** 2, df, n_sample, n_valid)
    else:
        frame["rate_low_kg"] = frame["rate_high_kg"] = np.nan
    t = _t(df)
    frame["index_low"] = frame["index"] - t * frame["index_se"]
    frame["index_high"] = frame["index"] + t * frame["index_se"]
    frame["df"] = frame.pop("_df")
    return frame


def estimate_table(responses: pd.DataFrame, population: pd.DataFrame, items: Sequence[str] | None = None,
                   item_weights: Mapping[str, float] | None = None, by: str | None = None, ci: str = "logit",
                   variables: Sequence[str] = ("sex", "age_group"), design: Design | None = None,
                   cluster: str | None = None, bounds: tuple[float, float] | None = None,
                   not_applicable: Mapping[str, Sequence[str]] | None = None, kg: bool = True) -> pd.DataFrame:
    """The estimates table of DESIGN.md: each unit, then 全市; each item, then `composite`.

    With `by`, domains are unit × group and 全市 × group, with the group in a column
    named after `by`. `ci="kg"` puts the Korn–Graubard bounds in rate_low/rate_high.
    `cluster` (ignored when a design is given) makes that column the PSU within units.
    `kg=False` skips the Korn–Graubard bounds (NaN) unless `ci="kg"` asks for them.
    """
    items = list(items or [i for i in ITEMS if i in responses.columns])
    design = design or make_design(responses, population, variables, bounds=bounds, cluster=cluster)
    if by:
        stacks = group_stacks(design, by)
        levels = group_levels(design, by)[0]
        order = {lab: i for i, lab in enumerate([(u, g) for u in [*design.units, CITY] for g in levels])}
    else:
        stacks = [unit_stack(design), city_stack(design)]
    table = domain_estimates(design, stacks, items, item_weights, not_applicable, kg=kg or ci == "kg")
    if by:
        key = [order[(u, g)] for u, g in zip(table["unit"], table["group"])]
        table = table.assign(_key=key).sort_values("_key", kind="stable").drop(columns="_key").reset_index(drop=True)
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
    df: float = float("nan")


def contrast(design: Design, item: str, domain_a: np.ndarray, domain_b: np.ndarray) -> Contrast:
    """Rate of domain A minus rate of domain B in one sample (R's svycontrast of two ratios).

    Each domain has its own linearisation column; the variance is that of their
    difference, so the covariance of overlapping or same-unit domains is in it.
    df = PSUs − strata among the valid rows of A and B.
    """
    codes = item_codes(design.data, [item])
    valid, satisfied, _ = _indicators(codes)
    masks = [np.asarray(m, bool) for m in (domain_a, domain_b)]
    xs, rates = [], []
    for mask in masks:
        rate, x, _ = _ratio_linearization(design, np.where(mask, 0, -1), 1, valid, satisfied)
        xs.append(x[:, 0])
        rates.append(float(rate[0, 0]))
    x = (xs[0] - xs[1])[:, None]
    var = float(design.stratum_variances(design.calibrate(x)).sum())
    se = float(np.sqrt(var))
    diff = rates[0] - rates[1]
    present = (valid[:, 0] * (masks[0] | masks[1]))[:, None]
    psus = design.psu_counts(present)
    df = float(max(psus.sum() - (psus > 0).sum(), 1))
    t = float(_t(np.asarray(df)))
    p = float(2 * t_sf(abs(diff / se), df)) if se > 0 else float("nan")
    return Contrast(rates[0], rates[1], diff, se, diff - t * se, diff + t * se, p, df)


def contrast_waves(rate_1: float, se_1: float, rate_2: float, se_2: float) -> Contrast:
    """Two independent samples (waves): z = (r₁ − r₂)/√(SE₁² + SE₂²)."""
    se = float(np.hypot(se_1, se_2))
    diff = rate_1 - rate_2
    p = float(2 * normal_sf(abs(diff / se))) if se > 0 else float("nan")
    return Contrast(rate_1, rate_2, diff, se, diff - 1.959963984540054 * se, diff + 1.959963984540054 * se, p)


# --------------------------------------------------------------------------------------
# Differences between the groups (modes) within each unit
# --------------------------------------------------------------------------------------
def group_differences(design: Design, items: Sequence[str], by: str = "mode",
                      item_weights: Mapping[str, float] | None = None,
                      not_applicable: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """Rate of group a minus group b, per unit and 全市, per item and the composite.

    Every pair of levels present in the domain (a < b in sorted order). Each unit × level
    domain has its own linearisation column, and the difference x_a − x_b is calibrated
    and its variance taken as a whole, so the covariance of the two domains (same
    stratum, same calibration cells, same clusters) is in the SE — R's svycontrast of the
    two domain ratios. df = PSUs − strata among the valid rows of a and b, as `contrast`.
    A difference is empty where a or b has no valid answer (the composite: where an
    applicable item has none).
    """
    items = list(items)
    k = len(items)
    levels, codes = group_levels(design, by)
    valid, satisfied, _ = _indicators(item_codes(design.data, items))
    units = design.units
    n_units = len(units)
    c_unit = composite_weights(items, item_weights, units,
                               {u: v for u, v in (not_applicable or {}).items() if u != CITY})
    c_city = composite_weights(items, item_weights, [CITY])
    city_strata = _city_strata(design)
    per_level = []
    for gi in range(len(levels)):
        inside = codes == gi
        rate_u, x_u, den_u = _ratio_linearization(design, np.where(inside, design.strata, -1), n_units, valid,
                                                  satisfied)
        rate_c, x_c, den_c = _ratio_linearization(design, np.where(inside, 0, -1), 1, valid, satisfied)
        comp_u = (x_u * np.nan_to_num(c_unit)[design.strata]).sum(axis=1)
        comp_c = (x_c * np.nan_to_num(c_city)[0]).sum(axis=1)
        per_level.append((inside, rate_u, den_u, rate_c, den_c, np.column_stack([x_u, comp_u, x_c, comp_c])))
    rows = []
    for ai in range(len(levels)):
        for bi in range(ai + 1, len(levels)):
            in_a, rate_ua, den_ua, rate_ca, den_ca, x_a = per_level[ai]
            in_b, rate_ub, den_ub, rate_cb, den_cb, x_b = per_level[bi]
            var = design.stratum_variances(design.calibrate(x_a - x_b))       # strata × 2(K + 1)
            either = in_a | in_b
            present = np.column_stack([valid * either[:, None], either])
            psus = design.psu_counts(present)                                 # strata × (K + 1)
            for h, label in [*enumerate(units), (None, CITY)]:
                hs = city_strata if h is None else np.array([h])
                v = var[hs].sum(axis=0)[(k + 1 if h is None else 0):][:k + 1]
                df = psus[hs].sum(axis=0) - (psus[hs] > 0).sum(axis=0)
                if h is None:
                    ra, rb, na, nb, c = rate_ca[0], rate_cb[0], den_ca[0], den_cb[0], c_city[0]
                else:
                    ra, rb, na, nb, c = rate_ua[h], rate_ub[h], den_ua[h], den_ub[h], c_unit[h]
                if not (in_a & (True if h is None else design.strata == h)).any() or \
                        not (in_b & (True if h is None else design.strata == h)).any():
                    continue  # the level does not occur in this unit: no comparison
                for j, item in enumerate(items):
                    ok = na[j] > 0 and nb[j] > 0
                    rows.append(_difference_row(label, item, levels[ai], levels[bi], ra[j] if ok else np.nan,
                                                rb[j] if ok else np.nan, v[j] if ok else np.nan, df[j]))
                used = np.nan_to_num(c) > 0
                ok = not np.isnan(c).any() and bool((na[used] > 0).all() and (nb[used] > 0).all())
                rows.append(_difference_row(label, "composite", levels[ai], levels[bi],
                                            float(np.sum(c[used] * ra[used])) if ok else np.nan,
                                            float(np.sum(c[used] * rb[used])) if ok else np.nan,
                                            v[k] if ok else np.nan, df[k]))
    columns = ["unit", "item", f"{by}_a", f"{by}_b", "rate_a", "rate_b", "difference", "se", "low", "high",
               "p_value", "df"]
    frame = pd.DataFrame(rows, columns=columns)
    order = {u: i for i, u in enumerate([*units, CITY])}
    item_order = {i: n for n, i in enumerate([*items, "composite"])}
    key = [(order[u], item_order[i], a, b) for u, i, a, b in frame[["unit", "item", f"{by}_a", f"{by}_b"]]
           .itertuples(index=False)]
    return frame.iloc[sorted(range(len(frame)), key=key.__getitem__)].reset_index(drop=True)


def _difference_row(unit: str, item: str, a: str, b: str, rate_a: float, rate_b: float, var: float,
                    df: float) -> list:
    diff = rate_a - rate_b
    se = float(np.sqrt(var)) if np.isfinite(var) else np.nan
    df = float(max(df, 1))
    t = float(_t(np.asarray(df)))
    p = float(2 * t_sf(abs(diff / se), df)) if np.isfinite(se) and se > 0 and np.isfinite(diff) else np.nan
    return [unit, item, a, b, rate_a, rate_b, diff, se, diff - t * se, diff + t * se, p, df]


# --------------------------------------------------------------------------------------
# Many indicators over the whole sample (one respondent answers about many units)
# --------------------------------------------------------------------------------------
def linearized_ratios(design: Design, valid: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ratio Σw·v·y / Σw·v of every column over the whole sample, and its calibrated linearised
    values (N × K): the columns of a joint variance (contrasts, covariance matrices)."""
    rate, x, _ = _ratio_linearization(design, np.zeros(design.n, dtype=int), 1, np.asarray(valid, float),
                                      np.asarray(value, float))
    return rate[0], design.calibrate(x)


def indicator_estimates(design: Design, labels: Sequence[str], valid: np.ndarray, satisfied: np.ndarray,
                        score: np.ndarray, n: Sequence[float] | None = None) -> pd.DataFrame:
    """Rate (share of `satisfied` among `valid`), index (mean `score`), SE, CI, deff per column.

    Each column is its own domain "valid rows" of the whole sample (R: `svymean(~y,
    subset(design, valid))` after the same raking); df = PSUs − strata among its valid
    rows (R's `degf` of the subset). Columns: unit (the label), n (all rows, or `n`), n_valid,
    rate, rate_se, rate_se_fixed_weights, index, index_se, deff, n_eff, the CIs and df.
    """
    valid, satisfied, score = (np.asarray(a, float) for a in (valid, satisfied, score))
    k = valid.shape[1]
    dom = np.zeros(design.n, dtype=int)
    n = np.full(k, design.n) if n is None else np.asarray(n, float)
    rate, x_rate, den = _ratio_linearization(design, dom, 1, valid, satisfied)
    index, x_index, _ = _ratio_linearization(design, dom, 1, valid, score)
    raw = np.column_stack([x_rate, x_index])
    var = design.stratum_variances(design.calibrate(raw)).sum(axis=0)
    var_fix = design.stratum_variances(raw).sum(axis=0)
    psus = design.psu_counts(valid)
    df = psus.sum(axis=0) - (psus > 0).sum(axis=0)
    resid2 = _Groups(dom, 1, design.by_rank).sums(design.weights[:, None] * valid * (satisfied - rate[0]) ** 2)[0]
    rows = [_row(label, None, "overall", n[j], valid[:, j].sum(), rate[0, j], var[j], var_fix[j], index[0, j],
                 var[k + j], resid2[j], den[0, j], df[j])
            for j, label in enumerate(labels)]
    return _add_intervals(pd.DataFrame(rows), design.n).drop(columns=["group", "item"])
