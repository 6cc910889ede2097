"""Import the submissions of an ODK form (the wave's XLSForm, `survey.xlsform`) exported by ODK Central.

ODK Central's CSV export names a field by its group path (`grp-air`, `meta-instanceID`),
splits a geopoint into `gps-Latitude`, `gps-Longitude`, `gps-Altitude`, `gps-Accuracy`
(other tools keep it as one cell `lat lon alt acc`), and adds its own columns
(`SubmissionDate`, `KEY`, `SubmitterName`, `ReviewState`, …). This module maps such a file
onto the responses format and hands it to the responses import's checks
(`survey.importing.check_rows`), so an ODK file is validated like any import: every row
first, all or nothing, one problem per row and column — worded in Chinese, with the
column named as it is in the ODK file.

- **Key**: the submission's `instanceID` (`uuid:…`). The response id is derived from it,
  so importing the same export again (or a later export that repeats it) stores nothing
  new, and the same instance with other answers is refused.
- **Mode** `door`; `start` → started_at, `end` → submitted_at (the phone's wall-clock
  time; the time zone offset Central writes is dropped), duration = end − start.
- **Paradata** (`paradata.odk`): start, end, device id, GPS (lat, lon, alt, acc), the
  instance id, Central's submission date, submitter and form version.
- A submission of an ineligible respondent (a screening answer not eligible) is a
  screen-out, not a response: it is counted and not stored.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from common.io import source_name

from survey.auth import Account, require
from survey.bootstrap import questionnaire_for_wave
from survey.errors import ImportRejected
from survey.i18n import t
from survey.importing import (FIRST_DATA_ROW, MAX_DURATION_S, ImportResult, _code, _text, check_rows,
                              id_problem, read_file)
from survey.questionnaire import Questionnaire
from survey.responses import response_id_for
from survey.store import Store
from survey.waves import get_wave

GEO_PARTS = ("Latitude", "Longitude", "Altitude", "Accuracy")
CENTRAL_COLUMNS = {"SubmissionDate": "submission_date", "SubmitterName": "submitter", "FormVersion": "form_version",
                   "KEY": "key"}
MAX_DEVICE_ID = 200


@dataclass(frozen=True)
class _Columns:
    """Where each field of the form sits in the file (original column names)."""
    by_field: dict[str, str]           # field name (air, unit, instanceID, start …) -> column
    geo_split: dict[str, str]          # Latitude … -> column, when Central split the geopoint


def _field_names(qn: Questionnaire) -> set[str]:
    return {q.id for q in qn.questions} | {"unit", "interviewer", "wave", "start", "end", "deviceid", "gps",
                                           "instanceID"}


def map_columns(columns: list[str], qn: Questionnaire, name: str) -> tuple[_Columns, list[str]]:
    """Group-path column names (`grp-air`) to the form's field names; problems for clashes."""
    fields = _field_names(qn)
    by_field: dict[str, str] = {}
    geo: dict[str, str] = {}
    problems: list[str] = []
    for col in columns:
        parts = col.split("-")
        if len(parts) >= 2 and parts[-1] in GEO_PARTS and parts[-2] == "gps":
            geo[parts[-1]] = col
            continue
        field = col if col in fields else parts[-1] if parts[-1] in fields else None
        if field is None:
            continue  # Central's own columns and notes: read below or ignored
        if field in by_field:
            problems.append(t("odk.column_twice", name=name, field=field, first=by_field[field], second=col))
            continue
        by_field[field] = col
    if "instanceID" not in by_field and "KEY" in columns:
        by_field["instanceID"] = "KEY"
    for need in ("instanceID", "unit"):
        if need not in by_field:
            problems.append(t("odk.column_missing", name=name, field=need))
    return _Columns(by_field, geo), problems


def _row(row: int, column: str, value: Any, reason: str) -> str:
    shown = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in str(value)[:80])
    return t("odk.row", row=row, column=column, value=shown, reason=reason)


def _stamp(raw: str) -> str | None:
    """ODK's `2025-10-08T09:30:12.345+08:00` as the phone's wall-clock ISO seconds; None when unreadable."""
    try:
        value = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=None).isoformat(timespec="seconds")


def _geopoint(raw: str) -> tuple[dict[str, float] | None, str | None]:
    """`lat lon [alt [acc]]` as numbers, or the reason it is refused."""
    parts = raw.split()
    if not 2 <= len(parts) <= 4:
        return None, t("odk.reason.gps_format")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None, t("odk.reason.gps_format")
    if not all(math.isfinite(v) for v in values):
        return None, t("odk.reason.gps_format")
    lat, lon = values[0], values[1]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, t("odk.reason.gps_range")
    if len(values) == 4 and values[3] < 0:
        return None, t("odk.reason.gps_accuracy")
    return dict(zip(("lat", "lon", "alt", "acc"), values)), None


