"""Altair charts of the supervisor's progress dashboard (same style as ui/charts.py)."""
from __future__ import annotations

import altair as alt
import pandas as pd

GREEN, DARK = "#66a36b", "#1b3d1e"


def unit_progress(frame: pd.DataFrame, unit: str, n: str, target: str | None, title: str) -> alt.LayerChart:
    """Completes per unit as bars; with targets, a bullet chart: the target as a pale bar behind."""
    base = alt.Chart(frame).encode(y=alt.Y(f"{unit}:N", sort=None, title=None))
    tooltip = [unit, n] + ([target] if target else [])
    layers = []
    if target:
        layers.append(base.mark_bar(color="#dfe9df").encode(x=alt.X(f"{target}:Q", title=title), tooltip=tooltip))
    layers.append(base.mark_bar(color=GREEN, size=16).encode(x=alt.X(f"{n}:Q", title=title), tooltip=tooltip))
    layers.append(base.mark_text(align="left", dx=3, fontSize=11, color=DARK).encode(x=f"{n}:Q", text=f"{n}:Q"))
    return alt.layer(*layers).properties(height=max(160, 34 * len(frame)))


def daily(frame: pd.DataFrame, day: str, n: str, colour: str) -> alt.Chart:
    """Completes per day, stacked by mode."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{day}:T", title=None, axis=alt.Axis(format="%m-%d")), y=alt.Y(f"{n}:Q", title=None),
        color=alt.Color(f"{colour}:N", title=None, scale=alt.Scale(scheme="greens")),
        tooltip=[alt.Tooltip(f"{day}:T", format="%Y-%m-%d"), colour, n]).properties(height=240)


def per_pollster(frame: pd.DataFrame, who: str, n: str) -> alt.Chart:
    """Completes per pollster, most first."""
    return alt.Chart(frame).mark_bar(color=GREEN).encode(
        x=alt.X(f"{who}:N", sort="-y", title=None), y=alt.Y(f"{n}:Q", title=None),
        tooltip=[who, n]).properties(height=240)
