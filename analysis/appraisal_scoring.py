"""Scoring an appraisal wave: points, ranks within each type, and warnings per rated unit.

A config with `kind: appraisal` (data/scoring/appraisal.yaml) gives points per rated unit by
the same methods as for districts (proportional, banded, relative: see analysis.scoring), on
the unit's satisfaction rate (or index) among those aware of it. Units are ranked within their
own type (department, provincial, soe); `relative` scales between the lowest and highest unit
of the same type. A unit rated by fewer than `warnings.min_n_valid` respondents carries a
warning: few residents know a small provincial unit, and its rank then rests on few answers.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from analysis.ranking import p_below, rank_intervals
from analysis.appraisal import (UNIT_TYPES, AppraisalDesign, RatedUnit, estimate_appraisal, estimate_covariance,
                                pairwise_within_types)
from analysis.scoring import (Band, ConfigError, Rounding, Warnings, Weighting, rank_units, raw_points, round_points,
                              unit_warnings)

JSON_KEYS = ("unit", "name", "type", "rate", "rate_low", "rate_high", "n_valid", "points", "rank", "rank_low",
             "rank_high", "warnings")


class AppraisalConfig(BaseModel):
    """The scoring config of an appraisal wave (`kind: appraisal`)."""
    model_config = ConfigDict(extra="forbid")
    kind: Literal["appraisal"]
    name: str
    description: str = ""
    basis: Literal["rate", "index"] = "rate"
    modes: list[Literal["phone", "door", "paper", "web"]] | Literal["all"] = "all"
    full_points: float = Field(10, gt=0)
    method: Literal["proportional", "banded", "relative"] = "proportional"
    bands: list[Band] | None = None
    relative_floor: float = Field(0.6, ge=0, le=1)
    rounding: Rounding = Field(default_factory=Rounding)
    warnings: Warnings = Field(default_factory=lambda: Warnings(min_n_valid=50, max_margin_points=10))
    threshold: float | None = Field(None, gt=0, lt=1, description="basis as a fraction; gives p_below")
    weighting: Weighting = Field(default_factory=Weighting)
    rank_draws: int = Field(20000, ge=1000, le=200000)  # rank intervals: issue 13's analysis.ranking

    @model_validator(mode="after")
    def _bands_for_banded(self) -> "AppraisalConfig":
        if self.method == "banded":
            if not self.bands:
                raise ValueError("bands: method `banded` needs a list of bands ({min, share})")
            mins = [b.min for b in self.bands]
            if mins != sorted(mins, reverse=True):
                raise ValueError("bands: list bands from the highest threshold down")
        return self

    def mode_list(self) -> list[str] | None:
        return None if self.modes == "all" else list(self.modes)

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)

    def hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def parse_appraisal_config(raw: Any, name: str = "config") -> AppraisalConfig:
    if not isinstance(raw, dict):
        raise ConfigError([f"{name}: (file): expected a mapping at the top level"])
    if raw.get("kind") != "appraisal":
        raise ConfigError([f"{name}: kind: an appraisal wave needs a config with `kind: appraisal` "
                           f"(this one has {raw.get('kind', 'no kind')!s}; e.g. data/scoring/appraisal.yaml)"])
    try:
        return AppraisalConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError([f"{name}: {'.'.join(str(p) for p in e['loc']) or '(file)'}: "
                           f"{e['msg'].removeprefix('Value error, ')}" for e in err.errors()]) from None


def load_appraisal_config(path: str | Path) -> AppraisalConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError([f"{path.name}: (file): cannot read: {err.strerror}"]) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"{path.name}: (file): not valid YAML: {str(err).splitlines()[0]}"]) from None
    return parse_appraisal_config(raw, path.name)


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------
@dataclass
class AppraisalRun:
    config: AppraisalConfig
    scores: pd.DataFrame          # one row per rated unit, sorted by type then rank
    estimates: pd.DataFrame       # analysis.appraisal.appraisal_estimates
    pairwise: pd.DataFrame        # within-type contrasts (joint linearisation)
    diagnostics: pd.DataFrame     # weighting diagnostics
    record: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> list[dict[str, Any]]:
        keys = JSON_KEYS + (("p_below",) if self.config.threshold is not None else ())
        return [{k: _json_safe(row[k]) for k in keys} for row in self.scores.to_dict("records")]


def _json_safe(value: Any) -> Any:
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def score_units(estimates: pd.DataFrame, config: AppraisalConfig,
                covariance: pd.DataFrame | None = None) -> pd.DataFrame:
    """Points, rank within type with its interval, p_below and warnings, from the estimates.

    `covariance` (rated unit × rated unit, on the basis scale) makes the rank intervals draw
    the units of a type jointly: one respondent rates many units, so they are not independent.
    """
    basis_col, low_col, high_col = (("rate", "rate_low", "rate_high") if config.basis == "rate"
                                    else ("index", "index_low", "index_high"))
    parts = []
    for t in UNIT_TYPES:
        part = estimates[estimates["type"] == t].copy()
        if part.empty:
            continue
        part["basis"] = part[basis_col]
        scorable = part["basis"].notna()
        part["points_raw"] = np.nan
        if scorable.any():
            part.loc[scorable, "points_raw"] = raw_points(part.loc[scorable, "basis"], config)
        part["points"] = part["points_raw"].map(lambda v: round_points(v, config.rounding))
        part["rank"] = pd.array([pd.NA] * len(part), dtype="Int64")
        part["rank_low"] = pd.array([pd.NA] * len(part), dtype="Int64")
        part["rank_high"] = pd.array([pd.NA] * len(part), dtype="Int64")
        if scorable.any():
            s = part[scorable]
            part.loc[scorable, "rank"] = rank_units(s["points"], s["basis"]).to_numpy()
            se = s["rate_se"] if config.basis == "rate" else s["index_se"]
            cov = None if covariance is None else covariance.loc[list(s["unit"]), list(s["unit"])].to_numpy(float)
            low, high = rank_intervals(s["basis"].to_numpy(float), se.to_numpy(float), basis=config.basis,
                                       draws=config.rank_draws, cov=cov)
            part.loc[scorable, "rank_low"] = np.asarray(low, dtype=int)
            part.loc[scorable, "rank_high"] = np.asarray(high, dtype=int)
        if config.threshold is not None:
            theta = config.threshold if config.basis == "rate" else 100 * config.threshold
            se = part["rate_se"] if config.basis == "rate" else part["index_se"]
            part["p_below"] = p_below(part["basis"].to_numpy(float), se.to_numpy(float),
                                      part["df"].to_numpy(float), theta, basis=config.basis)
        margin = (part[high_col] - part[low_col]) / 2
        part["warnings"] = [_warnings(int(n), m, config) for n, m in zip(part["n_valid"], margin)]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["_type_order"] = out["type"].map({t: i for i, t in enumerate(UNIT_TYPES)})
    out = out.sort_values(["_type_order", "rank", "unit"], na_position="last").drop(columns="_type_order")
    return out.reset_index(drop=True)


def _warnings(n_valid: int, margin: float, config: AppraisalConfig) -> list[str]:
    if n_valid == 0:
        return ["无有效评价：没有了解该单位并作出评价的受访者，不计分、不排名"]
    out = unit_warnings(n_valid, margin, config)
    if n_valid < config.warnings.min_n_valid:
        out[0] += "（了解该单位的受访者较少，得分和排名仅供参考）"
    return out


def appraisal_data_hash(responses: pd.DataFrame, units: list[RatedUnit]) -> str:
    """Content hash of the analysed snapshot (row order and unused columns do not matter)."""
    cols = [c for c in ("response_id", "unit", "mode", "sex", "age_group") if c in responses.columns]
    rated = [c for u in units for c in (u.aware_column, u.id)]
    frame = responses[cols + rated]
    if "response_id" in frame:
        frame = frame.iloc[np.argsort(frame["response_id"].astype(str).to_numpy(), kind="stable")]
    digest = hashlib.sha256()
    for col in cols + rated:
        values = frame[col]
        if col in rated:
            values = pd.to_numeric(values, errors="coerce").astype("Int64")
        digest.update(col.encode("utf-8") + b"\x1e" + "\x1f".join(values.astype(str)).encode("utf-8") + b"\x1d")
    return digest.hexdigest()


def score_appraisal(responses: pd.DataFrame, units: list[RatedUnit], population: pd.DataFrame | None,
                    config: AppraisalConfig, source: str = "", wave: str | None = None) -> AppraisalRun:
    """Weight, estimate and score an appraisal snapshot; the record says how to get it again."""
    from analysis.score_run import code_version, population_hash
    data = responses
    modes = config.mode_list()
    if modes is not None:
        if "mode" not in data.columns:
            from analysis.errors import InputError
            raise InputError(["responses: column `mode` is missing, and the config counts only some modes"])
        data = data[data["mode"].isin(modes)]
    estimates, ad = estimate_appraisal(data, units, population, config.weighting.variables)
    covariance = estimate_covariance(ad.design, units, config.basis)
    scores = score_units(estimates, config, covariance)
    pairwise = pairwise_within_types(ad.design, units)
    record: dict[str, Any] = {
        "wave": wave, "source": source, "kind": "appraisal", "config_name": config.name,
        "config_hash": config.hash(), "config": json.loads(config.canonical_json()),
        "data_count": int(len(data)), "data_count_before_mode_filter": int(len(responses)),
        "data_hash": appraisal_data_hash(data, units), "modes": config.modes, "exclusions": [],
        "code_version": code_version(), "weighting": ad.weighting, "weighting_statement": ad.statement,
        "population_hash": population_hash(population) if population is not None else None,
        "units": [u.__dict__ for u in units],
    }
    run = AppraisalRun(config, scores, estimates, pairwise, ad.design.diagnostics, record,
                       {"design": ad})
    blob = json.dumps({"config": record["config_hash"], "data": record["data_hash"],
                       "population": record["population_hash"], "scores": run.to_json()},
                      sort_keys=True, ensure_ascii=False, allow_nan=False)
    record["result_hash"] = hashlib.sha256(blob.encode("utf-8")).hexdigest()
    return run