# the responses import's reasons, in Chinese (anything not listed is shown as it is)
_REASONS: list[tuple[str, str]] = [
    (r"required", "odk.reason.required"),
    (r"required, but the file has no column (\S+)", "odk.reason.no_column"),
    (r"duplicate of row (\d+) in this file", "odk.reason.duplicate"),
    (r"file is imported into wave (.+)", "odk.reason.other_wave"),
    (r"not a unit of wave (\S+) \((.*)\)", "odk.reason.unit"),
    (r"not an option of (\S+) \((.*)\)", "odk.reason.option"),
    (r"respondent not eligible", "odk.reason.not_eligible"),
    (r"already stored \(.*\) with different content", "odk.reason.changed"),
    (r"must be 0 or more seconds.*", "odk.reason.duration"),
    (r"answered but skipped by show_if", "odk.reason.skipped"),
    (r"(\d+) characters, at most (\d+)", "odk.reason.too_long"),
    (r"holds invisible or control characters \((.*)\).*", "odk.reason.invisible"),
    (r"starts with = \+ - or @.*", "odk.reason.formula"),
]
_PROBLEM = re.compile(r"^row (\d+), column (.+?): value (.*) — (.*)$", re.S)
_MISSING = re.compile(r"^(.+?): column `([^`]+)` is missing \((.*)\)$", re.S)


def _chinese(problem: str, back: dict[str, str], instances: dict[str, str]) -> str:
    """A problem of the responses import in Chinese, its column (and a response id's instance) as in the ODK file."""
    missing = _MISSING.match(problem)
    if missing:
        name, field, label = missing.groups()
        return t("odk.column_absent", name=name, field=field, label=label)
    found = _PROBLEM.match(problem)
    if not found:
        return problem
    row, column, value, reason = found.groups()
    for pattern, key in _REASONS:
        m = re.fullmatch(pattern, reason, re.S)
        if m:
            reason = t(key, **{f"a{i}": g for i, g in enumerate(m.groups())})
            break
    if column == "response_id":
        value = instances.get(value, value)
    column = ", ".join(back.get(c.strip(), c.strip()) for c in column.split(","))
    return _row(int(row), column, value, reason)


