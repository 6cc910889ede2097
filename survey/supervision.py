"""Supervisor's view of fieldwork: whose data a supervisor sees, and progress by unit / day / pollster.

A supervisor (督导) works for one survey firm and sees that firm's data only; the admin
sees every firm. The firm filter is decided here, once, and used by paper keying and
back-checks too, so no page can widen it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from survey.auth import Account, PermissionDenied, require, scope
from survey.config import MODES
from survey.store import Store, StoreError
from survey.waves import get_wave


def firm_scope(actor: Account, firm: str | None = None) -> str | None:
    """The firm whose data `actor` supervises: own firm (supervisor), any or all (admin, firm=None)."""
    require(actor, "fieldwork.supervise")
    return scope(actor, "fieldwork.supervise", firm).firm


@dataclass(frozen=True)
class Progress:
    """Included responses of one wave and firm, counted three ways."""
    total: int
    by_unit: pd.DataFrame      # unit, n, target, share (target/share empty without quota targets)
    by_day: pd.DataFrame       # day, mode, n
    by_pollster: pd.DataFrame  # interviewer, n, one column per mode, days, last_day


def unit_targets(settings: Mapping[str, Any] | None) -> dict[str, int]:
    """Target completes per unit from the wave settings' quotas, {} when there are none.

    The format is survey.quotas.QuotaSettings: a list of cells {unit, sex?, age_group?,
    line_type?, prefix?, target}. A unit's target is its unit-wide cell when there is one, else
    the sum of its cells of one breakdown (e.g. sex × age_group), the largest such sum when
    cells of several breakdowns (sex × age, line type) split the same unit. Older shapes ({unit: n}; {unit: {"target": n}}) are still read;
    anything else is ignored.
    """
    quotas = (settings or {}).get("quotas")
    out: dict[str, int] = {}
    if isinstance(quotas, Mapping):
        quotas = quotas.get("targets", quotas)
    if isinstance(quotas, Mapping):
        for unit, value in quotas.items():
            if isinstance(value, Mapping):
                value = value.get("target", value.get("n"))
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                out[str(unit)] = int(value)
    elif isinstance(quotas, list):
        whole: dict[str, int] = {}
        split: dict[tuple[str, tuple[str, ...]], int] = {}
        for cell in quotas:
            if isinstance(cell, Mapping) and "unit" in cell:
                value = cell.get("target", cell.get("n"))
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                    unit = str(cell["unit"])
                    dims = tuple(k for k in ("sex", "age_group", "line_type", "prefix") if cell.get(k) is not None)
                    if not dims:
                        whole[unit] = whole.get(unit, 0) + int(value)
                    else:
                        split[(unit, dims)] = split.get((unit, dims), 0) + int(value)
        for (unit, _), total in split.items():
            out[unit] = max(out.get(unit, 0), total)
        out.update(whole)  # a unit-wide cell is the unit's target; sub-cells only refine it
    return out


def progress(store: Store, actor: Account, wave: str, firm: str | None = None) -> Progress:
    """Completes (exclusions left out) by unit, day and pollster, for the actor's firm."""
    scope = firm_scope(actor, firm)
    w = get_wave(store, wave)
    counts = pd.DataFrame(store.progress_counts(wave, scope), columns=["unit", "day", "interviewer", "mode", "n"])
    total = int(counts["n"].sum())
    units = list(w["units"])
    by_unit = counts.groupby("unit")["n"].sum().reindex(units, fill_value=0).rename_axis("unit").reset_index()
    targets = unit_targets(w["settings"])
    by_unit["target"] = by_unit["unit"].map(targets).astype("Int64")
    by_unit["share"] = (by_unit["n"] / by_unit["target"].astype("Float64")).astype("Float64")
    by_day = counts.groupby(["day", "mode"], as_index=False)["n"].sum()
    staff = counts.dropna(subset=["interviewer"])
    by_pollster = staff.pivot_table(index="interviewer", columns="mode", values="n", aggfunc="sum", fill_value=0)
    by_pollster = by_pollster[[m for m in MODES if m in by_pollster.columns]]
    by_pollster.insert(0, "n", by_pollster.sum(axis=1))
    days = staff.groupby("interviewer")["day"].agg(["nunique", "max"]).rename(columns={"nunique": "days",
                                                                                       "max": "last_day"})
    by_pollster = by_pollster.join(days).sort_values("n", ascending=False).reset_index()
    return Progress(total, by_unit, by_day, by_pollster)
