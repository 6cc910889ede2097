"""Raking within each unit to its population margins (METHODS §1).

IPF runs on the table of cells (unit × categories of every margin × base weight), not
on rows: every row of a cell gets the same factor, so the result is the row-level IPF
exactly, and a million rows cost one group-by plus sweeps over a few hundred cells.
Convergence is checked against the targets (every margin cell within 1e-6 × unit total).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import InputError

TOLERANCE = 1e-6      # a margin cell further than this × unit total from its target fails
TIGHT = 1e-11         # sweeps go on to here (cheap on cells), so results agree with R to ~1e-9
MAX_SWEEPS = 100
MAX_BOUND_ROUNDS = 60   # then logit calibration, then a linear program decides
TOTAL_AGREEMENT = 1e-3  # margins of one unit may differ by 0.1 %


@dataclass(frozen=True)
class Margin:
    """One raking variable of one unit: category -> population."""
    unit: str
    variable: str
    targets: dict[str, float]


def _neighbour_hint(categories: list[str], missing: str) -> str:
    """Suggest a neighbouring category to collapse into (ordered as in the population file)."""
    if missing in categories:
        i = categories.index(missing)
        others = [c for c in (categories[i - 1] if i > 0 else None,
                              categories[i + 1] if i + 1 < len(categories) else None) if c]
        if others:
            return f"collapse {missing} with {others[0]}"
    return "collapse it with a neighbouring category"


@dataclass
class _Coded:
    """Rows as integer codes: every check and the cell table work on these, not on strings."""
    units: list[str]
    unit_code: np.ndarray                 # −1: missing unit
    cats: dict[str, list[str]]
    codes: dict[str, np.ndarray]          # −1: missing or blank


def _code(responses: pd.DataFrame, variables: Sequence[str], unit: str,
          unit_order: Sequence[str] = ()) -> _Coded:
    """Integer codes that do not depend on row order: units in the population file's order
    (others after them, sorted), categories sorted."""
    unit_values = responses[unit].astype("string")
    seen = set(pd.unique(unit_values.dropna()))  # the distinct values, without a Python loop over rows
    units = [u for u in dict.fromkeys(str(u) for u in unit_order) if u in seen]
    units += sorted(seen - set(units))
    unit_code = pd.Categorical(unit_values, categories=units).codes.astype(np.int64)
    cats, codes = {}, {}
    for var in variables:
        code, uniques = pd.factorize(responses[var], sort=True)
        labels = [str(u) for u in uniques]
        blank = [i for i, lab in enumerate(labels) if not lab.strip()]
        if blank:
            code = np.where(np.isin(code, blank), -1, code)
        cats[var], codes[var] = labels, code
    return _Coded([str(u) for u in units], unit_code, cats, codes)


def _ids(responses: pd.DataFrame, mask: np.ndarray) -> list[str]:
    rows = responses.loc[mask]
    return rows["response_id"].astype(str).tolist() if "response_id" in rows else [str(i) for i in rows.index]


def check_inputs(responses: pd.DataFrame, population: pd.DataFrame, variables: Sequence[str], unit: str,
                 drop_missing: bool = False, coded: _Coded | None = None) -> list[str]:
    """Every problem with the inputs, one line each (empty when raking can run)."""
    problems: list[str] = []
    for col in (unit, *variables):
        if col not in responses.columns:
            problems.append(f"responses: column `{col}` is missing")
    if problems:
        return problems
    pop_vars = set(population["variable"])
    for var in variables:
        if var not in pop_vars:
            problems.append(f"population: no margins for variable `{var}` "
                            f"(the file has: {', '.join(sorted(pop_vars))})")
    if problems:
        return problems
    if len(responses) == 0:
        return ["responses: there are no responses to weight"]
    coded = coded or _code(responses, variables, unit, population["unit"])
    if (coded.unit_code < 0).any():
        ids = _ids(responses, coded.unit_code < 0)
        problems.append(f"responses: {len(ids)} response(s) without `{unit}`: {', '.join(ids[:10])}")
    if not drop_missing:
        for var in variables:
            miss = coded.codes[var] < 0
            if miss.any():
                ids = _ids(responses, miss)
                shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
                problems.append(f"responses: {len(ids)} response(s) without `{var}`: {shown} "
                                "(fix them, or drop them with --drop-missing)")
    pop = population[population["variable"].isin(variables)]
    pop_units = list(dict.fromkeys(pop["unit"]))
    for u in coded.units:
        if u not in pop_units:
            problems.append(f"unit {u}: has responses but no population margins")
    n_units = len(coded.units)
    counts = {var: np.bincount(np.where(coded.codes[var] >= 0, coded.unit_code * len(coded.cats[var])
                                        + coded.codes[var], -1)[(coded.codes[var] >= 0) & (coded.unit_code >= 0)],
                               minlength=n_units * len(coded.cats[var])).reshape(n_units, -1)
              for var in variables}
    for u in pop_units:
        if u not in coded.units:
            problems.append(f"unit {u}: has population margins but no respondents "
                            "(remove it from the population file or collect responses)")
            continue
        h = coded.units.index(u)
        totals = {}
        for var in variables:
            cells = pop[(pop["unit"] == u) & (pop["variable"] == var)]
            if cells.empty:
                problems.append(f"unit {u}, variable {var}: no population margins")
                continue
            totals[var] = cells["population"].sum()
            pop_cats = cells["category"].tolist()
            seen = {c for c, n in zip(coded.cats[var], counts[var][h]) if n > 0}
            for c in sorted(seen - set(pop_cats)):
                problems.append(f"unit {u}, variable {var}, category {c}: respondents but no population row "
                                f"(add it to the population file or recode it to one of {', '.join(pop_cats)})")
            for c, target in zip(pop_cats, cells["population"]):
                if c not in seen and target > 0:
                    problems.append(f"unit {u}, variable {var}, category {c}: population {target:,.0f} but no "
                                    f"respondents ({_neighbour_hint(pop_cats, c)} in both files)")
        if totals:
            lo, hi = min(totals.values()), max(totals.values())
            if hi <= 0:
                problems.append(f"unit {u}: population total is zero")
            elif (hi - lo) / hi > TOTAL_AGREEMENT:
                listed = ", ".join(f"{v} {t:,.0f}" for v, t in totals.items())
                problems.append(f"unit {u}: margins have different totals ({listed}); they must agree within 0.1 %")
    return problems


def _ipf(cell_w: np.ndarray, margin_index: list[np.ndarray], margin_targets: list[np.ndarray],
         cell_unit: np.ndarray, unit_total: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Rake cell weights to every margin; returns weights, sweeps, max error per unit (relative)."""
    w = cell_w.astype(float).copy()
    n_units = len(unit_total)
    for sweep in range(1, MAX_SWEEPS + 1):
        for idx, target in zip(margin_index, margin_targets):
            current = np.bincount(idx, weights=w, minlength=len(target))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(current > 0, target / current, 0.0)
            w *= factor[idx]
        err = np.zeros(n_units)
        for idx, target in zip(margin_index, margin_targets):
            current = np.bincount(idx, weights=w, minlength=len(target))
            gap = np.abs(current - target)
            cell_unit_of_margin = np.zeros(len(target), dtype=int)
            cell_unit_of_margin[idx] = cell_unit
            np.maximum.at(err, cell_unit_of_margin, gap)
        rel = err / unit_total
        if np.all(rel <= TIGHT):
            return w, sweep, rel
    return w, MAX_SWEEPS, rel