def odk_frame(frame: pd.DataFrame, qn: Questionnaire, wave: str, name: str
              ) -> tuple[pd.DataFrame, list[int], dict[str, dict[str, Any]], int, list[str], dict[str, str]]:
    """The ODK rows as responses-format rows.

    Returns (frame, the file's row number of each kept row, paradata by response id,
    screen-outs left out, problems of the ODK columns, field -> ODK column for messages).
    """
    cols, problems = map_columns(list(frame.columns), qn, name)
    if problems:
        return pd.DataFrame(), [], {}, 0, problems, {}
    by = cols.by_field
    back = {f: c for f, c in by.items()}
    back.update({"response_id": by["instanceID"], "started_at": by.get("start", "start"),
                 "submitted_at": by.get("end", "end"), "duration_s": "start/end"})
    screening = qn.by_role("screening")
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    paradata: dict[str, dict[str, Any]] = {}
    screened_out = 0
    for i, cell in enumerate(frame.to_dict("records")):
        number = i + FIRST_DATA_ROW
        text = {c: _text(v) for c, v in cell.items()}
        get = lambda field: text.get(by[field], "") if field in by else ""  # noqa: E731
        found: list[str] = []
        instance = get("instanceID")
        if not instance:
            found.append(_row(number, by["instanceID"], "", t("odk.reason.required")))
        elif (reason := id_problem(instance)) or len(instance) > 200:
            found.append(_row(number, by["instanceID"], instance, reason or t("odk.reason.too_long", a0=len(instance),
                                                                                  a1=200)))
        codes = {q.id: _code(q, qn, get(q.id)) for q in screening if get(q.id)}
        if screening and codes and not all(codes.get(q.id) in (q.eligible or []) for q in screening
                                           if q.id in codes):
            screened_out += 1  # a screen-out: recorded by the phone, not a response
            continue
        stamps = {}
        for field in ("start", "end"):
            if get(field):
                stamps[field] = _stamp(get(field))
                if stamps[field] is None:
                    found.append(_row(number, by[field], get(field), t("odk.reason.timestamp")))
        duration = ""
        if stamps.get("start") and stamps.get("end"):
            seconds = (dt.datetime.fromisoformat(stamps["end"]) - dt.datetime.fromisoformat(stamps["start"])
                       ).total_seconds()
            if seconds < 0:
                found.append(_row(number, f"{by['start']}, {by['end']}", f"{get('start')} / {get('end')}",
                                  t("odk.reason.end_before_start")))
            elif seconds > MAX_DURATION_S:
                found.append(_row(number, f"{by['start']}, {by['end']}", f"{get('start')} / {get('end')}",
                                  t("odk.reason.duration")))
            else:
                duration = f"{seconds:g}"
        device = get("deviceid")
        if device and ((reason := id_problem(device)) or len(device) > MAX_DEVICE_ID):
            found.append(_row(number, by["deviceid"], device,
                              reason or t("odk.reason.too_long", a0=len(device), a1=MAX_DEVICE_ID)))
        gps = None
        if cols.geo_split:
            parts = [text.get(cols.geo_split[p], "") for p in GEO_PARTS if p in cols.geo_split]
            raw_gps, gps_col = " ".join(p for p in parts if p), ", ".join(cols.geo_split.values())
        else:
            raw_gps, gps_col = get("gps"), by.get("gps", "gps")
        if raw_gps:
            gps, reason = _geopoint(raw_gps)
            if reason:
                found.append(_row(number, gps_col, raw_gps, reason))
        if found:
            problems += found
            continue
        rid = response_id_for(f"odk:{wave}:{instance}")
        rows.append({**{q.id: get(q.id) for q in qn.questions if q.id in by},
                     "response_id": rid, "wave": get("wave"), "unit": get("unit"), "mode": "door",
                     "interviewer": get("interviewer"), "started_at": stamps.get("start") or "",
                     "submitted_at": stamps.get("end") or "", "duration_s": duration})
        numbers.append(number)
        central = {key: text[col] for col, key in CENTRAL_COLUMNS.items() if text.get(col)}
        paradata[rid] = {"odk": {"instance_id": instance, "start": stamps.get("start"), "end": stamps.get("end"),
                                 "device_id": device or None, "gps": gps, **central}}
        if gps:  # the door evidence's position (map, GPS QC flags): the form asks it at the door, first
            paradata[rid]["geo"] = {"start": {"lat": gps["lat"], "lon": gps["lon"], "accuracy": gps.get("acc"),
                                              "at": stamps.get("start") or stamps.get("end")}}
    columns = ["response_id", "wave", "unit", "mode", "interviewer", "started_at", "submitted_at", "duration_s",
               *[q.id for q in qn.questions if q.id in by]]
    return pd.DataFrame(rows, columns=columns), numbers, paradata, screened_out, problems, back


def import_odk(store: Store, actor: Account, wave: str, source: str | Path | IO[bytes],
               name: str | None = None) -> ImportResult:
    """Validate an ODK Central CSV (or .xlsx) export of the wave's form and store its new submissions.

    All or nothing: any problem raises ImportRejected (Chinese, row and ODK column named)
    and stores nothing. Importing the same file again stores nothing new.
    """
    require(actor, "responses.import")
    w = get_wave(store, wave)
    frame, raw = read_file(source, name)
    name = source_name(source, name)
    qn = questionnaire_for_wave(store, wave)
    if frame.empty:
        raise ImportRejected([t("odk.empty", name=name)])
    mapped, numbers, paradata, screened_out, problems, back = odk_frame(frame, qn, wave, name)
    records: list[dict[str, Any]] = []
    unchanged = 0
    if not mapped.empty:
        records, unchanged, more = check_rows(store, w, qn, mapped, name, row_numbers=numbers)
        instances = {rid: p["odk"]["instance_id"] for rid, p in paradata.items()}
        problems += [_chinese(p, back, instances) for p in more]
    if problems:
        raise ImportRejected(sorted(problems, key=_row_key))
    for rec in records:
        rec["paradata"] = {**rec["paradata"], **paradata[rec["response_id"]]}
        rec["source"] = "odk"
    digest = hashlib.sha256(raw).hexdigest()
    out = store.import_responses(records, actor.username, wave,
                                 {"file": name, "sha256": digest, "rows": len(frame), "kind": "odk",
                                  "screened_out": screened_out}) if records else []
    created = sum(new for _, new in out)
    return ImportResult(wave, len(frame), created, unchanged + len(out) - created, digest, screened_out)


def _row_key(problem: str) -> tuple[int, str]:
    found = re.match(r"\D*(\d+)", problem)
    return (int(found.group(1)) if found else 0, problem)
