"""A score run: weighting + estimation + scoring of one data snapshot, with its record.

The record (config and its hash, the data snapshot's count and content hash, the
exclusions applied, the code version) lets anyone recompute the run bit for bit; the
result hash covers the inputs and the scores, not the clock or the code version, so a
recomputation on the same data and config gives the same hash.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

import analysis
from analysis.scoring import CITY, ScoringConfig, score_table

SNAPSHOT_COLUMNS = ("response_id", "unit", "mode", "sex", "age_group", "education")


def code_version() -> str:
    """Package version plus the git commit when run from a checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parent, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{analysis.__version__}+{commit}" if commit else analysis.__version__


def data_hash(responses: pd.DataFrame, items: list[str]) -> str:
    """Content hash of the analysed snapshot: row order and extra columns do not matter.

    Columns are hashed as joined text in response-id order (plain, pandas-version-proof).
    """
    items = sorted(items)  # a config's item order (lost in its canonical JSON) must not matter
    cols = [c for c in (*SNAPSHOT_COLUMNS, *items) if c in responses.columns]
    frame = responses[cols]
    if "response_id" in frame:
        frame = frame.iloc[np.argsort(frame["response_id"].astype(str).to_numpy(), kind="stable")]
    digest = hashlib.sha256()
    for col in cols:
        values = frame[col]
        if col in items:
            values = pd.to_numeric(values, errors="coerce").astype("Int64")
        digest.update(col.encode("utf-8") + b"\x1e")
        digest.update("\x1f".join(values.astype(str).tolist()).encode("utf-8") + b"\x1d")
    return digest.hexdigest()


def _json_safe(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


@dataclass
class ScoreRun:
    config: ScoringConfig
    scores: pd.DataFrame
    estimates: pd.DataFrame
    diagnostics: pd.DataFrame
    record: dict[str, Any]
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)

    def to_json(self) -> list[dict[str, Any]]:
        """The JSON list of DESIGN.md: unit, rate, rate_low, rate_high, n_valid, points, rank, warnings."""
        keys = ("unit", "rate", "rate_low", "rate_high", "n_valid", "points", "rank", "warnings")
        return [{k: _json_safe(row[k]) for k in keys} for row in self.scores.to_dict("records")]

    @property
    def result_hash(self) -> str:
        return self.record["result_hash"]

    def extra_comparisons(self) -> list[tuple[str, pd.DataFrame]]:
        """Comparison tables computed with the run (captions in Chinese for the report)."""
        captions = {"modes": "各访问方式综合满意率", "waves": "与上一轮次比较"}
        return [(captions[k], self.extra[k]) for k in ("waves", "modes") if k in self.extra]


def population_hash(population: pd.DataFrame) -> str:
    cols = ["unit", "variable", "category", "population"]
    rows = population[cols].sort_values(cols[:3]).to_csv(index=False)
    return hashlib.sha256(rows.encode("utf-8")).hexdigest()


