"""The analysis charts' specs: every row labelled, rows in the tables' (official) order."""
from __future__ import annotations

import pandas as pd

from ui import charts

UNITS = ["思明区", "湖里区", "集美区", "海沧区", "同安区", "翔安区", "鼓浪屿"]


def test_heatmap_labels_every_row_in_the_official_order():
    frame = pd.DataFrame([{"unit": u, "label": item, "rate": 0.8} for u in UNITS for item in ("空气", "水", "噪声")])
    spec = charts.heatmap(frame, "unit", "label", "rate").to_dict()
    y = spec["layer"][0]["encoding"]["y"] if "encoding" in spec["layer"][0] else spec["encoding"]["y"]
    assert y["sort"] == UNITS and y["axis"]["labelOverlap"] is False
    assert spec["height"] == {"step": charts.ROW_PX}


def test_rates_chart_follows_the_table_order_not_the_rates():
    frame = pd.DataFrame({"unit": UNITS, "rate": [0.5, 0.9, 0.7, 0.6, 0.8, 0.4, 0.95],
                          "rate_low": 0.3, "rate_high": 0.99})
    spec = charts.rates_with_ci(frame, "unit", "rate", "rate_low", "rate_high", "满意率").to_dict()
    y = spec["encoding"]["y"] if "encoding" in spec else spec["layer"][0]["encoding"]["y"]
    assert y["sort"] == UNITS and y["axis"]["labelOverlap"] is False
