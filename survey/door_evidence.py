"""Door-to-door evidence: the browser's position at an interview's start and submit, the map, the QC flags.

A door interview with the wave option `evidence.geolocation` keeps in its paradata
`evidence.geo = {"start": FIX, "submit": FIX}`, a FIX being `{lat, lon, accuracy, at}`
(degrees WGS-84, metres, ISO local time) or `{error: …}` when the browser gave none
(permission refused, no signal). `parse_fix` is the boundary check: a position out of
range, non-finite or with a negative accuracy is kept as an error, never as a point.
Positions read from a top-level `geo` block (other collection paths) are read the same way.

The QC flags (`gps_same_spot`, `gps_far`, `gps_too_fast`) are computed by
analysis.geo_checks on these points with the wave's QC thresholds and join the regular
QC run (survey.quality.run_qc).
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis import geo_checks
from survey import i18n
from survey.auth import Account, scope
import json

POINT_COLUMNS = ("response_id", "interviewer", "unit", "community", "lat", "lon", "accuracy", "start_lat",
                 "start_lon", "end_lat", "end_lon", "started_at", "submitted_at")


def parse_fix(raw: Any, at: str | None = None) -> dict[str, Any]:
    """A browser position (the Geolocation API's `{coords: {...}, timestamp}` or a stored FIX) as a FIX."""
    if not isinstance(raw, Mapping):
        return {"error": "none"}
    if "error" in raw and "coords" not in raw:
        err = raw.get("error")
        code = err.get("code") if isinstance(err, Mapping) else err
        return {"error": str(code)[:40]}
    coords = raw.get("coords", raw)
    try:
        lat, lon = float(coords["latitude" if "latitude" in coords else "lat"]), \
            float(coords["longitude" if "longitude" in coords else "lon"])
        accuracy = float(coords.get("accuracy")) if coords.get("accuracy") is not None else None
    except (KeyError, TypeError, ValueError):
        return {"error": "unreadable"}
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return {"error": "out_of_range"}
    if accuracy is not None and (not math.isfinite(accuracy) or accuracy < 0):
        return {"error": "bad_accuracy"}
    when = at
    stamp = raw.get("timestamp")
    if when is None and isinstance(stamp, (int, float)) and math.isfinite(stamp) and stamp > 0:
        when = dt.datetime.fromtimestamp(stamp / 1000).isoformat(timespec="seconds")
    if when is None:
        when = str(raw.get("at") or dt.datetime.now().isoformat(timespec="seconds"))
    return {"lat": round(lat, 7), "lon": round(lon, 7),
            "accuracy": None if accuracy is None else round(accuracy, 1), "at": when}


def _fix(value: Any) -> dict[str, Any] | None:
    fix = parse_fix(value) if isinstance(value, Mapping) and "error" not in value else None
    return fix if fix and "error" not in fix else None


def points_frame(rows: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Door interviews (rows with paradata) as the points table of analysis.geo_checks."""
    out = []
    for r in rows:
        para = r["paradata"] if isinstance(r["paradata"], Mapping) else json.loads(r["paradata"] or "{}")
        geo = (para.get("evidence") or {}).get("geo") or para.get("geo") or {}
        start, end = _fix(geo.get("start")), _fix(geo.get("submit") or geo.get("end"))
        where = end or start
        out.append({"response_id": r["response_id"], "interviewer": r["interviewer"] or "", "unit": r["unit"],
                    "community": str((para.get("household") or {}).get("community") or ""),
                    "lat": where["lat"] if where else None, "lon": where["lon"] if where else None,
                    "accuracy": where.get("accuracy") if where else None,
                    "start_lat": start["lat"] if start else None, "start_lon": start["lon"] if start else None,
                    "end_lat": end["lat"] if end else None, "end_lon": end["lon"] if end else None,
                    "started_at": (start or {}).get("at") or r["started_at"],
                    "submitted_at": (end or {}).get("at") or r["submitted_at"]})
    return pd.DataFrame(out, columns=list(POINT_COLUMNS))


def door_points(store: Any, actor: Account, wave: str, firm: str | None = None) -> pd.DataFrame:
    """The located door interviews of a wave the actor may see (supervisor: own firm), for the map."""
    reach = scope(actor, "evidence.map", firm)
    frame = points_frame(store.door_paradata(wave, reach.firm))
    return frame.dropna(subset=["lat", "lon"]).reset_index(drop=True)


def geo_flags(store: Any, wave: str, qc: Any, lang: str = i18n.DEFAULT_LANG) -> list[dict[str, Any]]:
    """The wave's location flags as QC flag rows (response_id, flag, detail), thresholds from QCSettings."""
    frame = points_frame(store.door_paradata(wave))
    if frame["lat"].notna().sum() == 0:
        return []
    found = (geo_checks.same_spot(frame, qc.gps_same_spot_m, qc.gps_same_spot_min)
             + geo_checks.far_from_community(frame, qc.gps_community_km, qc.gps_community_min_others)
             + geo_checks.too_fast(frame, qc.gps_max_kmh, qc.gps_min_km))
    names = {"same_spot": "gps_same_spot", "far_from_community": "gps_far", "too_fast": "gps_too_fast"}
    out = []
    for f in found:
        values = {k: ("—" if v is None else v) for k, v in f.values.items()}
        out.append({"response_id": f.response_id, "flag": names[f.flag],
                    "detail": i18n.t(f"quality.detail.{names[f.flag]}", lang, **values)})
    return out
