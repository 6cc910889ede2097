"""Altair charts of the analysis page (rates with CIs, heat map, trends)."""
from __future__ import annotations

import altair as alt
import pandas as pd


ROW_PX = 34
# every row keeps its label: Vega-Lite drops labels it thinks overlap (4 of 7 districts showed)
ROW_AXIS = alt.Axis(labelOverlap=False, labelLimit=240)


def rates_with_ci(frame: pd.DataFrame, unit: str, rate: str, low: str, high: str, title: str,
                  threshold: float | None = None, threshold_label: str = "",
                  order: list[str] | None = None) -> alt.LayerChart:
    """Bars with CI whiskers, one row per unit in `order` (the tables' official order); with
    `threshold`, a dashed vertical line (the 80 % line) and its label."""
    frame = frame[[unit, rate, low, high]].dropna(subset=[rate])
    order = order or list(dict.fromkeys(frame[unit]))
    base = alt.Chart(frame).encode(y=alt.Y(f"{unit}:N", sort=order, title=None, axis=ROW_AXIS))
    bars = base.mark_bar(color="#66a36b").encode(
        x=alt.X(f"{rate}:Q", axis=alt.Axis(format="%"), title=title, scale=alt.Scale(domain=[0, 1])),
        tooltip=[unit, alt.Tooltip(rate, format=".1%"), alt.Tooltip(low, format=".1%"),
                 alt.Tooltip(high, format=".1%")])
    whiskers = base.mark_rule(color="#1b3d1e", strokeWidth=2).encode(x=f"{low}:Q", x2=f"{high}:Q")
    layers = bars + whiskers
    if threshold is not None:
        line = pd.DataFrame({"x": [threshold], "label": [threshold_label]})
        rule = alt.Chart(line).mark_rule(color="#c0392b", strokeDash=[6, 4], strokeWidth=2).encode(x="x:Q")
        text = alt.Chart(line).mark_text(color="#c0392b", align="left", dx=4, dy=-6, baseline="bottom").encode(
            x="x:Q", y=alt.value(0), text="label:N")
        layers = layers + rule + text
    return layers.properties(height=max(160, ROW_PX * len(frame)))


def heatmap(frame: pd.DataFrame, row: str, col: str, value: str) -> alt.LayerChart:
    """Rows and columns in the frame's order (units in the official order), every row labelled."""
    rows, cols = list(dict.fromkeys(frame[row])), list(dict.fromkeys(frame[col]))
    base = alt.Chart(frame).encode(x=alt.X(f"{col}:N", title=None, sort=cols, axis=alt.Axis(labelAngle=-40)),
                                   y=alt.Y(f"{row}:N", title=None, sort=rows, axis=ROW_AXIS))
    cells = base.mark_rect().encode(color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme="redyellowgreen",
                                                                                  domain=[0.3, 1]),
                                                    legend=alt.Legend(format="%")),
                                    tooltip=[row, col, alt.Tooltip(value, format=".1%")])
    text = base.mark_text(fontSize=11).encode(text=alt.Text(f"{value}:Q", format=".0%"))
    return (cells + text).properties(height=alt.Step(ROW_PX))


def trend(frame: pd.DataFrame, x: str, y: str, colour: str) -> alt.Chart:
    return alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X(f"{x}:N", title=None), y=alt.Y(f"{y}:Q", axis=alt.Axis(format="%"), title=None,
                                               scale=alt.Scale(zero=False)),
        color=alt.Color(f"{colour}:N", title=None), tooltip=[x, colour, alt.Tooltip(y, format=".1%")])