def result_hash(config_hash: str, snapshot_hash: str, pop_hash: str, scores: list[dict[str, Any]]) -> str:
    blob = json.dumps({"config": config_hash, "data": snapshot_hash, "population": pop_hash, "scores": scores},
                      sort_keys=True, ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def filter_modes(responses: pd.DataFrame, config: ScoringConfig) -> pd.DataFrame:
    modes = config.mode_list()
    return responses if modes is None else responses[responses["mode"].isin(modes)]


def composite_n_valid(responses: pd.DataFrame, items: list[str]) -> pd.Series:
    """Respondents per unit with at least one valid (1-5) answer among the scored items."""
    codes = responses[items].apply(pd.to_numeric, errors="coerce")
    any_valid = codes.isin([1, 2, 3, 4, 5]).any(axis=1)
    return any_valid.groupby(responses["unit"]).sum().astype(int)


def unit_basis(estimates: pd.DataFrame, config: ScoringConfig, n_valid: pd.Series) -> pd.DataFrame:
    """One row per assessed unit (not 全市): basis with its CI, from the composite rows."""
    comp = estimates[(estimates["item"] == "composite") & (estimates["unit"] != CITY)]
    basis_col = "rate" if config.basis == "rate" else "index"
    low_col, high_col = ("rate_low", "rate_high") if config.basis == "rate" else ("index_low", "index_high")
    return pd.DataFrame({
        "unit": comp["unit"].to_numpy(), "basis": comp[basis_col].to_numpy(),
        "low": comp[low_col].to_numpy(), "high": comp[high_col].to_numpy(),
        "rate": comp["rate"].to_numpy(), "rate_low": comp["rate_low"].to_numpy(),
        "rate_high": comp["rate_high"].to_numpy(),
        "n_valid": [int(n_valid.get(u, 0)) for u in comp["unit"]],
    })


def compute_score_run(responses: pd.DataFrame, population: pd.DataFrame | None, config: ScoringConfig, *,
                      wave: str | None = None, exclusions: list[dict[str, Any]] | None = None,
                      source: str = "") -> ScoreRun:
    """Weight, estimate and score one snapshot; the record says how to get it again.

    Without population margins (`population=None`) every weight is 1 and the record says
    `weighting: unweighted`: never silently.
    """
    from analysis.appraisal import equal_weight_design
    from analysis.estimation import estimate_table, make_design

    items = list(config.items)
    data = filter_modes(responses, config).reset_index(drop=True)
    variables = tuple(config.weighting.variables)
    design = make_design(data, population, variables) if population is not None \
        else equal_weight_design(data, strata="unit")
    weights = pd.Series(design.weights, index=data.index)
    estimates = estimate_table(data, population, items=items, item_weights=config.item_weights,
                               ci=config.ci, variables=variables, design=design)
    units = unit_basis(estimates, config, composite_n_valid(data, items))
    scores = score_table(units, config)
    snapshot = data_hash(data, items)
    record: dict[str, Any] = {
        "wave": wave, "source": source, "config_name": config.name, "config_hash": config.hash(),
        "config": json.loads(config.canonical_json()), "data_count": int(len(data)),
        "data_count_before_mode_filter": int(len(responses)), "data_hash": snapshot,
        "modes": config.modes, "exclusions": exclusions or [], "code_version": code_version(),
        "population_hash": population_hash(population) if population is not None else None,
        "population": population.to_dict("records") if population is not None else [],
        "weighting": "raked within units" if population is not None else "unweighted",
    }
    run = ScoreRun(config, scores, estimates, design.diagnostics, record, {"weights": weights.to_frame("weight"),
                                                                            "data": data})
    record["result_hash"] = result_hash(record["config_hash"], snapshot, record["population_hash"], run.to_json())
    run.extra["modes"] = mode_comparison(run, data, population,
                                         design if config.mode_list() is None or population is None else None)
    return run


METHOD_TEXT = """方法说明
1. 加权：在每个区内按性别、年龄（及配置的其他变量）的人口边际进行迭代比例拟合（raking），收敛标准为各边际误差不超过区人口的百万分之一。
2. 估计：满意率 = 回答“满意”“比较满意”的加权比例，分母为该题有效回答（1-5 分），“不了解/说不清”与缺失不计入。
3. 标准误：泰勒线性化，按区分层、受访者为初级抽样单元，并对 raking 权重做校准调整（与 R survey 包一致）。
4. 置信区间：95%，logit 变换（可选 Korn-Graubard）；自由度 = 有效样本数 − 区数。
5. 综合满意率：各分项满意率按配置权重加权平均，标准误用 delta 方法。
6. 计分：按计分配置（比例法、分档法或相对法）计算得分，四舍五入（half up）到配置的小数位；排名相同得分时按未舍入的综合满意率排序。
7. 提示：有效样本少于配置下限或误差幅度超过配置上限的区，其得分须附提示。"""


def mode_comparison(run: ScoreRun, responses: pd.DataFrame, population: pd.DataFrame,
                    design: Any = None) -> pd.DataFrame:
    """Composite rate by mode, per unit and 全市 (reusing the run's design when it holds every mode)."""
    from analysis.estimation import estimate_table
    if responses["mode"].nunique() < 2:
        return pd.DataFrame()
    table = estimate_table(responses, population, list(run.config.items), run.config.item_weights, by="mode",
                           variables=tuple(run.config.weighting.variables), design=design)
    comp = table[table["item"] == "composite"]
    return comp[["unit", "mode", "n", "rate", "rate_low", "rate_high"]].reset_index(drop=True)


def wave_comparison(current: ScoreRun, previous: ScoreRun) -> pd.DataFrame:
    """Composite rate per unit against an earlier wave (independent samples: z test)."""
    from analysis.estimation import contrast_waves
    now = current.estimates[current.estimates["item"] == "composite"].set_index("unit")
    before = previous.estimates[previous.estimates["item"] == "composite"].set_index("unit")
    rows = []
    for unit in now.index:
        if unit not in before.index:
            continue
        c = contrast_waves(now.at[unit, "rate"], now.at[unit, "rate_se"], before.at[unit, "rate"],
                           before.at[unit, "rate_se"])
        rows.append({"unit": unit, "wave": current.record.get("wave"), "rate": c.estimate_a,
                     "previous_wave": previous.record.get("wave"), "previous_rate": c.estimate_b,
                     "difference": c.difference, "low": c.low, "high": c.high, "p_value": c.p_value})
    return pd.DataFrame(rows)


def write_run_report(run: ScoreRun, out: str | Path | IO[bytes],
                     comparisons: list[tuple[str, pd.DataFrame]] | None = None) -> None:
    from analysis.report import write_report
    meta = {"wave": run.record.get("wave") or run.record.get("source", ""), "config_name": run.config.name,
            "full_points": run.config.full_points}
    record = {k: v for k, v in run.record.items() if k not in ("config", "population")}
    write_report(out, scores=run.scores, estimates=run.estimates, diagnostics=run.diagnostics,
                        comparisons=comparisons or list(run.extra_comparisons()), method_text=METHOD_TEXT,
                        config=run.record["config"], record=record, meta=meta)
