"""Scoring: from weighted estimates to each unit's public-satisfaction points (METHODS §3).

A scoring config (YAML in data/scoring/) says which items enter the composite and with
what weights, the basis (rate or index), which modes count, the full points, the method
(proportional, banded, relative) and the rounding. The points are a pure function of the
estimate table and the config, so a published score can be recomputed bit for bit.
"""
from __future__ import annotations

from common.errors import Invalid

import hashlib
import json
import math
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ITEMS = ("air", "water", "sea", "noise", "waste", "greenery", "rural", "enforcement", "publicity", "overall")
MODES = ("phone", "door", "paper", "web")
CITY = "全市"


class ConfigError(Invalid):
    """Problems in a scoring config, one line each naming file and field."""

    pass


STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)  # `.inf` / `.nan` in YAML are refused naming the field


class Band(BaseModel):
    model_config = STRICT
    min: float = Field(ge=0, le=1, description="threshold of the basis as a fraction")
    share: float = Field(ge=0, le=1, description="share of full points")


class Rounding(BaseModel):
    model_config = STRICT
    decimals: int = Field(2, ge=0, le=6)
    mode: Literal["half_up", "half_even"] = "half_up"


class Warnings(BaseModel):
    model_config = STRICT
    min_n_valid: int = Field(100, ge=1)
    max_margin_points: float = Field(5.0, gt=0)
    max_weight_ratio: float = Field(5.0, gt=1, description="flag weights above this multiple of the unit mean")


class Weighting(BaseModel):
    model_config = STRICT
    variables: list[str] = Field(default_factory=lambda: ["sex", "age_group"], min_length=1)


class SurveyDesign(BaseModel):
    """The sampling design: `cluster` names the column whose values are the PSUs within units."""
    model_config = STRICT
    cluster: str | None = Field(None, min_length=1)


