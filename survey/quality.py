"""Data quality flags (METHODS.md §5): they mark responses for review; they never delete.

Rules, with per-wave thresholds (`QCSettings`, stored under `qc` in the wave's settings):

- speeder: duration below `speeder_ratio` (0.3) × the median duration of its mode in the
  wave, or below `speeder_floor_s` (60 s) whatever the mode. Strictly below: a response
  exactly at the threshold is not flagged. No duration, no flag.
- straightliner: at least `straightliner_min_items` (8) satisfaction items answered with a
  valid code (1-5; 9 不了解 is not an answer on the scale), all with the same code.
- duplicate: (a) the same contact hash within the wave (a `contact_hash` in the response's
  paradata or in the fieldwork `cases` table, when the fieldwork module provides one;
  skipped otherwise); (b) web responses with the same item answers, `change` and
  demographics in the same unit, submitted within `duplicate_window_minutes` (30) of the
  previous such response (at the window: flagged; beyond: not). In both cases the earliest
  response of a group stays unflagged and each later one is flagged, naming the earlier one.
- interviewer_outlier: in each unit, each pollster with at least `outlier_min_interviews`
  (30) interviews is compared item by item with the other pollsters of that unit (who must
  have as many): a chi-square test of the answer distribution (codes 1-2, 3, 4, 5, 9);
  the p-values of every test in the wave are Holm-adjusted, and a pollster with any
  adjusted p < `outlier_alpha` (0.01) has every interview in that unit flagged.

Storage: each run is a QC run with its settings; the latest run of a wave is its current
flag set, earlier runs stay as history. A run whose flags equal the current set stores
nothing (idempotent).
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from survey import i18n
from survey.auth import Account, require
from survey.bootstrap import questionnaire_for_wave
from survey.questionnaire import DEMOGRAPHIC_IDS
from survey.store import Store, StoreError

FLAGS = ("speeder", "straightliner", "duplicate", "interviewer_outlier")
OUTLIER_BINS = {1: "1-2", 2: "1-2", 3: "3", 4: "4", 5: "5", 9: "9"}


class QCSettings(BaseModel):
    """Thresholds of the QC rules for one wave; defaults as METHODS.md §5."""
    model_config = ConfigDict(extra="forbid")
    speeder_ratio: float = Field(0.3, gt=0, lt=1, description="share of the mode's median duration")
    speeder_floor_s: float = Field(60.0, ge=0, description="absolute minimum duration in seconds")
    straightliner_min_items: int = Field(8, ge=2, description="valid item answers needed to judge")
    duplicate_window_minutes: float = Field(30.0, ge=0, description="web duplicates: time between submissions")
    outlier_alpha: float = Field(0.01, gt=0, lt=1, description="Holm-adjusted p below which a pollster is flagged")
    outlier_min_interviews: int = Field(30, ge=5, description="interviews a pollster (and the rest) needs")


class QCSettingsError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class QCRun:
    run_id: int | None        # None: the flags equal the current set, nothing stored
    flags: list[dict[str, Any]]


def _detail(key: str, **values: Any) -> str:
    return i18n.t(f"quality.detail.{key}", **values)


# ---- settings ---------------------------------------------------------------------------
def parse_settings(values: dict[str, Any], where: str = "qc") -> QCSettings:
    try:
        return QCSettings.model_validate(values)
    except ValidationError as err:
        raise QCSettingsError([f"{where}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]) from None


def settings_for(store: Store, wave: str) -> QCSettings:
    w = store.wave(wave)
    if w is None:
        raise StoreError(f"no wave `{wave}`")
    return parse_settings(w["settings"].get("qc") or {}, f"wave {wave} settings qc")


def set_settings(store: Store, actor: Account, wave: str, **values: Any) -> QCSettings:
    """Change some thresholds of a wave (validated; logged by update_wave)."""
    require(actor, "qc.configure")
    w = store.wave(wave)
    if w is None:
        raise StoreError(f"no wave `{wave}`")
    merged = parse_settings({**(w["settings"].get("qc") or {}), **values})
    store.update_wave(wave, actor.username, settings={**w["settings"], "qc": merged.model_dump()})
    return merged


# ---- rules (pure functions on the flat responses frame) ----------------------------------
def _flag(rid: Any, flag: str, detail: str) -> dict[str, Any]:
    return {"response_id": str(rid), "flag": flag, "detail": detail}


def speeders(frame: pd.DataFrame, settings: QCSettings) -> list[dict[str, Any]]:
    duration = pd.to_numeric(frame["duration_s"], errors="coerce")
    median = duration.groupby(frame["mode"]).transform("median")
    limit = settings.speeder_ratio * median
    out = []
    for rid, mode, d, med, lim in zip(frame["response_id"], frame["mode"], duration, median, limit):
        if d != d:
            continue
        if lim == lim and d < lim:
            out.append(_flag(rid, "speeder", _detail("speeder", duration=f"{d:g}", ratio=f"{settings.speeder_ratio:g}",
                                                   mode=i18n.t(f"mode.{mode}"), median=f"{med:g}",
                                                   limit=f"{lim:.0f}")))
        elif d < settings.speeder_floor_s:
            out.append(_flag(rid, "speeder", _detail("speeder_floor", duration=f"{d:g}",
                                                   floor=f"{settings.speeder_floor_s:g}")))
    return out


def _codes(frame: pd.DataFrame, items: list[str]) -> np.ndarray:
    return frame[items].apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")


def straightliners(frame: pd.DataFrame, items: list[str], settings: QCSettings) -> list[dict[str, Any]]:
    codes = _codes(frame, items)
    valid = np.isin(codes, [1, 2, 3, 4, 5])
    n_valid = valid.sum(axis=1)
    low = np.where(valid, codes, np.inf).min(axis=1)
    high = np.where(valid, codes, -np.inf).max(axis=1)
    hit = (n_valid >= settings.straightliner_min_items) & (low == high)
    return [_flag(rid, "straightliner", _detail("straightliner", n=int(n), code=int(c)))
            for rid, n, c in zip(frame["response_id"][hit], n_valid[hit], low[hit])]


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["submitted_at", "response_id"], kind="stable")


def duplicates(frame: pd.DataFrame, items: list[str], settings: QCSettings,
               contact_hashes: dict[str, str] | None = None) -> list[dict[str, Any]]:
    out = []
    if contact_hashes:
        data = _ordered(frame[frame["response_id"].isin(list(contact_hashes))])
        first: dict[str, str] = {}
        for rid in data["response_id"]:
            h = contact_hashes[rid]
            if h in first:
                out.append(_flag(rid, "duplicate", _detail("duplicate_contact", first=first[h])))
            else:
                first[h] = rid
    web = frame[frame["mode"] == "web"]
    if len(web):
        cols = [c for c in [*items, "change", *DEMOGRAPHIC_IDS] if c in web.columns]
        signature = web[cols].astype("string").fillna("").agg("\x1f".join, axis=1)
        data = _ordered(web.assign(_sig=signature, _at=pd.to_datetime(web["submitted_at"], errors="coerce")))
        window = pd.Timedelta(minutes=settings.duplicate_window_minutes)
        for _, group in data[data.duplicated(["unit", "_sig"], keep=False)].groupby(["unit", "_sig"], sort=False):
            prev_id, prev_at = None, None
            for rid, at in zip(group["response_id"], group["_at"]):
                if prev_at is not None and at is not pd.NaT and at - prev_at <= window:
                    minutes = (at - prev_at).total_seconds() / 60
                    out.append(_flag(rid, "duplicate", _detail("duplicate_web", first=prev_id, minutes=f"{minutes:.0f}")))
                prev_id, prev_at = rid, at
    return out


def holm(p_values: Iterable[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as given)."""
    p = np.asarray(list(p_values), dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def interviewer_outliers(frame: pd.DataFrame, items: list[str], settings: QCSettings,
                         item_labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    from scipy.stats import chi2_contingency
    data = frame[frame["interviewer"].notna() & (frame["interviewer"].astype(str) != "")]
    binned = data[items].apply(pd.to_numeric, errors="coerce").apply(lambda s: s.map(OUTLIER_BINS))
    tests = []  # (unit, pollster, item, p, n)
    for unit, in_unit in data.groupby("unit", sort=True):
        counts = in_unit["interviewer"].value_counts()
        for pollster, n in counts.items():
            n_rest = len(in_unit) - n
            if n < settings.outlier_min_interviews or n_rest < settings.outlier_min_interviews:
                continue
            mine = (in_unit["interviewer"] == pollster).to_numpy()
            for item in items:
                col = binned.loc[in_unit.index, item]
                table = pd.crosstab(mine, col).to_numpy()
                if table.shape != (2, table.shape[1]) or table.shape[1] < 2:
                    continue
                table = table[:, table.sum(axis=0) > 0]
                if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
                    continue
                p = float(chi2_contingency(table, correction=False)[1])
                tests.append((unit, pollster, item, p, int(n)))
    if not tests:
        return []
    adjusted = holm(t[3] for t in tests)
    hits: dict[tuple[str, str], list[tuple[str, float]]] = {}
    sizes: dict[tuple[str, str], int] = {}
    for (unit, pollster, item, _, n), p_adj in zip(tests, adjusted):
        if p_adj < settings.outlier_alpha:
            hits.setdefault((unit, pollster), []).append((item, float(p_adj)))
            sizes[(unit, pollster)] = n
    out = []
    labels = item_labels or {}
    for (unit, pollster), found in sorted(hits.items()):
        found.sort(key=lambda x: x[1])
        which = "、".join(f"{labels.get(i, i)} p={p:.2g}" for i, p in found[:3])
        detail = _detail("interviewer_outlier", pollster=pollster, unit=unit, items=which, n=sizes[(unit, pollster)],
                         alpha=f"{settings.outlier_alpha:g}")
        rows = data[(data["unit"] == unit) & (data["interviewer"] == pollster)]
        out += [_flag(rid, "interviewer_outlier", detail) for rid in rows["response_id"]]
    return out


def compute_flags(frame: pd.DataFrame, items: list[str], settings: QCSettings | None = None,
                  contact_hashes: dict[str, str] | None = None,
                  item_labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every flag of the four rules for a flat responses frame: response_id, flag, detail.

    `frame` needs response_id, unit, mode, interviewer, submitted_at, duration_s, the
    demographics and the item columns. One flag per response and rule (details joined).
    """
    settings = settings or QCSettings()
    found = (speeders(frame, settings) + straightliners(frame, items, settings)
             + duplicates(frame, items, settings, contact_hashes)
             + interviewer_outliers(frame, items, settings, item_labels))
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for f in found:
        key = (f["response_id"], f["flag"])
        if key in merged:
            if f["detail"] not in merged[key]["detail"]:
                merged[key]["detail"] += "；" + f["detail"]
        else:
            merged[key] = dict(f)
    return [merged[k] for k in sorted(merged)]


# ---- store ------------------------------------------------------------------------------
def qc_frame(store: Store, wave: str) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Every response of the wave (excluded ones too: QC describes the data as collected)."""
    qn = questionnaire_for_wave(store, wave)
    items = qn.item_ids
    columns, rows = store.response_table(wave, [*DEMOGRAPHIC_IDS, *items, "change"], include_excluded=True)
    labels = {i: qn.label(qn.question(i)) for i in items}
    return pd.DataFrame.from_records(rows, columns=columns), items, labels


def run_qc(store: Store, actor: Account, wave: str) -> QCRun:
    """Compute the flags of a wave and make them its current set (history kept)."""
    require(actor, "qc.run")
    settings = settings_for(store, wave)
    frame, items, labels = qc_frame(store, wave)
    contacts = dict(store.qc_contact_hashes(wave))
    flags = compute_flags(frame, items, settings, contacts, labels)
    run_id = store.replace_qc_flags(wave, flags, settings.model_dump(), actor.username)
    return QCRun(run_id, flags)


def current_flags(store: Store, wave: str, actor: Account | None = None) -> list[dict[str, Any]]:
    """The wave's current flags: response_id, flag, detail, run_id, unit, mode, interviewer, firm.

    With `actor`, only flags of responses that actor may read (supervisor: own firm,
    pollster: own interviews); without, all (for core callers such as back-check lists).
    """
    flags = store.qc_flags(wave)
    if actor is None or actor.can("responses.read_all"):
        return flags
    if actor.can("responses.read_firm"):
        return [f for f in flags if f["firm"] == actor.firm]
    if actor.can("responses.read_own"):
        return [f for f in flags if f["interviewer"] == actor.username]
    return []


def flagged_ids(store: Store, wave: str, flags: Iterable[str] | None = None) -> set[str]:
    """Ids of responses with a current flag (of the given kinds, default any)."""
    wanted = set(flags) if flags is not None else None
    return {f["response_id"] for f in store.qc_flags(wave) if wanted is None or f["flag"] in wanted}


def write_flags_csv(flags: list[dict[str, Any]], out: str | Path | IO[str]) -> None:
    """`response_id,flag,detail` (UTF-8 with BOM so Excel shows the Chinese details)."""
    def write(fh: IO[str]) -> None:
        w = csv.writer(fh)
        w.writerow(["response_id", "flag", "detail"])
        for f in flags:
            w.writerow([f["response_id"], f["flag"], f["detail"]])
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            write(fh)
    else:
        write(out)
