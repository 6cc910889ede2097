"""The Excel report of an appraisal run: one sheet per type of rated unit, the pairwise
comparisons, the weighting and the method, with native charts (rates with their CIs).
"""
from __future__ import annotations

from pathlib import Path
from typing import IO

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import Reference
from openpyxl.styles import Font

from analysis.appraisal_scoring import AppraisalRun
from analysis.report import PERCENT, _bar_with_ci, frame_sheet, method_sheet, write_table

TYPE_LABELS = {"department": "市直部门", "provincial": "省属驻厦单位", "soe": "市属国有企业"}
WEIGHTING_LABELS = {"city": "按全市人口边际加权（性别、年龄）", "districts": "按受访者所在区的人口边际加权",
                    "unweighted": "未加权（未提供人口边际，权数均为 1）"}
METHOD_TEXT = """方法说明（部门评议）
1. 每位受访者评议多个单位：先问是否了解/接触过该单位，了解的再问满意程度（5 分至 1 分，9 = 说不清）。
2. 加权：{weighting}。
3. 了解率 = 回答“了解/接触过”的加权比例；满意率 = 了解该单位且作出 1-5 分评价的受访者中回答“满意”“比较满意”的加权比例。
4. 标准误：泰勒线性化（对 raking 权重做校准调整），与 R survey 包 svymean(subset(design, 有效评价)) 一致；置信区间 95%，logit 变换，自由度 = 有效评价数 − 层数。
5. 两个单位的比较：同一批受访者评议两个单位，二者的估计相关；差值按联合线性化计算标准误，Holm 校正多重比较。
6. 计分与排名：按计分配置在同类单位（市直部门、省属驻厦单位、市属国有企业）内计分、排名；排名区间为模拟排名的 2.5%-97.5% 分位数。同一批受访者评议多个单位，各单位估计相关，故模拟时按联合线性化得到的协方差矩阵联合抽取（logit 尺度，delta 方法），而非按独立处理。
7. 提示：有效评价少于配置下限的单位，了解的受访者较少，其得分和排名仅供参考。"""


def _type_sheet(ws, title: str, part: pd.DataFrame, has_threshold: bool) -> None:
    ws.title = title
    ws["A1"] = f"{title}：满意率、了解率与排名"
    ws["A1"].font = Font(bold=True, size=14)
    table = pd.DataFrame({
        "排名": part["rank"].astype("object"), "单位": part["name"], "得分": part["points"], "满意率": part["rate"],
        "95%置信下限": part["rate_low"], "95%置信上限": part["rate_high"], "了解率": part["aware_rate"],
        "有效评价": part["n_valid"], "排名区间下": part["rank_low"].astype("object"),
        "排名区间上": part["rank_high"].astype("object"),
        **({"低于门槛概率": part["p_below"]} if has_threshold else {}),
        "提示": part["warnings"],
        "误差下": part["rate"] - part["rate_low"], "误差上": part["rate_high"] - part["rate"]})
    table = table.astype({c: "object" for c in ("排名", "排名区间下", "排名区间上")}).where(table.notna(), None)
    pct = {c: PERCENT for c in ("满意率", "95%置信下限", "95%置信上限", "了解率", "误差下", "误差上", "低于门槛概率")}
    first, last = write_table(ws, table, row=3, formats={**pct, "得分": "0.00"})
    cols = list(table.columns)
    _bar_with_ci(ws, f"{title}满意率（95%置信区间）", Reference(ws, min_col=2, min_row=first, max_row=last),
                 Reference(ws, min_col=4, min_row=first - 1, max_row=last),
                 Reference(ws, min_col=cols.index("误差下") + 1, min_row=first, max_row=last),
                 Reference(ws, min_col=cols.index("误差上") + 1, min_row=first, max_row=last), f"A{last + 3}", "满意率")


def write_appraisal_report(run: AppraisalRun, out: str | Path | IO[bytes]) -> None:
    wb = Workbook()
    first = True
    for t, label in TYPE_LABELS.items():
        part = run.scores[run.scores["type"] == t]
        if part.empty:
            continue
        ws = wb.active if first else wb.create_sheet()
        first = False
        _type_sheet(ws, label, part, run.config.threshold is not None)
    names = {u["id"]: u["name"] for u in run.record["units"]}
    pw = run.pairwise.assign(type=run.pairwise["type"].map(TYPE_LABELS), unit_a=run.pairwise["unit_a"].map(names),
                             unit_b=run.pairwise["unit_b"].map(names)).rename(columns={
        "type": "类别", "unit_a": "单位甲", "unit_b": "单位乙", "diff": "满意率差", "se": "标准误", "low": "下限",
        "high": "上限", "p": "p 值", "p_holm": "Holm 校正 p 值"})
    frame_sheet(wb.create_sheet(), "两两比较", [("同类单位两两比较（联合线性化）", pw)])
    frame_sheet(wb.create_sheet(), "权重", [(WEIGHTING_LABELS[run.record["weighting"]], run.diagnostics)])
    record = {k: v for k, v in run.record.items() if k not in ("config",)}
    method_sheet(wb.create_sheet(), METHOD_TEXT.format(weighting=WEIGHTING_LABELS[run.record["weighting"]]),
                 run.record["config"], record)
    if isinstance(out, (str, Path)):
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        wb.save(tmp)
        tmp.replace(target)
    else:
        wb.save(out)
