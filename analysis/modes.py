"""Mode differences in sight (issue 13, point 13): each unit's mode mix, and a note where it differs.

Phone, door, paper and web answers differ (who answers, and how they answer a pollster), so a
web-heavy district and a door-heavy one are not compared like with like. `mode_mix` gives
each unit's share of respondents per mode and flags a unit whose mix is far from the rest
of the city's; the differences themselves, with correct SEs, are
`analysis.estimation.group_differences`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MIX_LIMIT = 0.2  # total variation distance above which a unit's mix "differs strongly"


def mode_mix(responses: pd.DataFrame, unit: str = "unit", by: str = "mode", limit: float = MIX_LIMIT
             ) -> pd.DataFrame:
    """One row per unit: share of respondents per mode (unweighted), distance to the others, flag.

    The distance is the total variation distance ½ Σ_m |p_unit,m − p_rest,m| between the
    unit's mix and the pooled mix of all other units: the share of the unit's respondents
    that would have to change mode to look like the rest. `differs` is distance > limit.
    With a single unit there is no "rest": distance NaN, never flagged.
    """
    if not 0 <= limit <= 1 or not np.isfinite(limit):
        raise ValueError(f"limit must lie in [0, 1], got {limit}")
    counts = pd.crosstab(responses[unit].astype(str), responses[by].astype(str))
    counts = counts.reindex(sorted(counts.columns), axis=1)
    shares = counts.div(counts.sum(axis=1), axis=0)
    total = counts.sum(axis=0)
    distance = []
    for u in counts.index:
        rest = total - counts.loc[u]
        distance.append(float(0.5 * np.abs(shares.loc[u] - rest / rest.sum()).sum()) if rest.sum() > 0 else np.nan)
    out = shares.reset_index().rename(columns={unit: "unit"})
    out.columns.name = None
    out.insert(1, "n", counts.sum(axis=1).to_numpy())
    out["distance"] = distance
    out["differs"] = [bool(d > limit) if np.isfinite(d) else False for d in distance]
    return out


def mix_note_units(mix: pd.DataFrame) -> list[str]:
    """The units whose mode mix differs strongly from the others (for the page's and report's note)."""
    if mix is None or mix.empty:
        return []
    return [str(u) for u, d in zip(mix["unit"], mix["differs"]) if d]
