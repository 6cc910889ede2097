"""Satisfaction over waves: the annual series and five-year-plan periods."""
from __future__ import annotations

import re

import pandas as pd

PLAN_PERIODS = ((2016, 2020, "十三五 (2016-2020)"), (2021, 2025, "十四五 (2021-2025)"),
                (2026, 2030, "十五五 (2026-2030)"))


def wave_year(wave: str) -> int | None:
    """The year a wave is named after (e.g. `2025`, `2025-annual`), if any."""
    found = re.search(r"(19|20)\d{2}", str(wave))
    return int(found.group(0)) if found else None


def annual(composites: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per wave × unit from each wave's composite estimates (wave -> estimates table)."""
    rows = []
    for wave, est in composites.items():
        comp = est[est["item"] == "composite"]
        for r in comp.itertuples():
            rows.append({"wave": wave, "year": wave_year(wave), "unit": r.unit, "rate": r.rate,
                         "rate_low": r.rate_low, "rate_high": r.rate_high, "n": r.n})
    return pd.DataFrame(rows, columns=["wave", "year", "unit", "rate", "rate_low", "rate_high", "n"])


def five_year(series: pd.DataFrame) -> pd.DataFrame:
    """Mean composite rate per unit within each five-year plan period (waves named by year)."""
    def period(year: int | None) -> str | None:
        for start, end, name in PLAN_PERIODS:
            if year is not None and start <= year <= end:
                return name
        return None
    data = series.assign(period=series["year"].map(period)).dropna(subset=["period"])
    if data.empty:
        return pd.DataFrame(columns=["period", "unit", "rate", "waves"])
    return (data.groupby(["period", "unit"], as_index=False)
            .agg(rate=("rate", "mean"), waves=("wave", "nunique")))
