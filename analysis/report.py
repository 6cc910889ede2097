"""The Excel report of a score run: sheets 摘要, 分项, 权重, 对比, 方法 with native charts.

Native Excel charts (not pictures) so the bureau can restyle them; numbers are written
unrounded with a number format, so the sheet and the JSON agree to the last digit.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.legend import Legend
from openpyxl.chart.error_bar import ErrorBars
from openpyxl.chart.data_source import NumDataSource, NumRef
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

HEADER_FILL = PatternFill("solid", fgColor="DDEBDD")
ITEM_LABELS = {"air": "空气质量", "water": "河流湖库与饮用水水环境", "sea": "近岸海域与海滩环境",
               "noise": "声环境（噪声）", "waste": "生活垃圾分类与处理", "greenery": "城市绿化与公园",
               "rural": "农村人居环境", "enforcement": "环境违法查处与投诉处理",
               "publicity": "生态环境宣传与信息公开", "overall": "总体满意程度", "composite": "综合满意率"}
PERCENT = "0.0%"


def write_table(ws: Worksheet, frame: pd.DataFrame, row: int = 1, col: int = 1,
                formats: dict[str, str] | None = None) -> tuple[int, int]:
    """Write a DataFrame with a header row; returns (first data row, last data row)."""
    formats = formats or {}
    for j, name in enumerate(frame.columns):
        cell = ws.cell(row=row, column=col + j, value=str(name))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        width = max(10, min(40, len(str(name)) * 2 + 2))
        ws.column_dimensions[get_column_letter(col + j)].width = max(ws.column_dimensions[get_column_letter(col + j)].width or 0, width)
    for i, values in enumerate(frame.itertuples(index=False), start=1):
        for j, value in enumerate(values):
            if isinstance(value, (list, tuple)):
                value = "；".join(map(str, value))
            elif value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
                value = None
            elif hasattr(value, "item"):
                value = value.item()
            cell = ws.cell(row=row + i, column=col + j, value=value)
            fmt = formats.get(str(frame.columns[j]))
            if fmt:
                cell.number_format = fmt
    return row + 1, row + len(frame)


def _bar_with_ci(ws: Worksheet, title: str, cats: Reference, values: Reference, minus: Reference,
                 plus: Reference, anchor: str, y_title: str, line: Reference | None = None) -> None:
    """Bars with CI error bars; `line` (a column holding the threshold on every row, header
    included) is drawn over them as a line on the same axes, so the 80 % line is in the chart."""
    chart = BarChart()
    chart.type = "col"
    chart.title = title
    chart.y_axis.title = y_title
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min = 0
    chart.legend = None
    chart.add_data(values, titles_from_data=True)
    chart.set_categories(cats)
    bars = ErrorBars(errDir="y", errBarType="both", errValType="cust",
                     plus=NumDataSource(numRef=NumRef(f=_ref(plus))),
                     minus=NumDataSource(numRef=NumRef(f=_ref(minus))))
    chart.series[0].errBars = bars
    if line is not None:
        overlay = LineChart()
        overlay.add_data(line, titles_from_data=True)
        overlay.series[0].marker.symbol = "none"
        overlay.series[0].graphicalProperties.line.solidFill = "C00000"
        overlay.series[0].graphicalProperties.line.dashStyle = "dash"
        overlay.series[0].graphicalProperties.line.width = 22000
        chart += overlay
        chart.legend = Legend()
        chart.legend.position = "b"
    chart.width, chart.height = 18, 9
    ws.add_chart(chart, anchor)


STATUS_LABELS = {"above": "明显高于标准线", "below": "明显低于标准线", "unclear": "与标准线无显著差异"}


def _rank_interval(low: object, high: object) -> str:
    if pd.isna(low) or pd.isna(high):
        return ""
    return f"{int(low)}–{int(high)}"


def _ref(ref: Reference) -> str:
    return f"'{ref.worksheet.title}'!${get_column_letter(ref.min_col)}${ref.min_row}:" \
           f"${get_column_letter(ref.max_col)}${ref.max_row}"


def summary_sheet(ws: Worksheet, scores: pd.DataFrame, meta: dict[str, Any]) -> None:
    ws.title = "摘要"
    ws["A1"] = meta.get("title", "生态环境公众满意度得分")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"调查轮次：{meta.get('wave', '')}    计分方案：{meta.get('config_name', '')}    " \
               f"满分：{meta.get('full_points', '')}"
    table = pd.DataFrame({
        "排名": scores["rank"], "区": scores["unit"], "得分": scores["points"], "满意率": scores["rate"],
        "95%置信下限": scores["rate_low"], "95%置信上限": scores["rate_high"], "有效样本": scores["n_valid"],
        "提示": scores["warnings"],
        "误差下": scores["rate"] - scores["rate_low"], "误差上": scores["rate_high"] - scores["rate"],
        "排名区间（95%）": [_rank_interval(a, b) for a, b in zip(scores.get("rank_low", []), scores.get("rank_high", []))]
        if "rank_low" in scores else None})
    formats = {"满意率": PERCENT, "95%置信下限": PERCENT, "95%置信上限": PERCENT, "误差下": PERCENT,
               "误差上": PERCENT, "得分": "0.00", "低于标准线的概率": PERCENT}
    if "p_below" in scores:
        line = meta.get("threshold")
        table["低于标准线的概率"] = scores["p_below"]
        table["与标准线比较"] = [STATUS_LABELS.get(s, "") if isinstance(s, str) else "" for s in scores["threshold_status"]]
        ws["A3"] = f"标准线：{line:.0%}（“明显高于”= 95%置信下限不低于标准线，“明显低于”= 上限低于标准线）" \
            if isinstance(line, float) else ""
    line = meta.get("threshold")
    if isinstance(line, float) and meta.get("basis", "rate") == "rate":
        table[f"标准线（{line:.0%}）"] = line
        formats[f"标准线（{line:.0%}）"] = PERCENT
    first, last = write_table(ws, table, row=4, formats=formats)
    ws.column_dimensions["H"].width = 40
    cols = list(table.columns)
    line_ref = Reference(ws, min_col=len(cols), min_row=first - 1, max_row=last) \
        if str(cols[-1]).startswith("标准线") else None
    _bar_with_ci(ws, "各区综合满意率（95%置信区间）", Reference(ws, min_col=2, min_row=first, max_row=last),
                 Reference(ws, min_col=4, min_row=first - 1, max_row=last),
                 Reference(ws, min_col=9, min_row=first, max_row=last),
                 Reference(ws, min_col=10, min_row=first, max_row=last), f"A{last + 3}", "满意率", line=line_ref)
    if meta.get("weighting_note"):
        ws.cell(row=last + 2, column=1, value=meta["weighting_note"]).font = Font(bold=True, color="C00000")


def items_sheet(ws: Worksheet, estimates: pd.DataFrame) -> None:
    ws.title = "分项"  # before any Reference: a chart's series keep the sheet name they were made with
    est = estimates.copy()
    est["项目"] = est["item"].map(lambda k: ITEM_LABELS.get(k, k))
    long = est[["unit", "项目", "n", "n_valid", "rate", "rate_low", "rate_high", "index", "index_se"]].rename(
        columns={"unit": "区", "n": "样本", "n_valid": "有效回答", "rate": "满意率", "rate_low": "下限",
                 "rate_high": "上限", "index": "满意度指数", "index_se": "指数标准误"})
    pivot = est.pivot_table(index="项目", columns="unit", values="rate", sort=False)
    pivot.insert(0, "项目", pivot.index)
    first, last = write_table(ws, pivot.reset_index(drop=True), row=1,
                              formats={c: PERCENT for c in pivot.columns if c != "项目"})
    city = est[est["unit"] == "全市"]
    if not city.empty:
        col = list(pivot.columns).index("全市") + 1 if "全市" in pivot.columns else 2
        chart = BarChart()
        chart.type = "bar"
        chart.title = "全市分项满意率"
        chart.y_axis.number_format = "0%"
        chart.legend = None
        chart.add_data(Reference(ws, min_col=col, min_row=first - 1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
        chart.width, chart.height = 18, 10
        ws.add_chart(chart, f"{get_column_letter(len(pivot.columns) + 2)}1")
    write_table(ws, long, row=last + 3, formats={"满意率": PERCENT, "下限": PERCENT, "上限": PERCENT,
                                                 "满意度指数": "0.00", "指数标准误": "0.000"})
    ws.title = "分项"


def frame_sheet(ws: Worksheet, title: str, blocks: list[tuple[str, pd.DataFrame]]) -> None:
    """A sheet of captioned tables (weights, comparisons)."""
    ws.title = title
    row = 1
    for caption, frame in blocks:
        ws.cell(row=row, column=1, value=caption).font = Font(bold=True)
        if frame is None or frame.empty:
            ws.cell(row=row + 1, column=1, value="（无数据）")
            row += 3
            continue
        _, last = write_table(ws, frame, row=row + 1)
        row = last + 3


def method_sheet(ws: Worksheet, method_text: str, config: dict[str, Any], record: dict[str, Any],
                 tables: list[tuple[str, pd.DataFrame]] | None = None) -> None:
    """The method text, captioned tables (e.g. how much clustering widens each SE), then the
    config and the reproducibility record."""
    ws.title = "方法"
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 100
    row = 1
    for line in method_text.splitlines():
        ws.cell(row=row, column=1, value=line)
        row += 1
    for caption, frame in tables or []:
        row += 1
        ws.cell(row=row, column=1, value=caption).font = Font(bold=True)
        if frame is None or frame.empty:
            ws.cell(row=row + 1, column=1, value="（无数据）")
            row += 2
            continue
        _, row = write_table(ws, frame, row=row + 1, formats={c: "0.0000" for c in frame.columns
                                                               if str(c).startswith("标准误")} |
                             {c: "0.00" for c in frame.columns if str(c).startswith("放大")})
        row += 1
    for heading, pairs in (("计分配置", config), ("可复现记录", record)):
        row += 1
        ws.cell(row=row, column=1, value=heading).font = Font(bold=True)
        for key, value in pairs.items():
            row += 1
            ws.cell(row=row, column=1, value=key)
            ws.cell(row=row, column=2, value=value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        row += 1


def write_report(path: str | Path | IO[bytes], *, scores: pd.DataFrame, estimates: pd.DataFrame, diagnostics: pd.DataFrame,
                 comparisons: list[tuple[str, pd.DataFrame]], method_text: str, config: dict[str, Any],
                 record: dict[str, Any], meta: dict[str, Any],
                 method_tables: list[tuple[str, pd.DataFrame]] | None = None) -> None:
    """Write the workbook to a path or a binary file object (a download buffer)."""
    wb = Workbook()
    summary_sheet(wb.active, scores, meta)
    items_sheet(wb.create_sheet(), estimates)
    frame_sheet(wb.create_sheet(), "权重", [("各区权重诊断", diagnostics)])
    frame_sheet(wb.create_sheet(), "对比", comparisons)
    method_sheet(wb.create_sheet(), method_text, config, record, method_tables)
    if isinstance(path, (str, Path)):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
