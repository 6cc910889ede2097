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
from analysis.errors import InputError
from analysis.modes import mode_mix
from analysis.weighting import extreme_weights
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
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


RANK_KEYS = ("rank", "rank_low", "rank_high")
HASH_DIGITS = 12  # significant digits of floats in the result hash: last-bit differences between machines vanish


def _canonical(value: Any) -> Any:
    """Floats at 12 significant digits (as text), so the hash is the same on any machine and row order."""
    if isinstance(value, float):
        return format(value, f".{HASH_DIGITS}g")
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
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
        """The JSON list of DESIGN.md: unit, rate, rate_low, rate_high, n_valid, points, rank, warnings,
        rank_low, rank_high, and p_below when the config has a threshold; null where a unit has no score."""
        keys = ["unit", "rate", "rate_low", "rate_high", "n_valid", "points", "rank", "warnings", "rank_low",
                "rank_high"]
        if self.config.threshold is not None:
            keys.append("p_below")
        out = []
        for row in self.scores.to_dict("records"):
            item = {k: _json_safe(row.get(k)) for k in keys}
            for k in RANK_KEYS:
                item[k] = None if item[k] is None else int(item[k])
            out.append(item)
        return out

    @property
    def result_hash(self) -> str:
        return self.record["result_hash"]

    def extra_comparisons(self) -> list[tuple[str, pd.DataFrame]]:
        """Comparison tables computed with the run (captions and headers in Chinese for the report's 对比)."""
        captions = {"modes": "各访问方式综合满意率", "waves": "与上一轮次比较",
                    "mode_mix": "各区访问方式构成（受访者占比）", "mode_items": "各区分项满意率（按访问方式）",
                    "mode_differences": "访问方式之间的差异（同区内，联合线性化标准误）",
                    "pairwise": "各区两两比较（Holm 校正 p 值）"}
        out = []
        for k in ("waves", "modes", "mode_mix", "mode_items", "mode_differences", "pairwise"):
            if k in self.extra:
                frame = self.extra[k]
                caption = captions[k]
                if k == "mode_mix":
                    caption += "；" + mix_note(frame)
                if k in ("mode_items", "mode_differences"):
                    frame = frame.assign(item=frame["item"].map(lambda i: REPORT_ITEM_LABELS.get(i, i)))
                out.append((caption, frame.rename(columns=REPORT_HEADERS) if k != "waves" else frame))
        return out

    def method_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """Tables for the 方法 sheet: the design, and per unit how much clustering widens the SE."""
        effect = self.extra.get("cluster_effect")
        psu = self.record.get("design", {}).get("psu", "respondent")
        if effect is None:
            return [(f"抽样设计：按区分层，受访者为初级抽样单元（未指定聚类列）", pd.DataFrame())] \
                if psu == "respondent" else []
        return [(f"抽样设计：按区分层，{psu} 为区内初级抽样单元；聚类对综合满意率标准误的影响"
                 "（放大倍数 = 聚类设计标准误 ÷ 受访者为单元的标准误）", effect.rename(columns=REPORT_HEADERS))]


REPORT_HEADERS = {"unit_a": "区（甲）", "unit_b": "区（乙）", "diff": "差值（甲 − 乙）", "se": "标准误", "p": "p 值",
                  "p_holm": "Holm 校正 p 值", "unit": "区", "se_clustered": "标准误（聚类设计）",
                  "se_respondents": "标准误（受访者为单元）", "widening": "放大倍数", "mode": "访问方式",
                  "item": "项目", "n": "样本", "n_valid": "有效回答", "rate": "满意率", "rate_se": "满意率标准误",
                  "rate_low": "下限", "rate_high": "上限", "mode_a": "方式甲", "mode_b": "方式乙",
                  "rate_a": "满意率（甲）", "rate_b": "满意率（乙）", "difference": "差值（甲 − 乙）",
                  "low": "差值下限", "high": "差值上限", "p_value": "p 值", "df": "自由度",
                  "distance": "与其他区构成的差距", "differs": "构成明显不同",
                  "phone": "电话", "door": "入户", "paper": "纸质", "web": "网络"}
REPORT_ITEM_LABELS = {"air": "空气质量", "water": "河流湖库与饮用水水环境", "sea": "近岸海域与海滩环境",
                      "noise": "声环境（噪声）", "waste": "生活垃圾分类与处理", "greenery": "城市绿化与公园",
                      "rural": "农村人居环境", "enforcement": "环境违法查处与投诉处理",
                      "publicity": "生态环境宣传与信息公开", "overall": "总体满意程度", "composite": "综合满意率"}


