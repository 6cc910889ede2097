"""Appraisal waves (部门评议): one respondent rates many units (departments, provincial units, SOEs).

A district wave estimates each district from its own residents. An appraisal wave asks every
respondent about every rated unit: first awareness (`<id>_aware`: 1 = 了解/接触过, 2 = 不了解),
then, only if aware, satisfaction (`<id>`: 5..1, 9 = 说不清). A unit has no census, so the sample
is weighted once for the whole city:

- population rows with unit 全市: rake all respondents to the city margins (one stratum);
- otherwise population rows per district: rake within the respondents' districts
  (strata = districts), exactly as a district wave;
- no population at all: weights are 1 (one stratum), and the record says `unweighted`.

Every rated unit is then a domain estimate on the same design (R: `svymean(~y, subset(design,
valid))` after the same raking). Because the same people rate several units, two units'
estimates are correlated; `unit_contrast` linearises the difference jointly, so its variance
carries that covariance.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.estimation import (CITY, ITEMS, Contrast, Design, equal_weight_design, indicator_estimates,
                                 linearized_ratios, make_design)
from analysis.distributions import t_quantiles, t_sf
from analysis.ranking import holm
from analysis.io import TEXT_COLUMNS, read_table

UNIT_TYPES = ("department", "provincial", "soe")
AWARE, NOT_AWARE = 1, 2
RATING_CODES = (1, 2, 3, 4, 5, 9)
COLUMNS = ("unit", "type", "n", "n_aware", "aware_rate", "n_valid", "rate", "rate_se", "rate_low", "rate_high",
           "index", "index_se", "deff")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_RESERVED = {*ITEMS, *TEXT_COLUMNS, "change", "submitted_at", "duration_s", "weight"}


@dataclass(frozen=True)
class RatedUnit:
    """One unit the respondents rate: its id is the column name of its rating."""
    id: str
    name: str
    type: str

    @property
    def aware_column(self) -> str:
        return f"{self.id}_aware"


def parse_units(frame: pd.DataFrame, name: str = "units") -> list[RatedUnit]:
    """Rated units from an `id,name,type` table, every problem named by line."""
    missing = [c for c in ("id", "name", "type") if c not in frame.columns]
    if missing:
        raise InputError([f"{name}: column `{c}` is missing (need id,name,type)" for c in missing])
    problems, units, seen = [], [], set()
    for line, (uid, uname, utype) in enumerate(zip(frame["id"], frame["name"], frame["type"]), start=2):
        uid = "" if pd.isna(uid) else str(uid).strip()
        uname = "" if pd.isna(uname) else str(uname).strip()
        utype = "" if pd.isna(utype) else str(utype).strip()
        where = f"{name}: line {line}"
        if not _ID.match(uid):
            problems.append(f"{where}: id `{uid}` must be lower-case letters, digits and _ (starting with a letter, "
                            "at most 40)")
        elif uid in _RESERVED or uid.endswith("_aware"):
            problems.append(f"{where}: id `{uid}` is a column name the responses file already uses")
        elif uid in seen:
            problems.append(f"{where}: id `{uid}` is listed twice")
        if not uname:
            problems.append(f"{where}: name is empty")
        elif len(uname) > 100:
            problems.append(f"{where}: name is longer than 100 characters")
        if utype not in UNIT_TYPES:
            problems.append(f"{where}: type `{utype}` must be one of {', '.join(UNIT_TYPES)}")
        seen.add(uid)
        units.append(RatedUnit(uid, uname, utype))
    if not units and not problems:
        problems.append(f"{name}: lists no rated units")
    if problems:
        raise InputError(problems)
    return units


def read_units(source: str | Path | IO[bytes], name: str | None = None) -> list[RatedUnit]:
    name = name or Path(str(getattr(source, "name", source))).name
    return parse_units(read_table(source, name, str), name)


def read_appraisal_responses(source: str | Path | IO[bytes], name: str | None = None) -> pd.DataFrame:
    """An appraisal responses file (a district column is optional: city weighting needs none)."""
    name = name or Path(str(getattr(source, "name", source))).name
    return read_table(source, name, TEXT_COLUMNS)


def check_responses(responses: pd.DataFrame, units: Sequence[RatedUnit], name: str = "responses") -> None:
    """Both columns of every rated unit, with codes 1/2 and 5..1/9; a rating only where aware."""
    problems = []
    ids = responses["response_id"].astype(str) if "response_id" in responses else pd.Series(
        [f"row {i + 2}" for i in range(len(responses))], index=responses.index)
    if len(responses) == 0:
        raise InputError([f"{name}: there are no responses"])
    for unit in units:
        for col in (unit.aware_column, unit.id):
            if col not in responses.columns:
                problems.append(f"{name}: column `{col}` of rated unit {unit.id} ({unit.name}) is missing")
        if problems and (unit.aware_column not in responses or unit.id not in responses):
            continue
        aware = pd.to_numeric(responses[unit.aware_column], errors="coerce")
        rating = pd.to_numeric(responses[unit.id], errors="coerce")
        for col, values, allowed in ((unit.aware_column, aware, (AWARE, NOT_AWARE)), (unit.id, rating, RATING_CODES)):
            raw = responses[col]
            bad = (raw.notna() & ~values.isin(allowed)).to_numpy()
            if bad.any():
                problems.append(f"{name}: column `{col}`: {int(bad.sum())} answer(s) not in "
                                f"{'/'.join(map(str, allowed))}: {', '.join(ids[bad].head(10))}")
        rated_unaware = (rating.notna() & (aware != AWARE)).to_numpy()
        if rated_unaware.any():
            problems.append(f"{name}: column `{unit.id}`: {int(rated_unaware.sum())} rating(s) from respondents "
                            f"not aware of {unit.name} (`{unit.aware_column}` is not 1): "
                            f"{', '.join(ids[rated_unaware].head(10))}")
    if problems:
        raise InputError(problems)


# --------------------------------------------------------------------------------------
# The design
# --------------------------------------------------------------------------------------
@dataclass
class AppraisalDesign:
    """The design every rated unit is estimated on, with the sentence the record prints."""
    design: Design
    weighting: str      # "city" | "districts" | "unweighted"
    statement: str


def appraisal_design(responses: pd.DataFrame, population: pd.DataFrame | None,
                     variables: Sequence[str] = ("sex", "age_group"), unit: str = "unit") -> AppraisalDesign:
    """City margins if the population file has 全市 rows, else the districts' margins, else weights 1."""
    variables = list(variables)
    if population is None:
        return AppraisalDesign(equal_weight_design(responses), "unweighted",
                               "weighting: unweighted (no population margins given): every weight is 1, one stratum")
    city = population[population["unit"] == CITY]
    if not city.empty:
        data = responses.reset_index(drop=True).assign(_stratum=CITY)
        design = make_design(data, city, variables, unit="_stratum")
        return AppraisalDesign(design, "city", f"weighting: raked to the city-wide (全市) margins of "
                                               f"{', '.join(variables)}; one stratum")
    if unit not in responses.columns:
        raise InputError([f"population: no {CITY} rows, and the responses have no `{unit}` column to rake "
                          "within districts"])
    design = make_design(responses, population, variables, unit=unit)
    return AppraisalDesign(design, "districts", f"weighting: raked within the respondents' districts "
                                                f"({len(design.units)}) on {', '.join(variables)}; "
                                                "strata = districts")


