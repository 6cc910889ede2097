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


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: float = Field(ge=0, le=1, description="threshold of the basis as a fraction")
    share: float = Field(ge=0, le=1, description="share of full points")


class Rounding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decimals: int = Field(2, ge=0, le=6)
    mode: Literal["half_up", "half_even"] = "half_up"


class Warnings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_n_valid: int = Field(100, ge=1)
    max_margin_points: float = Field(5.0, gt=0)


class Weighting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variables: list[str] = Field(default_factory=lambda: ["sex", "age_group"], min_length=1)


class ScoringConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
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

    @field_validator("items", mode="before")
    @classmethod
    def _items_as_weights(cls, value: Any) -> Any:
        if isinstance(value, list):  # [air, water, ...] or [[air, 1], [water, 2], ...] (canonical form)
            return {item[0]: item[1] for item in value} if value and isinstance(value[0], list) \
                else {item: 1.0 for item in value}
        return value

    @field_validator("items")
    @classmethod
    def _known_items(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("list at least one item")
        unknown = [k for k in value if k not in ITEMS]
        if unknown:
            raise ValueError(f"unknown item(s) {', '.join(unknown)}; known: {', '.join(ITEMS)}")
        if any(w <= 0 for w in value.values()):
            raise ValueError("item weights must be positive")
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
        return self

    @property
    def item_weights(self) -> dict[str, float]:
        """Item weights normalised to sum to one."""
        total = sum(self.items.values())
        return {k: v / total for k, v in self.items.items()}

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
    """Rank by points (high first), ties broken by the unrounded basis; exact ties share a rank."""
    order = pd.DataFrame({"p": points, "b": basis})
    keys = list(zip(-order["p"], -order["b"]))
    ranks = pd.Series(keys, index=order.index).rank(method="min")
    return ranks.astype(int)


def unit_warnings(n_valid: int, margin: float, config: ScoringConfig) -> list[str]:
    """Why a unit's score needs care (shown beside the score, kept in the JSON)."""
    out = []
    if n_valid < config.warnings.min_n_valid:
        out.append(f"有效样本 {n_valid} 少于 {config.warnings.min_n_valid}")
    margin_points = margin * (1 if config.basis == "index" else 100)
    if not np.isnan(margin_points) and margin_points > config.warnings.max_margin_points:
        out.append(f"误差幅度 ±{margin_points:.1f} 个百分点，超过 {config.warnings.max_margin_points:g}")
    return out


def score_table(units: pd.DataFrame, config: ScoringConfig) -> pd.DataFrame:
    """Points, ranks and warnings from one row per unit.

    `units` has columns unit, basis, low, high, n_valid (basis on the config's scale).
    """
    out = units.copy().reset_index(drop=True)
    out["points_raw"] = raw_points(out["basis"], config)
    out["points"] = out["points_raw"].map(lambda v: round_points(v, config.rounding))
    out["rank"] = rank_units(out["points"], out["basis"])
    margin = (out["high"] - out["low"]) / 2
    out["warnings"] = [unit_warnings(int(n), m, config) for n, m in zip(out["n_valid"], margin)]
    return out.sort_values(["rank", "unit"]).reset_index(drop=True)