@dataclass
class _Cells:
    """Rows grouped into cells that IPF treats alike."""
    row_cell: np.ndarray       # cell index per row
    cell_base: np.ndarray      # sum of base weights per cell
    cell_count: np.ndarray     # rows per cell
    cell_unit: np.ndarray      # unit index per cell
    margin_index: list[np.ndarray]    # per variable: margin-cell index of each cell
    margin_targets: list[np.ndarray]  # per variable: population of each margin cell
    margin_labels: list[list[tuple[str, str]]]  # per variable: (unit, category) of each margin cell
    units: list[str]
    unit_total: np.ndarray


def _build_cells(coded: _Coded, keep: np.ndarray, population: pd.DataFrame, variables: Sequence[str],
                 base: np.ndarray, order: np.ndarray) -> _Cells:
    """Group kept rows into cells by a mixed-radix key of their codes (no string work per row)."""
    units = coded.units
    unit_code = coded.unit_code[keep]
    base_code, base_levels = pd.factorize(base)
    key = unit_code.astype(np.int64)
    for var in variables:
        key = key * len(coded.cats[var]) + coded.codes[var][keep]
    key = key * len(base_levels) + base_code
    present, row_cell = np.unique(key, return_inverse=True)
    n_cells = len(present)
    cell_base = np.bincount(row_cell[order], weights=base[order], minlength=n_cells)  # response-id order
    cell_count = np.bincount(row_cell, minlength=n_cells)
    # decode each cell's codes back from the key
    rest = present // len(base_levels)
    cell_codes = {}
    for var in reversed(list(variables)):
        rest, cell_codes[var] = np.divmod(rest, len(coded.cats[var]))
    cell_unit = rest.astype(int)
    margin_index, margin_targets, margin_labels = [], [], []
    unit_total = np.zeros(len(units))
    for var in variables:
        pop = population[population["variable"] == var]
        labels = [(u, c) for u in units for c in pop.loc[pop["unit"] == u, "category"]]
        lookup = {lab: i for i, lab in enumerate(labels)}
        target = np.array([float(pop.loc[(pop["unit"] == u) & (pop["category"] == c), "population"].iloc[0])
                           for u, c in labels])
        cats = coded.cats[var]
        margin_index.append(np.array([lookup[(units[cu], cats[cc])] for cu, cc in zip(cell_unit, cell_codes[var])],
                                     dtype=int))
        margin_targets.append(target)
        margin_labels.append(labels)
        totals = np.zeros(len(units))
        np.add.at(totals, [units.index(u) for u, _ in labels], target)
        unit_total = np.maximum(unit_total, totals)
    return _Cells(row_cell, cell_base, cell_count, cell_unit, margin_index, margin_targets, margin_labels,
                  units, unit_total)


