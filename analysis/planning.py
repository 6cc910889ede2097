"""Sample-size planning (METHODS §6) and the margins a sample achieved."""
from __future__ import annotations

import math

import pandas as pd

Z95 = 1.96


def sample_size(p: float, margin: float, deff: float = 1.0) -> int:
    """Respondents per unit for a 95 % margin of error `margin` at rate `p`:
    n = deff · 1.96² · p(1 − p) / e², rounded up (p = 0.9, e = 0.03, deff = 1.3 → 500)."""
    if not 0 < p < 1:
        raise ValueError(f"p must be between 0 and 1, got {p}")
    if margin <= 0:
        raise ValueError(f"margin must be positive, got {margin}")
    if deff <= 0:
        raise ValueError(f"deff must be positive, got {deff}")
    return math.ceil(round(deff * Z95 ** 2 * p * (1 - p) / margin ** 2, 9))


def achieved_margins(estimates: pd.DataFrame, item: str = "composite") -> pd.DataFrame:
    """Per unit: rate, achieved margin (half the CI) and the n the planner would ask for it."""
    rows = estimates[estimates["item"] == item].copy()
    rows["margin"] = (rows["rate_high"] - rows["rate_low"]) / 2
    return rows[["unit", "n", "rate", "margin"]].reset_index(drop=True)


def plan_table(units: list[str], p: float, margin: float, deff: float,
               achieved: pd.DataFrame | None = None) -> pd.DataFrame:
    """The planner's n per unit beside what fieldwork achieved (when known)."""
    need = sample_size(p, margin, deff)
    plan = pd.DataFrame({"unit": units, "n_planned": need})
    if achieved is not None and not achieved.empty:
        plan = plan.merge(achieved.rename(columns={"n": "n_achieved", "margin": "margin_achieved"}),
                          on="unit", how="left")
    return plan