class ScoringConfig(BaseModel):
    model_config = STRICT
    name: str
    description: str = ""
    items: dict[str, float]
    basis: Literal["rate", "index"] = "rate"
    modes: list[str] | Literal["all"] = "all"
    full_points: float = Field(10, gt=0)
    method: Literal["proportional", "banded", "relative"] = "proportional"
    bands: list[Band] | None = None
    relative_floor: float = Field(0.6, ge=0, le=1)
    rounding: Rounding = Field(default_factory=Rounding)
    warnings: Warnings = Field(default_factory=Warnings)
    ci: Literal["logit", "kg"] = "logit"
    weighting: Weighting = Field(default_factory=Weighting)
    threshold: float | None = Field(None, gt=0, lt=1, description="the line (e.g. 0.80) as a fraction of the basis")
    not_applicable: dict[str, list[str]] = Field(default_factory=dict, description="unit: items that do not apply")
    design: SurveyDesign = Field(default_factory=SurveyDesign)

    @field_validator("items", mode="before")
    @classmethod
    def _items_as_weights(cls, value: Any) -> Any:
        """[air, water, ...], [[air, 1], [water, 2], ...] (canonical form) or {air: 1, ...}."""
        if not isinstance(value, list):
            return value
        out: dict[Any, Any] = {}
        for n, entry in enumerate(value, start=1):
            if isinstance(entry, str):
                out[entry] = 1.0
            elif isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str):
                out[entry[0]] = entry[1]
            else:
                raise ValueError(f"entry {n} ({json.dumps(entry, ensure_ascii=False, default=str)}) is neither an "
                                 f"item name nor an [item, weight] pair")
        return out

    @field_validator("items")
    @classmethod
    def _known_items(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("list at least one item")
        unknown = [k for k in value if k not in ITEMS]
        if unknown:
            raise ValueError(f"unknown item(s) {', '.join(unknown)}; known: {', '.join(ITEMS)}")
        if any(not math.isfinite(w) or w <= 0 for w in value.values()):
            raise ValueError("item weights must be positive finite numbers")
        return value

    @field_validator("not_applicable")
    @classmethod
    def _known_not_applicable(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for unit, items in value.items():
            unknown = [k for k in items if k not in ITEMS]
            if unknown:
                raise ValueError(f"{unit}: unknown item(s) {', '.join(unknown)}")
        return value

    @field_validator("modes")
    @classmethod
    def _known_modes(cls, value: list[str] | str) -> list[str] | str:
        if isinstance(value, list):
            bad = [m for m in value if m not in MODES]
            if bad or not value:
                raise ValueError(f"unknown mode(s) {', '.join(bad) or '(none)'}; use `all` or some of {', '.join(MODES)}")
        return value

    @model_validator(mode="after")
    def _bands_for_banded(self) -> "ScoringConfig":
        if self.method == "banded":
            if not self.bands:
                raise ValueError("bands: method `banded` needs a list of bands ({min, share})")
            mins = [b.min for b in self.bands]
            if mins != sorted(mins, reverse=True):
                raise ValueError("bands: list bands from the highest threshold down")
        for unit, items in self.not_applicable.items():
            if set(self.items) <= set(items):
                raise ValueError(f"not_applicable: {unit}: every scored item is marked as not applicable")
        return self

    @property
    def item_weights(self) -> dict[str, float]:
        """Item weights normalised to sum to one."""
        total = sum(self.items.values())
        return {k: v / total for k, v in self.items.items()}

    def not_applicable_for(self) -> dict[str, list[str]]:
        """Per unit, the scored items that do not apply there (items outside the config are ignored)."""
        out = {u: [i for i in self.items if i in items] for u, items in self.not_applicable.items()}
        return {u: items for u, items in out.items() if items}

    def threshold_on_basis(self) -> float | None:
        """The threshold on the basis's scale (an index is on 0-100)."""
        if self.threshold is None:
            return None
        return self.threshold * 100 if self.basis == "index" else self.threshold

    def mode_list(self) -> list[str] | None:
        return None if self.modes == "all" else list(self.modes)

    def canonical(self) -> dict[str, Any]:
        """The config as plain data; items as [item, weight] pairs so their order survives JSON."""
        data = self.model_dump(mode="json")
        data["items"] = [[k, v] for k, v in self.items.items()]
        return data

    def canonical_json(self) -> str:
        return json.dumps(self.canonical(), sort_keys=True, ensure_ascii=False)

    def hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def parse_config(raw: Any, name: str = "config") -> ScoringConfig:
    if not isinstance(raw, dict):
        raise ConfigError([f"{name}: (file): expected a mapping at the top level"])
    if raw.get("kind") == "appraisal":
        raise ConfigError([f"{name}: kind: an appraisal config (`kind: appraisal`) scores rated units, not districts "
                           "(use it with --appraisal or on an appraisal wave)"])
    try:
        return ScoringConfig.model_validate(raw)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            field = ".".join(str(p) for p in e["loc"]) or "(file)"
            msg = e["msg"].removeprefix("Value error, ")
            problems.append(f"{name}: {field}: {msg}")
        raise ConfigError(problems) from None


def load_config(path: str | Path) -> ScoringConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError([f"{path.name}: (file): cannot read: {err.strerror}"]) from None
    except yaml.YAMLError as err:
        raise ConfigError([f"{path.name}: (file): not valid YAML: {str(err).splitlines()[0]}"]) from None
    return parse_config(raw, path.name)


# --------------------------------------------------------------------------------------
# Points
# --------------------------------------------------------------------------------------
def round_points(value: float, rounding: Rounding) -> float:
    """Round as people do (half up by default): 8.845 -> 8.85.

    The float is first read at 10 decimals, so 8.8449999999999 from binary arithmetic
    (e.g. 10 × 0.8845) rounds like the 8.845 it stands for.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return float("nan")
    exact = Decimal(f"{value:.10f}")
    mode = ROUND_HALF_UP if rounding.mode == "half_up" else ROUND_HALF_EVEN
    return float(exact.quantize(Decimal(1).scaleb(-rounding.decimals), rounding=mode))


def basis_fraction(basis: pd.Series, config: ScoringConfig) -> pd.Series:
    """The basis as a fraction in [0, 1] (an index is on 0-100)."""
    return basis / 100.0 if config.basis == "index" else basis


def raw_points(basis: pd.Series, config: ScoringConfig) -> pd.Series:
    """Unrounded points per unit for the configured method."""
    frac = basis_fraction(basis, config)
    full = config.full_points
    if config.method == "proportional":
        return full * frac
    if config.method == "banded":
        assert config.bands is not None

        def band(x: float) -> float:
            for b in config.bands or []:
                if x >= b.min - 1e-12:
                    return full * b.share
            return 0.0
        return frac.map(band)
    lo, hi = frac.min(), frac.max()
    if hi - lo <= 1e-12:  # all units equal: everyone gets full points, no division by zero
        return pd.Series(full, index=frac.index, dtype=float)
    floor = config.relative_floor
    return full * (floor + (1 - floor) * (frac - lo) / (hi - lo))


def rank_units(points: pd.Series, basis: pd.Series) -> pd.Series:
    """Rank by points (high first), ties broken by the unrounded basis; exact ties share a rank.

    Units without points (NaN) get no rank (<NA>).
    """
    order = pd.DataFrame({"p": points, "b": basis})
    scored = order["p"].notna()
    keys = list(zip(-order.loc[scored, "p"], -order.loc[scored, "b"]))
    ranks = pd.Series(pd.NA, index=order.index, dtype="Int64")
    if keys:
        ranks[scored] = pd.Series(keys, index=order.index[scored]).rank(method="min").astype(int)
    return ranks


MARGIN_TOLERANCE = 1e-9  # a margin of exactly 5.0 points computed as 5.000000000000001 is not above 5


def unit_warnings(n_valid: int, margin: float, config: ScoringConfig) -> list[str]:
    """Why a unit's score needs care (shown beside the score, kept in the JSON)."""
    out = []
    if n_valid < config.warnings.min_n_valid:
        out.append(f"有效样本 {n_valid} 少于 {config.warnings.min_n_valid}")
    margin_points = margin * (1 if config.basis == "index" else 100)
    if not np.isnan(margin_points) and margin_points > config.warnings.max_margin_points + MARGIN_TOLERANCE:
        out.append(f"误差幅度 ±{margin_points:.1f} 个百分点，超过 {config.warnings.max_margin_points:g}")
    return out


ITEM_NAMES = {"air": "空气质量", "water": "河流湖库与饮用水水环境", "sea": "近岸海域与海滩环境",
              "noise": "声环境（噪声）", "waste": "生活垃圾分类与处理", "greenery": "城市绿化与公园",
              "rural": "农村人居环境", "enforcement": "环境违法查处与投诉处理",
              "publicity": "生态环境宣传与信息公开", "overall": "总体满意程度"}
STATUS_TEXT = {"above": "明显高于", "below": "明显低于", "unclear": "与标准线无显著差异"}


def _missing_item_warning(items: list[str]) -> str:
    names = "、".join(f"{ITEM_NAMES.get(i, i)}（{i}）" for i in items)
    return f"适用项目 {names} 没有有效回答，综合满意率无法计算：不计分、不排名"


NOT_ESTIMABLE_WARNING = ("综合满意率的标准误为 0（加权已饱和：样本数不多于加权约束数），无法估计抽样误差：不计分、不排名")


def score_table(units: pd.DataFrame, config: ScoringConfig) -> pd.DataFrame:
    """Points, ranks, threshold and rank intervals, and warnings from one row per unit.

    `units` has columns unit, basis, low, high, n_valid (basis on the config's scale) and,
    optionally, se and df of the basis, `missing_items` (applicable items without a valid
    answer: the composite is undefined) and `not_estimable` (METHODS §2b). A unit whose
    basis is undefined or not estimable gets no points and no rank, and a warning; the
    relative method's lowest and highest units are taken among the scored units.
    """
    from analysis.ranking import p_below, rank_intervals, threshold_status
    out = units.copy().reset_index(drop=True)
    missing = out["missing_items"] if "missing_items" in out else pd.Series([[]] * len(out))
    not_estimable = out["not_estimable"].astype(bool) if "not_estimable" in out else pd.Series(False, index=out.index)
    scored = out["basis"].notna() & ~not_estimable
    out["points_raw"] = np.nan
    if scored.any():
        out.loc[scored, "points_raw"] = raw_points(out.loc[scored, "basis"], config)
    out["points"] = out["points_raw"].map(lambda v: round_points(v, config.rounding))
    out["rank"] = rank_units(out["points"], out["basis"])
    se = out["se"].where(scored) if "se" in out else pd.Series(np.nan, index=out.index)
    if "se" in out:
        out["rank_low"], out["rank_high"] = rank_intervals(out["basis"].where(scored).to_numpy(float),
                                                           se.to_numpy(float), basis=config.basis)
    else:
        out["rank_low"] = out["rank_high"] = np.nan
    line = config.threshold_on_basis()
    if line is not None:
        df = out["df"] if "df" in out else pd.Series(np.nan, index=out.index)
        out["p_below"] = p_below(out["basis"].where(scored).to_numpy(float), se.to_numpy(float),
                                 df.to_numpy(float), line, basis=config.basis)
        out["threshold_status"] = threshold_status(out["low"].where(scored), out["high"].where(scored), line)
    margin = (out["high"] - out["low"]) / 2
    warnings = []
    for n, m, miss, ne in zip(out["n_valid"], margin, missing, not_estimable):
        w = unit_warnings(int(n), m, config)
        if miss:
            w.append(_missing_item_warning(list(miss)))
        elif ne:
            w.append(NOT_ESTIMABLE_WARNING)
        warnings.append(w)
    out["warnings"] = warnings
    key = out["rank"].astype("Float64").fillna(np.inf)
    return out.assign(_k=key).sort_values(["_k", "unit"]).drop(columns="_k").reset_index(drop=True)