def _diagnostics(weights: np.ndarray, data_unit: np.ndarray, units: list[str], sweeps: int,
                 rel_err: np.ndarray, unit_total: np.ndarray) -> pd.DataFrame:
    rows = []
    for i, u in enumerate(units):
        w = weights[data_unit == i]
        s, s2 = w.sum(), (w ** 2).sum()
        rows.append({"unit": u, "n": len(w), "sum_w": s, "min_w": w.min(), "max_w": w.max(),
                     "max_min_ratio": w.max() / w.min() if w.min() > 0 else np.inf,
                     "cv": w.std() / w.mean(), "deff_w": len(w) * s2 / s ** 2, "n_eff_w": s ** 2 / s2,
                     "sweeps": sweeps, "max_margin_error": rel_err[i] * unit_total[i]})
    return pd.DataFrame(rows)


def rake(responses: pd.DataFrame, population: pd.DataFrame, variables: Sequence[str] = ("sex", "age_group"),
         unit: str = "unit", base_weight: pd.Series | np.ndarray | None = None,
         bounds: tuple[float, float] | None = None, drop_missing: bool = False
         ) -> tuple[pd.Series, pd.DataFrame]:
    """Weights raked to each unit's margins, aligned with `responses`, and diagnostics per unit.

    `bounds=(lo, hi)` keeps every weight's ratio to its unit's mean weight within [lo, hi],
    alternating capping and raking until both hold. With `drop_missing`, responses lacking
    a raking variable get weight NaN and are counted in the diagnostics' `dropped` column.
    """
    variables = list(variables)
    unit_order = population["unit"] if "unit" in population.columns else ()
    coded = _code(responses, variables, unit, unit_order) if set(variables) | {unit} <= set(responses.columns) \
        else None
    problems = check_inputs(responses, population, variables, unit, drop_missing, coded)
    if base_weight is not None:
        bw = np.asarray(base_weight, dtype=float)
        if len(bw) != len(responses) or np.any(~np.isfinite(bw)) or np.any(bw <= 0):
            problems.append("base_weight: must be one positive number per response")
    if bounds is not None and not (0 < bounds[0] < 1 < bounds[1]):
        problems.append(f"bounds: need 0 < lower < 1 < upper, got {bounds[0]}, {bounds[1]}")
    if problems:
        raise InputError(problems)
    assert coded is not None
    keep = np.ones(len(responses), dtype=bool)
    if drop_missing:
        for var in variables:
            keep &= coded.codes[var] >= 0
    base = np.ones(int(keep.sum())) if base_weight is None else np.asarray(base_weight, dtype=float)[keep]
    ids = responses["response_id"].astype(str).to_numpy()[keep] if "response_id" in responses.columns \
        else np.arange(int(keep.sum()))
    order = np.argsort(ids, kind="stable")  # sums in response-id order: the same bits in any row order
    cells = _build_cells(coded, keep, population, variables, base, order)
    cell_w, sweeps, rel = _ipf(cells.cell_base, cells.margin_index, cells.margin_targets, cells.cell_unit,
                               cells.unit_total)
    _fail_if_not_converged(rel, cells, variables)
    if bounds is not None:
        cell_w, extra, rel = _bounded(cells, cell_w, bounds, variables, rel)
        sweeps += extra
    factor = np.divide(cell_w, cells.cell_base)
    row_w = base * factor[cells.row_cell]
    weights = pd.Series(np.nan, index=responses.index, name="weight")
    weights[keep] = row_w
    diag = _diagnostics(row_w[order], cells.cell_unit[cells.row_cell][order], cells.units, sweeps, rel,
                        cells.unit_total)
    diag["dropped"] = np.bincount(coded.unit_code[~keep], minlength=len(cells.units))[:len(cells.units)]
    return weights, diag


