"""Scoring methods on hand-worked cases (METHODS §3)."""
from __future__ import annotations

import pandas as pd
import pytest

from analysis.scoring import (ConfigError, load_config, parse_config, round_points, score_table)
from survey.config import SCORING_DIR

BASE = {"name": "t", "items": ["air", "overall"], "full_points": 10}


def units(*rows):
    return pd.DataFrame(rows, columns=["unit", "basis", "low", "high", "n_valid"])


def test_half_up_rounding():
    cfg = parse_config(BASE)
    assert round_points(8.845, cfg.rounding) == 8.85
    assert round_points(10 * 0.8845, cfg.rounding) == 8.85  # 8.844999999999999 in binary
    assert round_points(8.844, cfg.rounding) == 8.84
    assert round_points(0.125, parse_config({**BASE, "rounding": {"decimals": 2, "mode": "half_even"}}).rounding) == 0.12


def test_proportional_points_and_ties_broken_by_unrounded_basis():
    cfg = parse_config(BASE)
    table = score_table(units(("甲", 0.88451, 0.85, 0.91, 300), ("乙", 0.88449, 0.85, 0.91, 300),
                              ("丙", 0.9, 0.88, 0.92, 300)), cfg)
    assert table["unit"].tolist() == ["丙", "甲", "乙"]
    assert table["points"].tolist() == [9.0, 8.85, 8.84]
    same = score_table(units(("甲", 0.884501, 0.85, 0.91, 300), ("乙", 0.884502, 0.85, 0.91, 300)), cfg)
    assert same["points"].tolist() == [8.85, 8.85] and same["unit"].tolist() == ["乙", "甲"]
    assert same["rank"].tolist() == [1, 2]


def test_banded_thresholds_at_the_boundary():
    cfg = load_config(SCORING_DIR / "banded.yaml")
    table = score_table(units(("a", 0.95, 0.93, 0.97, 300), ("b", 0.9499999, 0.93, 0.97, 300),
                              ("c", 0.90, 0.88, 0.92, 300), ("d", 0.6999, 0.67, 0.73, 300)), cfg)
    got = dict(zip(table["unit"], table["points"]))
    assert got == {"a": 10.0, "b": 9.0, "c": 9.0, "d": 0.0}


def test_relative_scoring_and_all_units_equal():
    cfg = load_config(SCORING_DIR / "relative.yaml")
    table = score_table(units(("lo", 0.70, 0.66, 0.74, 300), ("mid", 0.80, 0.76, 0.84, 300),
                              ("hi", 0.90, 0.87, 0.93, 300)), cfg)
    got = dict(zip(table["unit"], table["points"]))
    assert got == {"hi": 10.0, "mid": 8.0, "lo": 6.0}  # 10 * (0.6 + 0.4 * 0.5) = 8
    equal = score_table(units(("a", 0.8, 0.77, 0.83, 300), ("b", 0.8, 0.77, 0.83, 300)), cfg)
    assert equal["points"].tolist() == [10.0, 10.0] and equal["rank"].tolist() == [1, 1]


def test_index_basis_is_on_0_to_100():
    cfg = parse_config({**BASE, "basis": "index"})
    table = score_table(units(("a", 72.5, 70.0, 75.0, 300)), cfg)
    assert table["points"].tolist() == [7.25]
    assert table["warnings"][0] == []


def test_warnings_for_small_samples_and_wide_margins():
    cfg = parse_config(BASE)
    table = score_table(units(("a", 0.8, 0.78, 0.82, 99), ("b", 0.8, 0.74, 0.86, 400)), cfg)
    warnings = dict(zip(table["unit"], table["warnings"]))
    assert warnings["a"] == ["有效样本 99 少于 100"]
    assert warnings["b"] == ["误差幅度 ±6.0 个百分点，超过 5"]


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError) as err:
        parse_config({"name": "x", "items": ["air", "smell"], "method": "banded", "full_points": -1,
                      "modes": ["phone", "fax"]}, "bad.yaml")
    text = "\n".join(err.value.problems)
    assert "bad.yaml: items: unknown item(s) smell" in text
    assert "bad.yaml: full_points:" in text
    assert "bad.yaml: modes: unknown mode(s) fax" in text
    with pytest.raises(ConfigError, match="bands: method `banded` needs"):
        parse_config({**BASE, "method": "banded"}, "b.yaml")


def test_shipped_configs_load_and_differ():
    district = [p for p in SCORING_DIR.glob("*.yaml") if "kind: appraisal" not in p.read_text(encoding="utf-8")]
    hashes = {load_config(p).hash() for p in district}
    assert len(hashes) == 3
    default = load_config(SCORING_DIR / "default.yaml")
    assert default.method == "proportional" and default.full_points == 10 and len(default.items) == 10