def mix_note(mix: pd.DataFrame) -> str:
    """The report's sentence on the mode mix (which units differ strongly from the others)."""
    from analysis.modes import MIX_LIMIT, mix_note_units
    units = mix_note_units(mix)
    if not units:
        return f"各区访问方式构成相近（与其他区的差距均不超过 {MIX_LIMIT:.0%}）"
    return (f"注意：{'、'.join(units)} 的访问方式构成与其他区明显不同（差距超过 {MIX_LIMIT:.0%}），"
            "不同访问方式的满意率可能不同，比较这些区时请参看分方式结果")


def population_hash(population: pd.DataFrame) -> str:
    cols = ["unit", "variable", "category", "population"]
    rows = population[cols].sort_values(cols[:3]).to_csv(index=False)
    return hashlib.sha256(rows.encode("utf-8")).hexdigest()


def result_hash(config_hash: str, snapshot_hash: str, pop_hash: str, scores: list[dict[str, Any]]) -> str:
    blob = json.dumps({"config": config_hash, "data": snapshot_hash, "population": pop_hash,
                       "scores": _canonical(scores)},
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


def unit_basis(estimates: pd.DataFrame, config: ScoringConfig, n_valid: pd.Series,
               saturated: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
    """One row per assessed unit (not 全市): basis with its SE, df and CI, from the composite rows.

    An applicable item without a valid answer in a unit makes its composite undefined
    (METHODS §2a), whatever the estimate table holds; `missing_items` names them. A unit is
    `not_estimable` when its raking is saturated (`saturated`) or its composite SE is 0
    while the rate lies strictly between 0 and 1 (docs/methods.md).
    """
    comp = estimates[(estimates["item"] == "composite") & (estimates["unit"] != CITY)]
    index_basis = config.basis == "index"
    basis_col, se_col = ("index", "index_se") if index_basis else ("rate", "rate_se")
    low_col, high_col = ("index_low", "index_high") if index_basis else ("rate_low", "rate_high")
    na = config.not_applicable_for()
    items = estimates[estimates["item"].isin(list(config.items))]
    empty = items[items["n_valid"].fillna(0) == 0]
    missing = {u: [i for i in config.items if i in set(g["item"]) and i not in na.get(u, [])]
               for u, g in empty.groupby("unit")}
    missing_items = [missing.get(u, []) for u in comp["unit"]]
    undefined = np.array([bool(m) for m in missing_items])
    basis = np.where(undefined, np.nan, comp[basis_col].to_numpy(float))
    se = np.where(undefined, np.nan, comp[se_col].to_numpy(float))
    rate = comp["rate"].to_numpy(float)
    zero_se = (se <= 1e-12) & (rate > 0) & (rate < 1)
    not_estimable = (zero_se | np.isin(comp["unit"].to_numpy(), list(saturated))) & ~undefined
    return pd.DataFrame({
        "unit": comp["unit"].to_numpy(), "basis": basis, "se": se, "df": comp["df"].to_numpy(float),
        "low": np.where(undefined, np.nan, comp[low_col].to_numpy(float)),
        "high": np.where(undefined, np.nan, comp[high_col].to_numpy(float)),
        "rate": np.where(undefined, np.nan, rate),
        "rate_low": np.where(undefined, np.nan, comp["rate_low"].to_numpy(float)),
        "rate_high": np.where(undefined, np.nan, comp["rate_high"].to_numpy(float)),
        "n_valid": [int(n_valid.get(u, 0)) for u in comp["unit"]],
        "missing_items": missing_items, "not_estimable": not_estimable,
    })


def saturated_units(design: Any) -> set[str]:
    """Units whose raking is saturated: no more respondents than independent calibration constraints.

    Then the calibrated residuals are all zero and the SE is 0 by construction, not
    because the unit is measured exactly. The constraints are the unit's margin-cell
    indicators; their rank is computed only for units small enough to be in doubt.
    """
    out = set()
    for h, unit in enumerate(design.units):
        rows = np.flatnonzero(design.strata == h)
        cells = [np.unique(c[rows], return_inverse=True)[1] for c in design.margin_cells]
        if len(rows) > sum(int(c.max()) + 1 for c in cells):
            continue
        indicators = np.hstack([np.eye(int(c.max()) + 1)[c] for c in cells])
        if len(rows) <= np.linalg.matrix_rank(indicators):
            out.add(unit)
    return out


def _extreme_warning(count: int, largest: float, multiple: float) -> str:
    return f"有 {count} 个权重超过本区平均权重的 {multiple:g} 倍（最大 {largest:.1f} 倍）"


def _supports(function: Any, name: str) -> bool:
    """Whether the estimation API takes `name` (design clusters and not-applicable items)."""
    import inspect
    return name in inspect.signature(function).parameters


def sort_by_response_id(responses: pd.DataFrame) -> pd.DataFrame:
    """Rows in response-id order, so sums (and the result hash) never depend on the file's order."""
    if "response_id" not in responses.columns:
        return responses.reset_index(drop=True)
    order = np.argsort(responses["response_id"].astype(str).to_numpy(), kind="stable")
    return responses.iloc[order].reset_index(drop=True)


def compute_score_run(responses: pd.DataFrame, population: pd.DataFrame | None, config: ScoringConfig, *,
                      wave: str | None = None, exclusions: list[dict[str, Any]] | None = None,
                      source: str = "", cluster: str | None = None) -> ScoreRun:
    """Weight, estimate and score one snapshot; the record says how to get it again.

    `cluster` (or the config's `design.cluster`) makes that column the PSU within units.
    Without a population (None) every weight is 1, strata are the units, and the record
    (`weighting: unweighted`), the stderr line and the report say so.
    """
    from analysis.estimation import equal_weight_design, estimate_table, make_design
    from analysis.ranking import pairwise_differences

    items = list(config.items)
    data = sort_by_response_id(filter_modes(responses, config))
    variables = tuple(config.weighting.variables)
    cluster = cluster or config.design.cluster
    if cluster and not _supports(make_design, "cluster"):
        raise InputError(["design.cluster: this version of the estimation cannot use clusters yet"])
    if population is None:  # no census figures: weights 1, strata = units, stated in the record and report
        design = equal_weight_design(data, "unit", cluster)
    else:
        design = make_design(data, population, variables, **({"cluster": cluster} if cluster else {}))
    weights = pd.Series(design.weights, index=data.index)
    na = config.not_applicable_for()
    if na and not _supports(estimate_table, "not_applicable"):
        raise InputError(["not_applicable: this version of the estimation cannot renormalise item weights yet"])
    estimates = estimate_table(data, population, items=items, item_weights=config.item_weights,
                               ci=config.ci, variables=variables, design=design,
                               **({"not_applicable": na} if na else {}))
    units = unit_basis(estimates, config, composite_n_valid(data, items), saturated_units(design))
    scores = score_table(units, config)
    multiple = config.warnings.max_weight_ratio
    extreme = extreme_weights(weights, data["unit"], multiple)
    diagnostics = design.diagnostics.merge(extreme, on="unit", how="left")
    flagged = {r.unit: _extreme_warning(int(r.weights_above), r.max_weight_ratio, multiple)
               for r in extreme.itertuples() if r.weights_above > 0}
    scores["warnings"] = [w + [flagged[u]] if u in flagged else w for u, w in zip(scores["unit"], scores["warnings"])]
    snapshot = data_hash(data, items)
    record: dict[str, Any] = {
        "wave": wave, "source": source, "config_name": config.name, "config_hash": config.hash(),
        "config": json.loads(config.canonical_json()), "data_count": int(len(data)),
        "data_count_before_mode_filter": int(len(responses)), "data_hash": snapshot,
        "modes": config.modes, "exclusions": exclusions or [], "code_version": code_version(),
        "population_hash": population_hash(population) if population is not None else None,
        "population": population.to_dict("records") if population is not None else None,
        "weighting": "unweighted" if population is None else "raked",
        "weighting_statement": UNWEIGHTED_STATEMENT if population is None else
        f"weighting: raked within units on {', '.join(variables)}",
        "design": {"strata": "unit", "psu": cluster or "respondent"},
        "not_applicable": {u: {"items": v, "item_weights": _renormalised(config, v)} for u, v in na.items()},
        "threshold": config.threshold,
    }
    run = ScoreRun(config, scores, estimates, diagnostics, record, {"weights": weights.to_frame("weight"),
                                                                    "data": data})
    record["result_hash"] = result_hash(record["config_hash"], snapshot, record["population_hash"], run.to_json())
    ordered = scores.sort_values("unit", kind="stable")
    pairs = pairwise_differences(list(ordered["unit"]), ordered["basis"].where(ordered["points"].notna()),
                                 ordered["se"], basis=config.basis)
    run.extra["pairwise"] = pairs
    by_mode = mode_estimates(run, data, population, design)
    if by_mode is not None:
        run.extra["modes"] = by_mode[by_mode["item"] == "composite"][
            ["unit", "mode", "n", "rate", "rate_low", "rate_high"]].reset_index(drop=True)
        run.extra["mode_items"] = by_mode[["unit", "item", "mode", "n", "n_valid", "rate", "rate_se", "rate_low",
                                           "rate_high"]].reset_index(drop=True)
        run.extra["mode_differences"] = mode_differences(run, design)
        run.extra["mode_mix"] = mode_mix(data)
    if cluster:
        run.extra["cluster_effect"] = cluster_effect(estimates, data, population, config, na)
    if population is None:
        run.extra["weighting_note"] = UNWEIGHTED_NOTE
    return run


def _renormalised(config: ScoringConfig, not_applicable: list[str]) -> dict[str, float]:
    """The unit's item weights over its applicable items (summing to one), as stated in the record."""
    kept = {k: v for k, v in config.items.items() if k not in not_applicable}
    total = sum(kept.values())
    return {k: v / total for k, v in kept.items()}


def cluster_effect(estimates: pd.DataFrame, data: pd.DataFrame, population: pd.DataFrame, config: ScoringConfig,
                   not_applicable: dict[str, list[str]]) -> pd.DataFrame:
    """Per unit: composite SE with the clustered design against respondents as PSUs, and the ratio.

    The ratio is how much the interviewer (or building) clustering widens the CI.
    """
    from analysis.estimation import equal_weight_design, estimate_table
    plain = estimate_table(data, population, items=list(config.items), item_weights=config.item_weights,
                           ci=config.ci, variables=tuple(config.weighting.variables),
                           design=equal_weight_design(data, "unit") if population is None else None,
                           **({"not_applicable": not_applicable} if not_applicable else {}))
    se_col = "index_se" if config.basis == "index" else "rate_se"
    a = estimates[estimates["item"] == "composite"].set_index("unit")[se_col]
    b = plain[plain["item"] == "composite"].set_index("unit")[se_col]
    return pd.DataFrame({"unit": a.index, "se_clustered": a.to_numpy(), "se_respondents": b.reindex(a.index).to_numpy(),
                         "widening": (a / b.reindex(a.index)).to_numpy()})


UNWEIGHTED_STATEMENT = "weighting: unweighted (no population margins given): every weight is 1; strata = units"
UNWEIGHTED_NOTE = "未加权：未提供人口边际（--population），所有权数均为 1，结果未按人口结构调整"
UNWEIGHTED_METHOD = "1. 加权：未加权。未提供人口边际，所有权数均为 1（按区分层），结果未按性别、年龄等人口结构调整。"

METHOD_TEXT = """方法说明
1. 加权：在每个区内按性别、年龄（及配置的其他变量）的人口边际进行迭代比例拟合（raking），收敛标准为各边际误差不超过区人口的百万分之一。
2. 估计：满意率 = 回答“满意”“比较满意”的加权比例，分母为该题有效回答（1-5 分），“不了解/说不清”与缺失不计入。
3. 标准误：泰勒线性化，按区分层、受访者为初级抽样单元，并对 raking 权重做校准调整（与 R survey 包一致）。
4. 置信区间：95%，logit 变换（可选 Korn-Graubard）；自由度 = 有效样本数 − 区数。
5. 综合满意率：各分项满意率按配置权重加权平均，标准误用 delta 方法。
6. 计分：按计分配置（比例法、分档法或相对法）计算得分，四舍五入（half up）到配置的小数位；排名相同得分时按未舍入的综合满意率排序。
7. 提示：有效样本少于配置下限或误差幅度超过配置上限的区，其得分须附提示；权重超过本区平均权重配置倍数（默认 5 倍）的区亦附提示。
8. 标准线：配置 threshold（默认 80%）。“低于标准线的概率”= t 分布（自由度同置信区间）下真实综合满意率低于标准线的概率，在 logit 尺度计算；置信下限不低于标准线为“明显高于”，置信上限低于标准线为“明显低于”，否则“无显著差异”。
9. 排名区间：按各区综合满意率及其标准误在 logit 尺度独立抽取 20000 次（固定随机种子 20250101），每次排序，取排名的 2.5% 与 97.5% 分位数。两两比较：差值标准误为两区标准误的平方和开方，p 值经 Holm 校正。为何可按独立处理：每位受访者只属于一个区、只评价本区，各区样本在各自的层内独立抽取，加权（raking）也在区内进行，因此两区估计的线性化值不在同一层中相遇，协方差为 0（聚类设计中，同一访问员在不同区的访问按区内不同的初级抽样单元处理，结论相同）。部门评议中同一受访者评议多个单位，则按联合线性化计入协方差。
10. 无法计分：适用项目在某区没有有效回答时，该区综合满意率无定义，不计分、不排名并注明项目；不适用项目（配置 not_applicable）从该区综合中剔除，其余项目权重重新归一。加权饱和（样本数不多于加权约束数）或综合满意率标准误为 0 而满意率介于 0 与 1 之间的区为“无法估计”，不计分、不排名。
11. 抽样设计：按区分层；配置 design.cluster（或 --cluster）指定的列（如访问员）为区内初级抽样单元，该列为空的问卷自成一个单元。"""


def mode_estimates(run: ScoreRun, responses: pd.DataFrame, population: pd.DataFrame | None,
                   design: Any) -> pd.DataFrame | None:
    """Every item and the composite by mode, per unit and 全市, on the run's design (None: one mode)."""
    from analysis.estimation import estimate_table
    if responses["mode"].nunique() < 2:
        return None
    na = run.config.not_applicable_for()
    return estimate_table(responses, population, list(run.config.items), run.config.item_weights, by="mode",
                          variables=tuple(run.config.weighting.variables), design=design,
                          **({"not_applicable": na} if na else {}))


def mode_differences(run: ScoreRun, design: Any) -> pd.DataFrame:
    """Per unit, 全市, item and composite: every pair of modes, the difference with its SE, CI and p."""
    from analysis.estimation import group_differences
    return group_differences(design, list(run.config.items), "mode", run.config.item_weights,
                             run.config.not_applicable_for())


def mode_comparison(run: ScoreRun, responses: pd.DataFrame, population: pd.DataFrame,
                    design: Any = None) -> pd.DataFrame:
    """Composite rate by mode, per unit and 全市 (kept for callers of the earlier API)."""
    table = mode_estimates(run, responses, population, design)
    if table is None:
        return pd.DataFrame()
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


def method_text(run: ScoreRun) -> str:
    """The 方法 text of the report; its weighting line says `未加权` when there were no margins."""
    text = METHOD_TEXT
    psu = run.record.get("design", {}).get("psu", "respondent")
    if psu != "respondent":  # the design's PSUs and df, as computed
        text = text.replace("按区分层、受访者为初级抽样单元", f"按区分层、{psu} 为区内初级抽样单元（该列为空的问卷自成一个单元）")
        text = text.replace("自由度 = 有效样本数 − 区数", "自由度 = 有效回答所在的初级抽样单元数 − 区数")
    if run.record.get("weighting") != "unweighted":
        return text
    return "\n".join(UNWEIGHTED_METHOD if line.startswith("1. 加权") else line.replace("，并对 raking 权重做校准调整", "")
                     for line in text.splitlines())


def write_run_report(run: ScoreRun, out: str | Path | IO[bytes],
                     comparisons: list[tuple[str, pd.DataFrame]] | None = None) -> None:
    from analysis.report import write_report
    meta = {"wave": run.record.get("wave") or run.record.get("source", ""), "config_name": run.config.name,
            "full_points": run.config.full_points, "threshold": run.config.threshold, "basis": run.config.basis,
            "weighting_note": UNWEIGHTED_NOTE if run.record.get("weighting") == "unweighted" else ""}
    record = {k: v for k, v in run.record.items() if k not in ("config", "population")}
    write_report(out, scores=run.scores, estimates=run.estimates, diagnostics=run.diagnostics,
                        comparisons=comparisons or list(run.extra_comparisons()), method_text=method_text(run),
                        config=run.record["config"], record=record, meta=meta, method_tables=run.method_tables())