# --------------------------------------------------------------------------------------
# Estimates
# --------------------------------------------------------------------------------------
@dataclass
class _Indicators:
    asked: np.ndarray      # N × K: answered the awareness question
    aware: np.ndarray      # N × K: 了解/接触过
    valid: np.ndarray      # N × K: a rating 1..5
    satisfied: np.ndarray  # N × K: rating 4 or 5
    score: np.ndarray      # N × K: 25·(rating − 1)


def _indicators(data: pd.DataFrame, units: Sequence[RatedUnit]) -> _Indicators:
    aware = data[[u.aware_column for u in units]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    rating = data[[u.id for u in units]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    valid = np.isin(rating, (1, 2, 3, 4, 5)).astype(float)
    return _Indicators(np.isin(aware, (AWARE, NOT_AWARE)).astype(float), (aware == AWARE).astype(float), valid,
                       valid * np.isin(rating, (4, 5)), valid * 25.0 * (np.nan_to_num(rating) - 1))


def linearized(design: Design, units: Sequence[RatedUnit]) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's rate and its calibration-adjusted linearised values (N × K), for contrasts."""
    ind = _indicators(design.data, units)
    return linearized_ratios(design, ind.valid, ind.satisfied)


def appraisal_estimates(design: Design, units: Sequence[RatedUnit]) -> pd.DataFrame:
    """One row per rated unit: awareness, satisfaction rate and index with SE, CI and deff.

    Awareness is estimated among those asked; satisfaction among the valid (1..5) ratings
    (`analysis.estimation.indicator_estimates`: R's svymean on the subset of valid answers).
    """
    ind = _indicators(design.data, units)
    ids = [u.id for u in units]
    frame = indicator_estimates(design, ids, ind.valid, ind.satisfied, ind.score, n=ind.asked.sum(axis=0))
    aware = indicator_estimates(design, ids, ind.asked, ind.aware, ind.aware)
    frame["type"] = [u.type for u in units]
    frame["name"] = [u.name for u in units]
    frame["n_aware"] = ind.aware.sum(axis=0).astype(int)
    frame["aware_rate"] = aware["rate"].to_numpy()
    frame["aware_se"] = aware["rate_se"].to_numpy()
    front = [*COLUMNS, "name", "aware_se", "index_low", "index_high", "df", "rate_se_fixed_weights"]
    return frame[front]


def estimate_covariance(design: Design, units: Sequence[RatedUnit], basis: str = "rate") -> pd.DataFrame:
    """K × K covariance of the rated units' rates (or indexes), joint linearisation.

    The same respondents rate several units, so their estimates are correlated: the rank
    intervals draw them jointly with this matrix (its diagonal is each unit's SE²).
    """
    ind = _indicators(design.data, units)
    _, x = linearized_ratios(design, ind.valid, ind.satisfied if basis == "rate" else ind.score)
    ids = [u.id for u in units]
    return pd.DataFrame(design.covariance(x), index=ids, columns=ids)


def unit_contrast(design: Design, units: Sequence[RatedUnit], a: str, b: str) -> Contrast:
    """Rate of rated unit a minus unit b, linearised jointly (same respondents: covariance kept)."""
    by_id = {u.id: u for u in units}
    pair = [by_id[a], by_id[b]]
    rate, x = linearized(design, pair)
    var = float(design.stratum_variances((x[:, 0] - x[:, 1])[:, None]).sum())
    return _contrast(rate[0], rate[1], var, design)


def _contrast(rate_a: float, rate_b: float, var: float, design: Design) -> Contrast:
    se = float(np.sqrt(var))
    diff = float(rate_a - rate_b)
    df = max(design.n - len(design.units), 1)
    t = float(t_quantiles(0.975, np.asarray(float(df))))
    p = float(2 * t_sf(abs(diff / se), df)) if se > 0 else float("nan")
    return Contrast(float(rate_a), float(rate_b), diff, se, diff - t * se, diff + t * se, p)


def pairwise_within_types(design: Design, units: Sequence[RatedUnit]) -> pd.DataFrame:
    """Every pair of units of the same type: difference, joint-linearisation SE, p, Holm-adjusted p."""
    rate, x = linearized(design, units)
    rows = []
    for t in UNIT_TYPES:
        idx = [j for j, u in enumerate(units) if u.type == t]
        pairs = [(i, j) for n, i in enumerate(idx) for j in idx[n + 1:]]
        ps = []
        for i, j in pairs:
            var = float(design.stratum_variances((x[:, i] - x[:, j])[:, None]).sum())
            c = _contrast(rate[i], rate[j], var, design)
            rows.append({"type": t, "unit_a": units[i].id, "unit_b": units[j].id, "diff": c.difference,
                         "se": c.se, "low": c.low, "high": c.high, "p": c.p_value})
            ps.append(c.p_value)
        for row, adj in zip(rows[len(rows) - len(pairs):], holm(np.array(ps))):
            row["p_holm"] = adj
    return pd.DataFrame(rows, columns=["type", "unit_a", "unit_b", "diff", "se", "low", "high", "p", "p_holm"])


def estimate_appraisal(responses: pd.DataFrame, units: Sequence[RatedUnit], population: pd.DataFrame | None,
                       variables: Sequence[str] = ("sex", "age_group")) -> tuple[pd.DataFrame, AppraisalDesign]:
    """Check, weight and estimate: the table of the `estimate --appraisal` contract and its design."""
    check_responses(responses, units)
    data = responses
    if "response_id" in data.columns:  # results never depend on row order
        data = data.iloc[np.argsort(data["response_id"].astype(str).to_numpy(), kind="stable")]
    ad = appraisal_design(data.reset_index(drop=True), population, variables)
    return appraisal_estimates(ad.design, units), ad
