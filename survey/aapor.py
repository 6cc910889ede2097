"""AAPOR dispositions, final codes and outcome rates: pure functions of an attempts table.

Dispositions are AAPOR Standard Definitions codes, kept as strings ("2.11", never the
float 2.11). DISPOSITIONS maps the Chinese labels a pollster picks to the codes:

| label | code | AAPOR meaning | final |
|---|---|---|---|
| 完成 | 1.1 | complete | yes |
| 部分完成 | 1.2 | partial | yes |
| 拒访 | 2.11 | refusal | yes |
| 中途拒绝 | 2.12 | break-off | yes |
| 约定回访 (with time) | 2.21 | respondent not available now: appointment | no |
| 受访者暂时不在/不便接受访问 | 2.21 | respondent not available | no |
| 电话答录机（确认为住宅） | 2.22 | answering machine, household confirmed | no |
| 无法进入小区/楼栋 (door) | 2.23 | unable to reach the housing unit | no |
| 家中无人 (door) | 2.24 | no one at residence | no |
| 身体/智力原因无法受访 | 2.32 | respondent unable | yes |
| 语言障碍 | 2.33 | language problem | yes |
| 忙音 | 3.12 | always busy | no |
| 无人接听 | 3.13 | no answer | no |
| 电话答录机（不确定是否住宅） | 3.14 | answering machine, household unknown | no |
| 线路故障/无法接通 | 3.16 | technical phone problems | no |
| 地址无法找到 (door) | 3.18 | unable to locate address | no |
| 接通但未完成筛选 | 3.21 | no screener completed (eligibility unknown) | no |
| 传真/数据线 | 4.20 | fax / data line | yes |
| 空号 | 4.31 | non-working number | yes |
| 停机/已销号 | 4.32 | disconnected number | yes |
| 非住宅地址 (door) | 4.50 | not a housing unit | yes |
| 非住宅/单位电话 | 4.51 | business, government office, organisation | yes |
| 空置房 (door) | 4.60 | vacant housing unit | yes |
| 不符合条件：未满18岁 | 4.70 | no eligible respondent | yes |
| 不符合条件：非常住 | 4.70 | no eligible respondent | yes |
| 配额已满 | 4.80 | quota filled | yes |

Each label belongs to one GROUPS entry (what happened on the line or at the door), so a
screen offers a few groups of buttons rather than one long list; the group's name is the
catalog text `cati.group.<group>`.

A case's final code is the first of 1.1, 1.2, 4.x, 2.1x, 2.3x, 2.2x, 3.x that it reached
(DESIGN attempts contract, METHODS §4); within one class the latest attempt's code counts.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

TOTAL = "全部"
RATE_COLUMNS = ("cases", "I", "P", "R", "NC", "O", "U", "NE", "e", "RR1", "RR2", "RR3", "RR4", "COOP1", "REF1",
                "CON1")
RATES_BY = ("unit", "mode", "interviewer", "day")


# What happened, in the order a screen shows the groups: someone answered; nobody was reached;
# the number or address is no household's; the household has no one to interview.
GROUPS = ("contact", "no_contact", "invalid", "ineligible")


@dataclass(frozen=True)
class Disposition:
    label: str
    code: str
    group: str
    modes: tuple[str, ...] = ("phone", "door")
    callback: bool = False  # asks for the agreed time

    @property
    def final(self) -> bool:
        return is_final(self.code)


DISPOSITIONS: dict[str, Disposition] = {d.label: d for d in (
    Disposition("完成", "1.1", "contact"),
    Disposition("部分完成", "1.2", "contact"),
    Disposition("拒访", "2.11", "contact"),
    Disposition("中途拒绝", "2.12", "contact"),
    Disposition("约定回访", "2.21", "contact", callback=True),
    Disposition("受访者暂时不在/不便接受访问", "2.21", "contact"),
    Disposition("电话答录机（确认为住宅）", "2.22", "no_contact", ("phone",)),
    Disposition("无法进入小区/楼栋", "2.23", "no_contact", ("door",)),
    Disposition("家中无人", "2.24", "no_contact", ("door",)),
    Disposition("身体/智力原因无法受访", "2.32", "contact"),
    Disposition("语言障碍", "2.33", "contact"),
    Disposition("忙音", "3.12", "no_contact", ("phone",)),
    Disposition("无人接听", "3.13", "no_contact", ("phone",)),
    Disposition("电话答录机（不确定是否住宅）", "3.14", "no_contact", ("phone",)),
    Disposition("线路故障/无法接通", "3.16", "no_contact", ("phone",)),
    Disposition("地址无法找到", "3.18", "no_contact", ("door",)),
    Disposition("接通但未完成筛选", "3.21", "contact"),
    Disposition("传真/数据线", "4.20", "invalid", ("phone",)),
    Disposition("空号", "4.31", "invalid", ("phone",)),
    Disposition("停机/已销号", "4.32", "invalid", ("phone",)),
    Disposition("非住宅地址", "4.50", "invalid", ("door",)),
    Disposition("非住宅/单位电话", "4.51", "invalid", ("phone",)),
    Disposition("空置房", "4.60", "invalid", ("door",)),
    Disposition("不符合条件：未满18岁", "4.70", "ineligible"),
    Disposition("不符合条件：非常住", "4.70", "ineligible"),
    Disposition("配额已满", "4.80", "ineligible"),
)}

assert all(d.group in GROUPS for d in DISPOSITIONS.values())

_CODE = re.compile(r"^(1\.[12]|2\.[123]\d*|3\.[12]\d*|4\.\d+)$")
# priority class of a code: lower wins (1.1, 1.2, 4.x, 2.1x, 2.3x, 2.2x, 3.x), and its AAPOR category
_CLASSES = (("4.", 2, "NE"), ("2.1", 3, "R"), ("2.3", 4, "O"), ("2.2", 5, "NC"), ("3.1", 6, "UH"), ("3.2", 6, "UO"))


def valid_code(code: str) -> bool:
    """An AAPOR code of the DESIGN attempts contract (1.1, 1.2, 2.1x, 2.2x, 2.3x, 3.1x, 3.2x, 4.x)."""
    return bool(_CODE.match(str(code)))


def _classify(code: str) -> tuple[int, str]:
    """(priority rank, category) of a code; ValueError for a code outside the contract."""
    if code == "1.1":
        return 0, "I"
    if code == "1.2":
        return 1, "P"
    if valid_code(code):
        for prefix, rank, cat in _CLASSES:
            if code.startswith(prefix):
                return rank, cat
    raise ValueError(f"not an AAPOR disposition code: {code}")


def is_final(code: str) -> bool:
    """Complete, partial, not eligible, refusal / break-off or other eligible: no more attempts."""
    return _classify(code)[0] <= 4


def final_code(attempts: Iterable[tuple[str, str]]) -> str | None:
    """The final code of one case from its (attempted_at, code) pairs, as `final_codes` decides it:
    the first class of 1.1, 1.2, 4.x, 2.1x, 2.3x, 2.2x, 3.x reached, the latest attempt within it.
    None for a case never tried."""
    best: tuple[int, str, str] | None = None
    for at, code in attempts:
        rank = _classify(str(code))[0]
        if best is None or rank < best[0] or (rank == best[0] and str(at) >= best[1]):
            best = (rank, str(at), str(code))
    return best[2] if best else None


def find_disposition(label_or_code: str) -> Disposition:
    """The table entry for a Chinese label (or for a code: its first label)."""
    if label_or_code in DISPOSITIONS:
        return DISPOSITIONS[label_or_code]
    for d in DISPOSITIONS.values():
        if d.code == label_or_code:
            return d
    raise StoreError(f"disposition: unknown `{label_or_code}` (one of {', '.join(DISPOSITIONS)})")


def dispositions_for(mode: str) -> list[Disposition]:
    """The labels a pollster may pick in one mode (phone or door), in table order."""
    return [d for d in DISPOSITIONS.values() if mode in d.modes]


def grouped(mode: str, exclude: Iterable[str] = ()) -> list[tuple[str, list[Disposition]]]:
    """(group, its dispositions) of one mode in GROUPS order, without the `exclude` labels or empty groups."""
    left = [d for d in dispositions_for(mode) if d.label not in set(exclude)]
    return [(g, [d for d in left if d.group == g]) for g in GROUPS if any(d.group == g for d in left)]


# ======================================================================================
# Final codes and AAPOR rates (pure functions of an attempts table)
# ======================================================================================
def final_codes(attempts: pd.DataFrame) -> pd.DataFrame:
    """One row per case: its final code and AAPOR category (I, P, R, NC, O, UH, UO, NE).

    Input: the DESIGN attempts table. The final code is the first of 1.1, 1.2, 4.x, 2.1x,
    2.3x, 2.2x, 3.x the case reached; within that class, the latest attempt's code. The
    case's unit, mode, interviewer and day are those of the attempt that gave the final
    code, so a case counts once in every breakdown. Columns: case_id (and wave if given),
    unit, mode, interviewer, day, final_code, category, attempts.
    """
    cols = ["case_id", "unit", "mode", "interviewer", "day", "final_code", "category", "attempts"]
    keys = ["wave", "case_id"] if "wave" in attempts.columns else ["case_id"]
    if attempts.empty:
        return pd.DataFrame(columns=keys[:-1] + cols)
    df = attempts.copy()
    df["disposition"] = df["disposition"].astype(str).str.strip()
    classes = {code: _classify(code) for code in df["disposition"].unique()}  # few distinct codes
    df["_rank"] = df["disposition"].map({c: rc[0] for c, rc in classes.items()})
    df["category"] = df["disposition"].map({c: rc[1] for c, rc in classes.items()})
    df["attempted_at"] = df["attempted_at"].astype(str)
    # integer sort keys: sorting 100,000s of string keys is what makes this slow otherwise
    case_code = np.zeros(len(df), dtype=np.int64)
    for key in keys:
        codes, uniques = pd.factorize(df[key].astype(str))
        case_code = case_code * len(uniques) + codes
    when = pd.to_datetime(df["attempted_at"], format="ISO8601").to_numpy("datetime64[s]").astype("int64")
    order = np.lexsort((-np.arange(len(df)), -when, df["_rank"].to_numpy(), case_code))
    first = order[np.r_[True, case_code[order][1:] != case_code[order][:-1]]]
    best = df.iloc[first].copy()
    best["attempts"] = np.bincount(case_code)[case_code[first]]
    best["day"] = best["attempted_at"].str[:10]
    best["final_code"] = best["disposition"]
    if "interviewer" not in best.columns:
        best["interviewer"] = None
    return best[keys[:-1] + cols].reset_index(drop=True)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def rates_from_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """AAPOR rates (fractions) from columns I, P, R, NC, O, U, NE, exactly as METHODS §4.

    e = (I+P+R+NC+O) / (I+P+R+NC+O+NE): the eligible share among cases of known
    eligibility. A rate whose denominator is 0 is NaN (empty in a CSV), never 0.
    """
    out = counts.copy()
    I, P, R, NC, O, U, NE = (out[c].to_numpy(dtype=float) for c in ("I", "P", "R", "NC", "O", "U", "NE"))
    eligible = I + P + R + NC + O
    e = _div(eligible, eligible + NE)
    base = (I + P) + (R + NC + O) + U
    eU = np.where(U > 0, e * U, 0.0)  # no unknowns: RR3 = RR1 even when e is undefined
    base_e = (I + P) + (R + NC + O) + eU
    out["e"] = e
    out["RR1"] = _div(I, base)
    out["RR2"] = _div(I + P, base)
    out["RR3"] = _div(I, base_e)
    out["RR4"] = _div(I + P, base_e)
    out["COOP1"] = _div(I, (I + P) + R + O)
    out["REF1"] = _div(R, base)
    out["CON1"] = _div((I + P) + R + O, base)
    return out


def rates_table(attempts: pd.DataFrame, by: str) -> pd.DataFrame:
    """AAPOR counts and rates per `by` group (unit, mode, interviewer, day) plus a 全部 row.

    Columns: `by`, then cases, I, P, R, NC, O, U, NE, e, RR1, RR2, RR3, RR4, COOP1, REF1,
    CON1 (U = UH + UO); rates are fractions, NaN where a denominator is 0.
    """
    if by not in RATES_BY:
        raise ValueError(f"by: one of {', '.join(RATES_BY)}, not {by}")
    fc = final_codes(attempts)
    fc[by] = fc[by].fillna("").astype(str)
    cats = ["I", "P", "R", "NC", "O", "UH", "UO", "NE"]
    table = pd.crosstab(fc[by], fc["category"]).reindex(columns=cats, fill_value=0) if len(fc) else \
        pd.DataFrame(columns=cats, dtype=int)
    table.index.name = by
    total = table.sum().to_frame(TOTAL).T
    table = pd.concat([table, total])
    table.index.name = by
    table["U"] = table["UH"] + table["UO"]
    table["cases"] = table[["I", "P", "R", "NC", "O", "U", "NE"]].sum(axis=1)
    table = rates_from_counts(table.astype({c: int for c in cats}))
    return table.reset_index()[[by, *RATE_COLUMNS]]
