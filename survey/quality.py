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
- aware_all (appraisal waves): aware of (了解/接触过) every one of at least 3 rated units: few
  residents know every department, provincial unit and SOE, so such a respondent is worth a look.
  In appraisal waves the straight-liner rule reads the ratings of the rated units instead of
  the district items, with `straightliner_min_ratings` (5) valid ratings needed.
- interviewer_outlier: in each unit, each pollster with at least `outlier_min_interviews`
  (30) interviews is compared with the other pollsters of that unit (who must have as
  many): a chi-square test of the distribution of all satisfaction answers (bins 1-2, 3,
  4, 5, 9), with interviews as clusters (Wald test, as R's svychisq); the p-values of
  every test in the wave are Holm-adjusted, and the pollster with the smallest adjusted
  p < `outlier_alpha` (0.01) is flagged (every interview in that unit) and left out of
  the rest; the others are tested again until none is below the threshold.

Storage: each run is a QC run with its settings; the latest run of a wave is its current
flag set, earlier runs stay as history. A run whose flags equal the current set stores
nothing (idempotent).
"""
from __future__ import annotations

from common.errors import Invalid

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analysis.hypothesis_tests import cluster_chi2, holm
from survey import i18n
from survey.auth import Account, require
from survey.bootstrap import questionnaire_for_wave
from survey.outputs import atomic_output, csv_cell
from survey.questionnaire import DEMOGRAPHIC_IDS
from survey.store import Store, StoreError
from survey.waves import get_wave

FLAGS = ("speeder", "straightliner", "duplicate", "interviewer_outlier", "aware_all",
         "gps_same_spot", "gps_far", "gps_too_fast")  # gps_*: door locations (survey.door_evidence)
AWARE_ALL_MIN_UNITS = 3
OUTLIER_BINS = {1: "1-2", 2: "1-2", 3: "3", 4: "4", 5: "5", 9: "9"}
BINS = ("1-2", "3", "4", "5", "9")


class QCSettings(BaseModel):
    """Thresholds of the QC rules for one wave; defaults as METHODS.md §5."""
    # inf / nan refused: `duplicate_window_minutes=inf` was stored as Infinity and crashed every later run
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    speeder_ratio: float = Field(0.3, gt=0, lt=1, description="share of the mode's median duration")
    speeder_floor_s: float = Field(60.0, ge=0, le=7200, description="absolute minimum duration in seconds")
    straightliner_min_items: int = Field(8, ge=2, le=1000, description="valid item answers needed to judge")
    straightliner_min_ratings: int = Field(5, ge=2, le=1000, description="appraisal waves: valid ratings needed to judge")
    duplicate_window_minutes: float = Field(30.0, ge=0, le=60 * 24 * 31,
                                            description="web duplicates: time between submissions")
    outlier_alpha: float = Field(0.01, gt=0, lt=1, description="Holm-adjusted p below which a pollster is flagged")
    outlier_min_interviews: int = Field(30, ge=5, le=100_000, description="interviews a pollster (and the rest) needs")
    # door locations (analysis.geo_checks)
    gps_same_spot_m: float = Field(15.0, gt=0, le=10_000, description="same spot: radius in metres")
    gps_same_spot_min: int = Field(3, ge=2, le=1000, description="same spot: interviews of a pollster within it")
    gps_community_km: float = Field(2.0, gt=0, le=1000, description="far from the community's other interviews")
    gps_community_min_others: int = Field(3, ge=1, le=1000, description="other located interviews a community needs")
    gps_max_kmh: float = Field(60.0, gt=0, le=2000, description="speed between consecutive interviews")
    gps_min_km: float = Field(1.0, ge=0, le=1000, description="distance below which no speed is judged")


class QCSettingsError(Invalid):
    pass


@dataclass(frozen=True)
class QCRun:
    run_id: int | None        # None: the flags equal the current set, nothing stored
    flags: list[dict[str, Any]]


@dataclass(frozen=True)
class QCRunRecord:
    """One stored QC run of a wave: which, when, by whom."""
    id: int
    at: str
    actor: str


def qc_runs(store: Store, actor: Account, wave: str) -> list[QCRunRecord]:
    """The wave's QC runs, newest first (the history of its flag sets)."""
    require(actor, "qc.run")
    return [QCRunRecord(r["id"], r["at"], r["actor"]) for r in store.qc_runs(wave)]


def _detail(key: str, **values: Any) -> str:
    return i18n.t(f"quality.detail.{key}", **values)


# ---- settings ---------------------------------------------------------------------------
def parse_settings(values: dict[str, Any], where: str = "qc") -> QCSettings:
    try:
        return QCSettings.model_validate(values)
    except ValidationError as err:
        raise QCSettingsError([f"{where}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]) from None


def settings_for(store: Store, wave: str) -> QCSettings:
    w = get_wave(store, wave)
    return parse_settings(w["settings"].get("qc") or {}, f"wave {wave} settings qc")


def set_settings(store: Store, actor: Account, wave: str, **values: Any) -> QCSettings:
    """Change some thresholds of a wave (validated; logged by update_wave)."""
    require(actor, "qc.configure")
    w = get_wave(store, wave)
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


def straightliners(frame: pd.DataFrame, items: list[str], settings: QCSettings,
                   min_items: int | None = None) -> list[dict[str, Any]]:
    codes = _codes(frame, items)
    valid = np.isin(codes, [1, 2, 3, 4, 5])
    n_valid = valid.sum(axis=1)
    low = np.where(valid, codes, np.inf).min(axis=1)
    high = np.where(valid, codes, -np.inf).max(axis=1)
    hit = (n_valid >= (min_items or settings.straightliner_min_items)) & (low == high)
    return [_flag(rid, "straightliner", _detail("straightliner", n=int(n), code=int(c)))
            for rid, n, c in zip(frame["response_id"][hit], n_valid[hit], low[hit])]


def aware_of_all(frame: pd.DataFrame, aware_columns: list[str]) -> list[dict[str, Any]]:
    """Appraisal waves: respondents who say they know every rated unit (of at least 3)."""
    if len(aware_columns) < AWARE_ALL_MIN_UNITS:
        return []
    hit = (_codes(frame, aware_columns) == 1).all(axis=1)
    return [_flag(rid, "aware_all", _detail("aware_all", n=len(aware_columns))) for rid in frame["response_id"][hit]]


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


def _bin_counts(binned: pd.DataFrame) -> np.ndarray:
    """Per interview, how many of its satisfaction answers fall in each bin (rows × BINS)."""
    return np.column_stack([(binned == b).sum(axis=1).to_numpy() for b in BINS]).astype(float)


def interviewer_outliers(frame: pd.DataFrame, items: list[str], settings: QCSettings,
                         item_labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Pollsters whose answer distribution differs from the rest of their unit.

    One chi-square test per pollster and unit: the distribution of all the pollster's
    satisfaction answers over the bins 1-2, 3, 4, 5, 9 against that of the others in the
    unit. The ten answers of one respondent are not ten independent observations, so the
    test is the Wald chi-square with interviews as clusters (what R's `svychisq` does for
    a clustered design), not the naive contingency-table chi-square, which would flag
    pollsters on noise. Holm adjustment over all tests of the wave.

    Step by step: the pollster with the smallest adjusted p below the threshold is flagged
    and left out of "the rest of the unit", then every remaining pollster is tested again;
    otherwise one strongly deviating pollster makes the normal ones look different from a
    rest that includes him.
    """
    data = frame[frame["interviewer"].notna() & (frame["interviewer"].astype(str) != "")]
    if data.empty:
        return []
    binned = data[items].apply(pd.to_numeric, errors="coerce").apply(lambda s: s.map(OUTLIER_BINS))
    counts = _bin_counts(binned)
    keep = counts.sum(axis=1) > 0
    units = data["unit"].to_numpy()[keep]
    who = data["interviewer"].astype(str).to_numpy()[keep]
    counts = counts[keep]
    top = [BINS.index("4"), BINS.index("5")]
    outliers: dict[tuple[str, str], tuple[float, int, float, float]] = {}
    while True:  # flag the clearest outlier, leave it out of "the rest", test again
        active = ~np.array([(u, w) in outliers for u, w in zip(units, who)], dtype=bool)
        tests = []  # (unit, pollster, p, n, satisfied share, rest satisfied share)
        for unit in sorted(set(units[active])):
            in_unit = active & (units == unit)
            for pollster in sorted(set(who[in_unit])):
                mine = in_unit & (who == pollster)
                rest = in_unit & ~mine
                n = int(mine.sum())
                if n < settings.outlier_min_interviews or rest.sum() < settings.outlier_min_interviews:
                    continue
                a, b = counts[mine], counts[rest]
                share = [x[:, top].sum() / x.sum() for x in (a, b)]
                tests.append((unit, pollster, cluster_chi2(a, b), n, share[0], share[1]))
        if not tests:
            break
        adjusted = holm([t[2] for t in tests])
        best = int(np.argmin(adjusted))
        if adjusted[best] >= settings.outlier_alpha:
            break
        unit, pollster, _, n, mine_top, rest_top = tests[best]
        outliers[(unit, pollster)] = (float(adjusted[best]), n, mine_top, rest_top)
    out = []
    for (unit, pollster), (p_adj, n, mine_top, rest_top) in sorted(outliers.items()):
        detail = _detail("interviewer_outlier", pollster=pollster, unit=unit, n=n, p=f"{p_adj:.2g}",
                         alpha=f"{settings.outlier_alpha:g}", mine=f"{mine_top:.0%}", rest=f"{rest_top:.0%}")
        rows_of = data[(data["unit"] == unit) & (data["interviewer"].astype(str) == pollster)]
        out += [_flag(rid, "interviewer_outlier", detail) for rid in rows_of["response_id"]]
    return out


def compute_flags(frame: pd.DataFrame, items: list[str], settings: QCSettings | None = None,
                  contact_hashes: dict[str, str] | None = None,
                  item_labels: dict[str, str] | None = None,
                  aware_columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Every flag of the rules for a flat responses frame: response_id, flag, detail.

    `frame` needs response_id, unit, mode, interviewer, submitted_at, duration_s, the
    demographics and the item columns. One flag per response and rule (details joined).
    An appraisal wave passes its ratings as `items` and its `<id>_aware` columns as
    `aware_columns` (the straight-liner rule then uses `straightliner_min_ratings`).
    """
    settings = settings or QCSettings()
    appraisal = aware_columns is not None
    found = (speeders(frame, settings)
             + straightliners(frame, items, settings, settings.straightliner_min_ratings if appraisal else None)
             + aware_of_all(frame, aware_columns or [])
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
    items = qn.rating_ids if qn.kind == "appraisal" else qn.item_ids
    aware = [q.id for q in qn.by_role("awareness")]
    columns, rows = store.response_table(wave, [*DEMOGRAPHIC_IDS, *items, *aware, "change"], include_excluded=True)
    labels = {i: qn.label(qn.question(i)) for i in items}
    return pd.DataFrame.from_records(rows, columns=columns), items, labels


def run_qc(store: Store, actor: Account, wave: str) -> QCRun:
    """Compute the flags of a wave and make them its current set (history kept)."""
    require(actor, "qc.run")
    settings = settings_for(store, wave)
    frame, items, labels = qc_frame(store, wave)
    contacts = dict(store.qc_contact_hashes(wave))
    aware = [c for c in frame.columns if c.endswith("_aware")] \
        if questionnaire_for_wave(store, wave).kind == "appraisal" else None
    flags = compute_flags(frame, items, settings, contacts, labels, aware)
    from survey.door_evidence import geo_flags
    flags = sorted(flags + geo_flags(store, wave, settings), key=lambda f: (f["response_id"], f["flag"]))
    run_id = store.replace_qc_flags(wave, flags, settings.model_dump(), actor.username)
    if not actor.can("responses.read_all"):  # a supervisor sees the flags of responses it may read
        readable = {f["response_id"] for f in current_flags(store, wave, actor)}
        flags = [f for f in flags if f["response_id"] in readable]
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
        for f in flags:  # ids and details may hold user text: formula-safe (survey.outputs)
            w.writerow([csv_cell(f["response_id"]), f["flag"], csv_cell(f["detail"])])
    if isinstance(out, (str, Path)):
        with atomic_output(out) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            write(fh)
    else:
        write(out)


# ---- review -----------------------------------------------------------------------------
REVIEW_COLUMNS = ("response_id", "unit", "mode", "interviewer", "submitted_at", "duration_s", "flags",
                  "excluded_reason")
ANY_FLAG, NO_FLAG = "*", "-"


def review_table(store: Store, actor: Account, wave: str, *, flag: str | None = None, unit: str | None = None,
                 interviewer: str | None = None, mode: str | None = None) -> pd.DataFrame:
    """The responses `actor` may review (supervisor: own firm), with current flags and exclusion.

    `flag`: a flag name, ANY_FLAG (any flag) or NO_FLAG (none); the other filters match
    the column exactly. Columns: REVIEW_COLUMNS (`flags` comma-joined, '' when none).
    """
    from survey.responses import responses_frame
    frame = responses_frame(store, actor, wave, include_excluded=True)
    frame = frame[[c for c in REVIEW_COLUMNS if c in frame.columns and c != "flags"]]
    by_response: dict[str, list[str]] = {}
    for f in current_flags(store, wave, actor):
        by_response.setdefault(f["response_id"], []).append(f["flag"])
    frame = frame.assign(flags=frame["response_id"].map(lambda r: ", ".join(sorted(by_response.get(r, [])))))
    return filter_review(frame[list(REVIEW_COLUMNS)], flag=flag, unit=unit, interviewer=interviewer, mode=mode)


def filter_review(frame: pd.DataFrame, *, flag: str | None = None, unit: str | None = None,
                  interviewer: str | None = None, mode: str | None = None) -> pd.DataFrame:
    """Rows of a review table matching the filters (see review_table)."""
    for col, value in (("unit", unit), ("interviewer", interviewer), ("mode", mode)):
        if value:
            frame = frame[frame[col] == value]
    if flag == ANY_FLAG:
        frame = frame[frame["flags"] != ""]
    elif flag == NO_FLAG:
        frame = frame[frame["flags"] == ""]
    elif flag:
        frame = frame[frame["flags"].str.split(", ").map(lambda fl: flag in fl)]
    return frame[list(REVIEW_COLUMNS)].reset_index(drop=True)


def response_review(store: Store, actor: Account, response_id: str) -> dict[str, Any]:
    """One response for review: the record (rights checked), its flags, exclusion history and audit trail."""
    from survey.responses import read_response
    row = read_response(store, actor, response_id)
    return {
        "response": row,
        "flags": [f for f in store.qc_flags(row["wave"]) if f["response_id"] == response_id],
        "exclusions": [e for e in store.exclusions(row["wave"]) if e["response_id"] == response_id],
        "audit": store.audit_log("response", response_id),
    }