def _fail_if_not_converged(rel: np.ndarray, cells: _Cells, variables: Sequence[str]) -> None:
    bad = [cells.units[i] for i in np.flatnonzero(rel > TOLERANCE)]
    if bad:
        raise InputError([f"unit {u}: raking on {', '.join(variables)} did not converge in {MAX_SWEEPS} "
                          f"sweeps (relative margin error {rel[cells.units.index(u)]:.2g}); the margins may "
                          "contradict the sample, collapse sparse categories" for u in bad])


def _bounded(cells: _Cells, cell_w: np.ndarray, bounds: tuple[float, float], variables: Sequence[str],
             raked_rel: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Weights within bounds (ratio to the unit mean) that meet every margin, unit by unit.

    A unit whose raked weights already lie within the bounds keeps them. Otherwise its
    weights are those of the bounded logit calibration from the unit mean — R's
    `calibrate(calfun = "logit", bounds = c(lo, hi))`, to which they are compared. If
    that does not converge, capping and re-raking alternate; if that does not settle
    either, a linear program decides: weights within the bounds that meet the margins
    are used when they exist, and only when none exist does the unit fail, naming the
    bound that binds. No fixed round cap turns a feasible problem into a refusal.
    """
    lo, hi = bounds
    n_units = len(cells.units)
    n_unit = np.bincount(cells.cell_unit, weights=cells.cell_count, minlength=n_units)
    rel = raked_rel.copy()

    def within(w: np.ndarray, rel: np.ndarray) -> np.ndarray:
        mean = np.bincount(cells.cell_unit, weights=w, minlength=n_units) / n_unit
        r = (w / cells.cell_count) / mean[cells.cell_unit]
        bad = (r < lo * (1 - 1e-9)) | (r > hi * (1 + 1e-9))
        return (np.bincount(cells.cell_unit, weights=bad, minlength=n_units) == 0) & (rel <= TOLERANCE)

    cell_w = cell_w.copy()
    todo = list(np.flatnonzero(~within(cell_w, rel)))
    systems = {}
    for i in list(todo):
        mine = np.flatnonzero(cells.cell_unit == i)
        systems[i] = (mine, *_unit_system(cells, i, mine))
        x, targets, total = systems[i][1:]
        d = cells.cell_count[mine] * total / n_unit[i]
        g = _logit_calibration(x, targets, d, lo, hi, total)
        if g is not None:
            cell_w[mine] = g * d
            todo.remove(i)
    sweeps = 0
    if todo:  # capping and re-raking, for the units the logit calibration did not settle
        w = cell_w.copy()
        for _ in range(MAX_BOUND_ROUNDS):
            mean = np.bincount(cells.cell_unit, weights=w, minlength=n_units) / n_unit
            r = (w / cells.cell_count) / mean[cells.cell_unit]
            w, s, rel_all = _ipf(np.clip(r, lo, hi) * mean[cells.cell_unit] * cells.cell_count, cells.margin_index,
                                 cells.margin_targets, cells.cell_unit, cells.unit_total)
            sweeps += s
            if within(w, rel_all)[todo].all():
                break
        ok = within(w, rel_all)
        for i in list(todo):
            if ok[i]:
                cell_w[systems[i][0]] = w[systems[i][0]]
                todo.remove(i)
    problems = []
    for i in todo:
        mine, x, targets, total = systems[i]
        d = cells.cell_count[mine] * total / n_unit[i]
        g, problem = _feasible_by_lp(x, targets, d, lo, hi, total, cells.units[i], variables)
        if g is None:
            problems.extend(problem)
        else:
            cell_w[mine] = g * d
    if problems:
        raise InputError(problems)
    for i, (mine, x, targets, total) in systems.items():
        rel[i] = np.max(np.abs(x.T @ cell_w[mine] - targets)) / total
    return cell_w, sweeps, rel


def _unit_system(cells: _Cells, unit: int, mine: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Indicator matrix (unit's cells × unit's margin cells) and the margin targets."""
    cols, targets = [], []
    for idx, target in zip(cells.margin_index, cells.margin_targets):
        of_unit = np.unique(idx[mine])
        for m in of_unit:
            cols.append((idx[mine] == m).astype(float))
            targets.append(target[m])
    return np.column_stack(cols), np.array(targets), float(cells.unit_total[unit])


def _logit_calibration(x: np.ndarray, targets: np.ndarray, d: np.ndarray, lo: float, hi: float, total: float,
                       max_iter: int = 500) -> np.ndarray | None:
    """g-weights of the bounded logit calibration (Deville & Särndal 1992; R calfun="logit").

    g = F(x'λ) with F(0) = 1 and lo < F < hi; Newton steps on λ (least squares, as the
    margin indicators are collinear) with step halving. None when it does not converge.
    """
    a = (hi - lo) / ((1 - lo) * (hi - 1))

    def g_and_slope(lam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        e = np.exp(np.clip(a * (x @ lam), -300, 300))
        den = (hi - 1) + (1 - lo) * e
        g = (lo * (hi - 1) + hi * (1 - lo) * e) / den
        return g, a * e * (1 - lo) * (hi - 1) * (hi - lo) / den ** 2

    lam = np.zeros(x.shape[1])
    g, slope = g_and_slope(lam)
    gap = targets - x.T @ (d * g)
    for _ in range(max_iter):
        if np.max(np.abs(gap)) <= TIGHT * total * 10:
            return np.clip(g, lo, hi)
        jac = x.T @ (x * (d * slope)[:, None])
        step = np.linalg.lstsq(jac, gap, rcond=None)[0]
        size = 1.0
        while size > 1e-12:
            g_new, slope_new = g_and_slope(lam + size * step)
            gap_new = targets - x.T @ (d * g_new)
            if np.linalg.norm(gap_new) < np.linalg.norm(gap):
                break
            size /= 2
        else:
            return None
        lam, g, slope, gap = lam + size * step, g_new, slope_new, gap_new
    return None


def _feasible_by_lp(x: np.ndarray, targets: np.ndarray, d: np.ndarray, lo: float, hi: float, total: float,
                    unit: str, variables: Sequence[str]) -> tuple[np.ndarray | None, list[str]]:
    """Weights within [lo, hi] meeting the margins, by linear programming, or why none exist."""
    from scipy.optimize import linprog  # only on this rare path: scipy costs a second to import

    a_eq, b_eq = (x * d[:, None]).T / total, targets / total

    def solve(bounds: tuple[float | None, float | None]):
        return linprog(np.zeros(len(d)), A_eq=a_eq, b_eq=b_eq, bounds=[bounds] * len(d), method="highs")

    both = solve((lo, hi))
    if both.status == 0:
        g = np.clip(both.x, lo, hi)
        if np.max(np.abs(a_eq @ g - b_eq)) <= TOLERANCE:
            return g, []
    where = ", ".join(variables)
    problems = []
    if solve((0.0, hi)).status != 0:
        problems.append(f"unit {unit}: the upper bound {hi:g} binds: no weights within {hi:g} × the mean meet the "
                        f"margins (raise the upper bound or collapse categories of {where})")
    if solve((lo, None)).status != 0:
        problems.append(f"unit {unit}: the lower bound {lo:g} binds: no weights above {lo:g} × the mean meet the "
                        f"margins (lower the lower bound or collapse categories of {where})")
    return None, problems or [f"unit {unit}: the bounds {lo:g} and {hi:g} bind together: no weights within both "
                              f"meet the margins (widen the bounds or collapse categories of {where})"]


MAX_WEIGHT_RATIO = 5.0  # default: a weight above 5 × its unit's mean weight is "extreme" (METHODS, issue 13 §11)


def extreme_weights(weights: pd.Series, units: pd.Series, multiple: float = MAX_WEIGHT_RATIO) -> pd.DataFrame:
    """Per unit: the largest weight ÷ unit mean weight and how many weights exceed `multiple` × mean.

    One respondent carrying five times the average weight moves a small unit's rate on
    their own; the weight diagnostics, the `weight` command and the score warnings name it.
    """
    if not (np.isfinite(multiple) and multiple > 1):
        raise InputError([f"--max-ratio: must be a finite number above 1, got {multiple}"])
    frame = pd.DataFrame({"unit": units.to_numpy(), "w": weights.to_numpy(float)})
    ratio = frame["w"] / frame.groupby("unit")["w"].transform("mean")
    frame["ratio"] = ratio
    frame["above"] = ratio > multiple
    out = frame.groupby("unit", sort=False).agg(max_weight_ratio=("ratio", "max"), weights_above=("above", "sum"))
    return out.reset_index()


def extreme_rows(weights: pd.Series, units: pd.Series, multiple: float = MAX_WEIGHT_RATIO) -> pd.Series:
    """Boolean per row: weight > `multiple` × its unit's mean weight."""
    w = pd.Series(np.asarray(weights, float), index=units.index)
    return w / w.groupby(units).transform("mean") > multiple
