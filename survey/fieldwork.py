"""Fieldwork core: cases, contact attempts, dispositions, AAPOR outcome rates and quotas.

The CATI / door-to-door pages and the `cases`, `rates` and `import --kind attempts`
commands call these functions; rights are checked here, not by hiding buttons:
a pollster reads and writes only the cases assigned to them, a supervisor only the
cases of their own firm, and only the assigned pollster ever sees a number in clear.

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

A case's final code is the first of 1.1, 1.2, 4.x, 2.1x, 2.3x, 2.2x, 3.x that it reached
(DESIGN attempts contract, METHODS §4); within one class the latest attempt's code counts.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from survey.auth import SYSTEM, Account, PermissionDenied, load_account, require
from survey.config import MODES
from survey.contacts import ContactCipher, ContactError
from survey.errors import ImportRejected, row_problem
from survey.i18n import t
from survey.store import Store, StoreError, now
from survey.supervision import firm_scope

MAX_ATTEMPTS = 6  # a non-final case is dialled / visited at most this often
CASE_MODES = ("phone", "door", "paper")
TOTAL = "全部"
ATTEMPT_COLUMNS = ("case_id", "wave", "unit", "mode", "interviewer", "attempted_at", "disposition", "response_id")
RATE_COLUMNS = ("cases", "I", "P", "R", "NC", "O", "U", "NE", "e", "RR1", "RR2", "RR3", "RR4", "COOP1", "REF1",
                "CON1")
RATES_BY = ("unit", "mode", "interviewer", "day")


@dataclass(frozen=True)
class Disposition:
    label: str
    code: str
    modes: tuple[str, ...] = ("phone", "door")
    callback: bool = False  # asks for the agreed time

    @property
    def final(self) -> bool:
        return is_final(self.code)


DISPOSITIONS: dict[str, Disposition] = {d.label: d for d in (
    Disposition("完成", "1.1"),
    Disposition("部分完成", "1.2"),
    Disposition("拒访", "2.11"),
    Disposition("中途拒绝", "2.12"),
    Disposition("约定回访", "2.21", callback=True),
    Disposition("受访者暂时不在/不便接受访问", "2.21"),
    Disposition("电话答录机（确认为住宅）", "2.22", ("phone",)),
    Disposition("无法进入小区/楼栋", "2.23", ("door",)),
    Disposition("家中无人", "2.24", ("door",)),
    Disposition("身体/智力原因无法受访", "2.32"),
    Disposition("语言障碍", "2.33"),
    Disposition("忙音", "3.12", ("phone",)),
    Disposition("无人接听", "3.13", ("phone",)),
    Disposition("电话答录机（不确定是否住宅）", "3.14", ("phone",)),
    Disposition("线路故障/无法接通", "3.16", ("phone",)),
    Disposition("地址无法找到", "3.18", ("door",)),
    Disposition("接通但未完成筛选", "3.21"),
    Disposition("传真/数据线", "4.20", ("phone",)),
    Disposition("空号", "4.31", ("phone",)),
    Disposition("停机/已销号", "4.32", ("phone",)),
    Disposition("非住宅地址", "4.50", ("door",)),
    Disposition("非住宅/单位电话", "4.51", ("phone",)),
    Disposition("空置房", "4.60", ("door",)),
    Disposition("不符合条件：未满18岁", "4.70"),
    Disposition("不符合条件：非常住", "4.70"),
    Disposition("配额已满", "4.80"),
)}

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


# ======================================================================================
# Cases: import, assignment, who may see what
# ======================================================================================
def _read_csv(path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip() for f in (reader.fieldnames or [])]
        rows = [{(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in r.items()}
                for r in reader]
    return fields, rows


def _wave(store: Store, wave: str) -> dict[str, Any]:
    w = store.wave(wave)
    if w is None:
        raise StoreError(f"no wave `{wave}`")
    return w


def import_cases(store: Store, actor: Account, path: str | Path, wave: str) -> int:
    """Import a wave's contact list; returns how many new cases were stored.

    CSV columns: `case_id, unit, mode` and `phone` and/or `address`; every other column is a
    stratum kept with the case. A phone case needs a phone number, a door case an address
    (the contact of the case's mode is the one kept). Every row is checked first; one bad
    row rejects the file (ImportRejected, one line per problem) and stores nothing. A case
    already stored with the same content is skipped, so a re-import stores nothing new.
    The same number under two case ids of a wave is refused (keyed-hash match).
    """
    require(actor, "cases.manage")
    w = _wave(store, wave)
    fields, rows = _read_csv(path)
    missing = [c for c in ("case_id", "unit", "mode") if c not in fields]
    if "phone" not in fields and "address" not in fields:
        missing.append("phone or address")
    if missing:
        raise ImportRejected([f"{path}: column {c} missing (columns: case_id, unit, mode, phone or address, "
                              "optional strata)" for c in missing])
    cipher = ContactCipher.for_db(store.path)
    strata_cols = [c for c in fields if c not in ("case_id", "unit", "mode", "phone", "address", "wave")]
    existing = {c["case_id"]: c for c in store.cases(wave)}
    hashes = store.case_hashes(wave)
    problems: list[str] = []
    seen: dict[str, int] = {}
    new: list[dict[str, Any]] = []
    for n, row in enumerate(rows, start=2):
        before = len(problems)
        case_id, unit, mode = row.get("case_id", ""), row.get("unit", ""), row.get("mode", "")
        if not case_id:
            problems.append(row_problem(n, "case_id", case_id, "empty"))
        elif case_id in seen:
            problems.append(row_problem(n, "case_id", case_id, f"repeats row {seen[case_id]}"))
        else:
            seen[case_id] = n
        if unit not in w["units"]:
            problems.append(row_problem(n, "unit", unit, f"not a unit of wave {wave} ({'、'.join(w['units'])})"))
        if mode not in CASE_MODES:
            problems.append(row_problem(n, "mode", mode, f"one of {', '.join(CASE_MODES)}"))
        kind = "address" if mode == "door" or (mode == "paper" and not row.get("phone")) else "phone"
        raw = row.get(kind, "")
        sealed: dict[str, str] | None = None
        if not raw:
            problems.append(row_problem(n, kind, "", f"empty: a {mode or 'phone'} case needs a {kind}"))
        else:
            try:
                sealed = cipher.seal(kind, raw)
            except ContactError as err:
                # never echo a personal value back in full
                problems.append(row_problem(n, kind, _mask_raw(kind, raw), str(err)))
        if len(problems) > before or sealed is None:
            continue
        old = existing.get(case_id)
        if old is not None:
            if (old["contact_hash"], old["unit"], old["mode"]) != (sealed["contact_hash"], unit, mode):
                problems.append(row_problem(n, "case_id", case_id, "already stored with another unit, mode or "
                                            "contact; a case is never changed by an import"))
            continue
        other = hashes.get(sealed["contact_hash"])
        if other is not None and other != case_id:
            problems.append(row_problem(n, kind, sealed["contact_mask"], f"same {kind} as case {other}"))
            continue
        hashes[sealed["contact_hash"]] = case_id
        strata = {c: row[c] for c in strata_cols if row.get(c)}
        new.append({"wave": wave, "case_id": case_id, "unit": unit, "mode": mode, "strata": strata,
                    "firm": None, **sealed})
    if problems:
        raise ImportRejected(problems)
    return store.add_cases(new, actor.username) if new else 0


def _mask_raw(kind: str, raw: str) -> str:
    """A refused value shown in an error without echoing personal data."""
    from survey.contacts import mask_address, mask_phone
    digits = re.sub(r"\D", "", raw)
    return mask_phone(digits) if kind == "phone" else mask_address(raw)


def assign_cases(store: Store, actor: Account, wave: str, pollster: str, *, unit: str | None = None,
                 case_ids: Iterable[str] | None = None) -> int:
    """Give cases to a pollster: the listed ones, or the unassigned ones of a unit.

    Admin: any case to any pollster. Supervisor: only to a pollster of their own firm, and
    only cases unassigned or already of that firm. Returns how many cases changed hands.
    """
    if actor.role != "admin":
        firm_scope(actor)  # a supervisor with a firm, or PermissionDenied
    _wave(store, wave)
    target = load_account(store, pollster)
    if target is None or target.role != "pollster":
        raise StoreError(f"--pollster: no pollster account `{pollster}`")
    if wave not in target.waves:
        raise StoreError(f"pollster {pollster} is not assigned to wave {wave} (python -m survey user assign "
                         f"{pollster} --wave {wave})")
    if actor.role != "admin" and target.firm != actor.firm:
        raise PermissionDenied(f"{actor.username} supervises firm {actor.firm}; {pollster} works for {target.firm}")
    if (unit is None) == (case_ids is None):
        raise StoreError("give either a unit or a list of case ids")
    if case_ids is not None:
        ids = [c.strip() for c in case_ids if c.strip()]
        cases = store.cases(wave, case_ids=ids)
        unknown = sorted(set(ids) - {c["case_id"] for c in cases})
        if unknown:
            raise StoreError(f"--cases: no case {', '.join(unknown[:20])} in wave {wave}")
    else:
        cases = [c for c in store.cases(wave, unit=unit) if c["pollster"] is None]
    if actor.role != "admin":
        foreign = [c["case_id"] for c in cases if c["firm"] not in (None, actor.firm)]
        if foreign:
            raise PermissionDenied(f"cases of another firm: {', '.join(foreign[:20])}")
    return store.assign_cases(wave, [c["case_id"] for c in cases], pollster, target.firm, actor.username)


def _find_case(store: Store, case_id: str, wave: str | None) -> dict[str, Any]:
    waves = [wave] if wave is not None else store.case_waves(case_id)
    if len(waves) > 1:
        raise StoreError(f"case {case_id} exists in waves {', '.join(waves)}: give the wave")
    found = store.cases(waves[0], case_ids=[case_id]) if waves else []
    if not found:
        raise StoreError(f"no case `{case_id}`" + (f" in wave {wave}" if wave else ""))
    return found[0]


def _check_case_access(actor: Account, case: dict[str, Any]) -> None:
    """Pollster: own cases; supervisor: own firm's; admin and analyst: all (masked)."""
    if actor.role in ("admin", "analyst"):
        return
    if actor.role == "pollster" and case["pollster"] == actor.username:
        return
    if actor.role == "supervisor" and actor.firm and case["firm"] == actor.firm:
        return
    raise PermissionDenied(f"{actor.username} may not open case {case['case_id']}")


def _public_case(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k not in ("contact_enc", "contact_hash")}


def read_case(store: Store, actor: Account, case_id: str, wave: str | None = None) -> dict[str, Any]:
    """A case with its masked contact and its attempts so far (rights checked)."""
    case = _find_case(store, case_id, wave)
    _check_case_access(actor, case)
    out = _public_case(case)
    out["attempts"] = store.attempts(case["wave"], case_ids=[case_id])
    return out


def case_contact(store: Store, actor: Account, case_id: str, wave: str | None = None) -> dict[str, Any]:
    """The contact to dial or visit: in clear only for the pollster the case is assigned to.

    Returns {case_id, kind, value, masked}; a supervisor of the case's firm or an admin gets
    the mask; anyone else is refused (PermissionDenied).
    """
    case = _find_case(store, case_id, wave)
    _check_case_access(actor, case)
    out = {"case_id": case_id, "kind": case["contact_kind"], "value": case["contact_mask"], "masked": True}
    if actor.role == "pollster" and case["pollster"] == actor.username:
        out.update(value=ContactCipher.for_db(store.path, create=False).decrypt(case["contact_enc"]), masked=False)
    return out


def contacts_for_wave(store: Store, actor: Account, wave: str) -> list[dict[str, Any]]:
    """Every case of a wave with its contact in clear, for `export --with-contacts` (admin only, audited)."""
    require(actor, "export.contacts")
    _wave(store, wave)
    cipher = ContactCipher.for_db(store.path, create=False)
    # the response a case produced: the export joins contacts to responses by it
    answered = {case_id: rid for case_id, rid in store.attempt_rows(wave, ("case_id", "response_id")) if rid}
    out = []
    for case in store.cases(wave):
        value = cipher.decrypt(case["contact_enc"])
        out.append({"case_id": case["case_id"], "response_id": answered.get(case["case_id"]),
                    "wave": wave, "unit": case["unit"], "mode": case["mode"],
                    "phone": value if case["contact_kind"] == "phone" else "",
                    "address": value if case["contact_kind"] == "address" else "",
                    "pollster": case["pollster"], "firm": case["firm"], **case["strata"]})
    store.log_contact_export(wave, actor.username, len(out))
    return out


# ======================================================================================
# Calling: the next case, recording attempts
# ======================================================================================
def _moment(value: str | dt.datetime | None) -> str:
    if value is None:
        return now()
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return dt.datetime.fromisoformat(str(value)).isoformat(timespec="seconds")


def _case_state(attempts: list[dict[str, Any]]) -> dict[str, Any]:
    """Attempts so far, whether the case is closed, and a pending callback time."""
    last = attempts[-1] if attempts else None
    return {"n": len(attempts), "final": any(is_final(a["disposition"]) for a in attempts),
            "callback_at": last["callback_at"] if last else None,
            "last_at": last["attempted_at"] if last else None}


def next_case(store: Store, actor: Account, wave: str, *, at: str | dt.datetime | None = None,
              mode: str | None = None) -> dict[str, Any] | None:
    """The pollster's next case: due callbacks first (earliest appointment), then cases never
    tried, then open cases tried fewer than MAX_ATTEMPTS times (fewest tries, longest ago first).
    A callback not yet due holds its case back. None when nothing is left to do.

    Returns the case (contact masked) with `reason` (callback / new / retry), `tries`, `callback_at`.
    `mode` keeps to the cases of one mode (the phone screen calls phone cases only).
    """
    require(actor, "fieldwork.enter")
    moment = _moment(at)
    cases = [c for c in store.cases(wave, pollster=actor.username) if mode is None or c["mode"] == mode]
    by_case: dict[str, list[dict[str, Any]]] = {}
    for a in store.attempts(wave, case_ids=[c["case_id"] for c in cases]):
        by_case.setdefault(a["case_id"], []).append(a)
    due, fresh, retry = [], [], []
    for case in cases:
        state = _case_state(by_case.get(case["case_id"], []))
        if state["final"]:
            continue
        item = {**_public_case(case), "tries": state["n"], "callback_at": state["callback_at"]}
        if state["callback_at"]:
            if state["callback_at"] <= moment:
                due.append((state["callback_at"], case["case_id"], {**item, "reason": "callback"}))
        elif state["n"] == 0:
            fresh.append((case["case_id"], {**item, "reason": "new"}))
        elif state["n"] < MAX_ATTEMPTS:
            retry.append((state["n"], state["last_at"], case["case_id"], {**item, "reason": "retry"}))
    for queue in (due, fresh, retry):
        if queue:
            return min(queue, key=lambda q: q[:-1])[-1]
    return None


def record_attempt(store: Store, actor: Account, case_id: str, disposition: str, *, wave: str | None = None,
                   callback_at: str | dt.datetime | None = None, response_id: str | None = None, note: str = "",
                   attempt_key: str | None = None, at: str | dt.datetime | None = None) -> bool:
    """Record one contact attempt of the actor's own case; True if stored, False if the key was seen.

    `disposition` is a Chinese label of DISPOSITIONS (or its code). 约定回访 needs
    `callback_at`; 完成 needs the `response_id` of the stored interview. Pass the same
    `attempt_key` when resending (double click, reconnect): it stores once. A closed
    case (final code reached) takes no more attempts.
    """
    require(actor, "fieldwork.enter")
    if attempt_key is not None and store.attempt_by_key(attempt_key) is not None:
        return False
    case = _find_case(store, case_id, wave)
    if actor.role == "pollster" and case["pollster"] != actor.username:
        raise PermissionDenied(f"case {case_id} is not assigned to {actor.username}")
    if actor.role == "supervisor" and case["firm"] != actor.firm:
        raise PermissionDenied(f"case {case_id} is not of firm {actor.firm}")
    d = find_disposition(disposition)
    if case["mode"] not in d.modes:
        raise StoreError(f"disposition: {d.label} is not an outcome of a {case['mode']} case")
    when = _moment(at)
    cb = None
    if d.callback:
        if callback_at is None:
            raise StoreError("callback_at: 约定回访 needs the agreed time")
        try:
            cb = _moment(callback_at)
        except ValueError:
            raise StoreError(f"callback_at: not a date and time: {callback_at}") from None
    if d.code == "1.1":
        if not response_id:
            raise StoreError("response_id: 完成 needs the stored interview")
        resp = store.response(response_id)
        if resp is None or resp["wave"] != case["wave"]:
            raise StoreError(f"response_id: no response `{response_id}` in wave {case['wave']}")
        if actor.role == "pollster" and resp["interviewer"] != actor.username:
            raise PermissionDenied(f"response {response_id} is not {actor.username}'s")
    attempts = store.attempts(case["wave"], case_ids=[case_id])
    if _case_state(attempts)["final"]:
        raise StoreError(f"case {case_id} is closed (final code reached)")
    return store.add_attempts([{
        "attempt_key": attempt_key or f"entry:{uuid.uuid4().hex}", "wave": case["wave"], "case_id": case_id,
        "unit": case["unit"], "mode": case["mode"], "interviewer": actor.username, "firm": actor.firm,
        "attempted_at": when, "disposition": d.code, "label": d.label, "callback_at": cb,
        "response_id": response_id, "note": note.strip(), "source": "entry"}], actor.username) == 1


def attempts_frame(store: Store, actor: Account, wave: str, firm: str | None = None) -> pd.DataFrame:
    """The wave's attempts visible to `actor`, in the DESIGN attempts format.

    Pollster: own attempts; supervisor: own firm's; admin: all or one `firm`'s; analyst: all.
    """
    scope: dict[str, str | None] = {}
    if actor.role == "pollster":
        scope["interviewer"] = actor.username
    elif actor.role in ("supervisor", "admin"):
        scope["firm"] = firm_scope(actor, firm)
    elif actor.role != "analyst":
        raise PermissionDenied(f"{actor.username} may not read attempts")
    rows = store.attempt_rows(wave, ATTEMPT_COLUMNS, **scope)
    return pd.DataFrame.from_records(rows, columns=list(ATTEMPT_COLUMNS))


def import_attempts(store: Store, path: str | Path, wave: str, actor: str) -> int:
    """Import a DESIGN attempts file for a wave; returns the number of new attempt rows.

    Columns `case_id, wave, unit, mode, interviewer, attempted_at, disposition, response_id`.
    Every row is checked (wave matches, unit of the wave, known mode, ISO time, AAPOR code,
    one unit per case); any problem rejects the whole file (ImportRejected, one line per
    problem, nothing stored). Each row's key is a hash of its content, so a re-import of the
    same file stores nothing new. `actor`: the username (or "system") doing the import.
    """
    account = SYSTEM if actor == "system" else load_account(store, actor)
    if account is None:
        raise PermissionDenied(f"no account `{actor}`")
    require(account, "responses.import")
    w = _wave(store, wave)
    fields, rows = _read_csv(path)
    missing = [c for c in ATTEMPT_COLUMNS if c not in fields]
    if missing:
        raise ImportRejected([f"{path}: column {c} missing (attempts file: {', '.join(ATTEMPT_COLUMNS)})"
                              for c in missing])
    firms = {a["username"]: a["firm"] for a in store.accounts()}
    problems: list[str] = []
    unit_of: dict[str, tuple[str, int]] = {}
    out: list[dict[str, Any]] = []
    for n, row in enumerate(rows, start=2):
        before = len(problems)
        case_id = row["case_id"]
        if not case_id:
            problems.append(row_problem(n, "case_id", "", "empty"))
        if row["wave"] != wave:
            problems.append(row_problem(n, "wave", row["wave"], f"does not match --wave {wave}"))
        if row["unit"] not in w["units"]:
            problems.append(row_problem(n, "unit", row["unit"], f"not a unit of wave {wave}"))
        elif case_id:
            first = unit_of.setdefault(case_id, (row["unit"], n))
            if first[0] != row["unit"]:
                problems.append(row_problem(n, "unit", row["unit"], f"case {case_id} has unit {first[0]} in "
                                            f"row {first[1]}"))
        if row["mode"] not in MODES:
            problems.append(row_problem(n, "mode", row["mode"], f"one of {', '.join(MODES)}"))
        try:
            when = dt.datetime.fromisoformat(row["attempted_at"]).isoformat(timespec="seconds")
        except ValueError:
            when = ""
            problems.append(row_problem(n, "attempted_at", row["attempted_at"],
                                        "not an ISO date and time (2025-06-01 14:30)"))
        if not valid_code(row["disposition"]):
            problems.append(row_problem(n, "disposition", row["disposition"], "not an AAPOR code (1.1, 1.2, 2.1x, "
                                        "2.2x, 2.3x, 3.1x, 3.2x, 4.x)"))
        if len(problems) > before:
            continue
        content = "\x1f".join([wave, case_id, when, row["disposition"], row["interviewer"], row["response_id"]])
        out.append({"attempt_key": "import:" + hashlib.sha256(content.encode("utf-8")).hexdigest(),
                    "wave": wave, "case_id": case_id, "unit": row["unit"], "mode": row["mode"],
                    "interviewer": row["interviewer"] or None, "firm": firms.get(row["interviewer"]),
                    "attempted_at": when, "disposition": row["disposition"], "label": None, "callback_at": None,
                    "response_id": row["response_id"] or None, "note": "", "source": "import"})
    if problems:
        raise ImportRejected(problems)
    return store.add_attempts(out, account.username) if out else 0


# ======================================================================================
# Quotas
# ======================================================================================
class QuotaCell(BaseModel):
    """A target of completes for a unit, optionally one sex and/or one age group within it."""
    model_config = ConfigDict(extra="forbid")
    unit: str = Field(min_length=1)
    sex: Literal["男", "女"] | None = None
    age_group: Literal["18-29", "30-39", "40-49", "50-59", "60+"] | None = None
    target: int = Field(gt=0)


class QuotaSettings(BaseModel):
    """The quota part of a wave's settings: cells and what screening does when one is full."""
    model_config = ConfigDict(extra="ignore")
    quotas: list[QuotaCell] = Field(default_factory=list)
    quota_action: Literal["warn", "stop"] = "warn"


class QuotaError(ImportRejected):
    """Quota settings refused; one line per problem, naming the field (quotas[2].target)."""


def validate_quotas(settings: Mapping[str, Any], units: Iterable[str] | None = None) -> QuotaSettings:
    """Check the `quotas` / `quota_action` of wave settings; messages name the field."""
    try:
        parsed = QuotaSettings.model_validate(dict(settings))
    except ValidationError as err:
        raise QuotaError([f"{'.'.join(f'[{p}]' if isinstance(p, int) else str(p) for p in e['loc'])}: {e['msg']}"
                          .replace(".[", "[") for e in err.errors()]) from None
    problems = []
    known = set(units) if units is not None else None
    seen: dict[tuple[Any, ...], int] = {}
    for i, cell in enumerate(parsed.quotas):
        if known is not None and cell.unit not in known:
            problems.append(f"quotas[{i}].unit: {cell.unit} is not a unit of the wave")
        key = (cell.unit, cell.sex, cell.age_group)
        if key in seen:
            problems.append(f"quotas[{i}]: same cell as quotas[{seen[key]}]")
        seen.setdefault(key, i)
    if problems:
        raise QuotaError(problems)
    return parsed


def set_quotas(store: Store, actor: Account, wave: str, quotas: list[Mapping[str, Any]],
               action: str = "warn") -> QuotaSettings:
    """Validate and store a wave's quota cells and quota action (admin)."""
    require(actor, "waves.manage")
    w = _wave(store, wave)
    parsed = validate_quotas({"quotas": quotas, "quota_action": action}, w["units"])
    settings = {**w["settings"], **parsed.model_dump(mode="json", exclude_none=False)}
    settings["quotas"] = [{k: v for k, v in c.items() if v is not None} for c in settings["quotas"]]
    store.update_wave(wave, actor.username, settings=settings)
    return parsed


def quota_settings(store: Store, wave: str) -> QuotaSettings:
    w = _wave(store, wave)
    return validate_quotas(w["settings"], w["units"])


@dataclass(frozen=True)
class QuotaStatus:
    full: bool
    action: str  # warn | stop
    message: str  # empty when the cell is open
    cell: dict[str, Any] | None = None
    count: int | None = None
    target: int | None = None

    @property
    def stop(self) -> bool:
        return self.full and self.action == "stop"


def quota_status(store: Store, wave: str, unit: str, answers: Mapping[str, Any]) -> QuotaStatus:
    """Is the respondent's quota cell full? Checked at screening, before the interview.

    Cells are matched on unit and, where the cell names them, the sex / age_group in
    `answers`; a cell whose sex or age group is not answered yet is not checked. The
    fullest matching cell decides. `stop` is True when the wave's action is stop.
    """
    qs = quota_settings(store, wave)
    worst: QuotaStatus | None = None
    for cell in qs.quotas:
        if cell.unit != unit:
            continue
        if cell.sex is not None and answers.get("sex") != cell.sex:
            continue
        if cell.age_group is not None and answers.get("age_group") != cell.age_group:
            continue
        count = store.count_quota_cell(wave, unit, cell.sex, cell.age_group)
        described = cell.model_dump(exclude_none=True)
        if count >= cell.target and (worst is None or not worst.full):
            name = " × ".join(str(v) for k, v in described.items() if k != "target")
            key = "fieldwork.quota_full_stop" if qs.quota_action == "stop" else "fieldwork.quota_full_warn"
            worst = QuotaStatus(True, qs.quota_action, t(key, cell=name, count=count, target=cell.target),
                                described, count, cell.target)
        elif worst is None:
            worst = QuotaStatus(False, qs.quota_action, "", described, count, cell.target)
    return worst or QuotaStatus(False, qs.quota_action, "")


def quota_progress(store: Store, wave: str) -> pd.DataFrame:
    """Every quota cell with its completes so far: unit, sex, age_group, target, n, share."""
    rows = []
    for cell in quota_settings(store, wave).quotas:
        n = store.count_quota_cell(wave, cell.unit, cell.sex, cell.age_group)
        rows.append({"unit": cell.unit, "sex": cell.sex, "age_group": cell.age_group, "target": cell.target,
                     "n": n, "share": n / cell.target})
    return pd.DataFrame(rows, columns=["unit", "sex", "age_group", "target", "n", "share"])
