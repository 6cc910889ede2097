"""Location checks of door-to-door interviews (METHODS §5, door evidence): pure functions on a points table.

A door interview carries the browser's position at its start and at its submit
(paradata `geo`). Three patterns are worth a supervisor's look, never an exclusion by
themselves:

- same_spot: a pollster with `min_count` or more interviews whose positions lie within
  `radius_m` of one another. Households of one apartment block are close, so the radius
  is small (15 m) and several interviews are needed (3); interviews keyed in from one
  café are what it finds.
- far_from_community: an interview more than `max_km` from the median position of the
  *other* interviews of its community (居委会/村), when the community has at least
  `min_others` other located interviews. The median resists the outlier itself.
- too_fast: consecutive interviews of one pollster (ordered by start) whose distance from
  the previous interview's end to this one's start, over the time between them, exceeds
  `max_kmh`, and the distance is above `min_km` (GPS jitter over a short gap is no travel).
  A gap of zero or less with such a distance is flagged too.

Input columns: response_id, interviewer, community, lat, lon (the interview's position:
submit fix, else start fix), start_lat, start_lon, started_at, end_lat, end_lon,
submitted_at (ISO texts); rows without a position are ignored. Results never depend on
row order: every result is sorted by response id.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


@dataclass(frozen=True)
class GeoFlag:
    response_id: str
    flag: str        # same_spot | far_from_community | too_fast
    values: dict     # numbers for the flag's detail text


def haversine_km(lat1: np.ndarray | float, lon1: np.ndarray | float,
                 lat2: np.ndarray | float, lon2: np.ndarray | float) -> np.ndarray:
    """Great-circle distance in km (haversine; under 0.5 % off the ellipsoid, ample for 15 m vs 2 km)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _located(points: pd.DataFrame) -> pd.DataFrame:
    frame = points.dropna(subset=["lat", "lon"])
    return frame.sort_values("response_id", kind="stable").reset_index(drop=True)


def same_spot(points: pd.DataFrame, radius_m: float = 15.0, min_count: int = 3) -> list[GeoFlag]:
    """Interviews of a pollster with at least `min_count - 1` of the pollster's others within `radius_m`."""
    out: list[GeoFlag] = []
    for _, group in _located(points).groupby("interviewer", sort=True):
        if len(group) < min_count:
            continue
        lat, lon = group["lat"].to_numpy(float), group["lon"].to_numpy(float)
        dist = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * 1000
        near = (dist <= radius_m).sum(axis=1)  # itself included
        for rid, n in zip(group["response_id"], near):
            if n >= min_count:
                out.append(GeoFlag(str(rid), "same_spot", {"n": int(n), "radius_m": radius_m}))
    return sorted(out, key=lambda f: f.response_id)


def far_from_community(points: pd.DataFrame, max_km: float = 2.0, min_others: int = 3) -> list[GeoFlag]:
    """Interviews farther than `max_km` from the median position of their community's other interviews."""
    out: list[GeoFlag] = []
    frame = _located(points)
    frame = frame[frame["community"].fillna("").astype(str).str.strip() != ""]
    for community, group in frame.groupby("community", sort=True):
        if len(group) < min_others + 1:
            continue
        lat, lon = group["lat"].to_numpy(float), group["lon"].to_numpy(float)
        for i, rid in enumerate(group["response_id"]):
            others = np.arange(len(group)) != i
            med_lat, med_lon = float(np.median(lat[others])), float(np.median(lon[others]))
            km = float(haversine_km(lat[i], lon[i], med_lat, med_lon))
            if km > max_km:
                out.append(GeoFlag(str(rid), "far_from_community",
                                   {"km": round(km, 2), "community": str(community), "limit": max_km}))
    return sorted(out, key=lambda f: f.response_id)


def too_fast(points: pd.DataFrame, max_kmh: float = 60.0, min_km: float = 1.0) -> list[GeoFlag]:
    """The later of two consecutive interviews of a pollster reached faster than `max_kmh` over ≥ `min_km`."""
    out: list[GeoFlag] = []
    frame = _located(points).copy()
    for col, fallback in (("start_lat", "lat"), ("start_lon", "lon"), ("end_lat", "lat"), ("end_lon", "lon")):
        frame[col] = frame[col].where(frame[col].notna(), frame[fallback]) if col in frame else frame[fallback]
    frame["t_start"] = pd.to_datetime(frame["started_at"].where(frame["started_at"].notna(), frame["submitted_at"]),
                                      errors="coerce", format="ISO8601")
    frame["t_end"] = pd.to_datetime(frame["submitted_at"], errors="coerce", format="ISO8601")
    frame = frame.dropna(subset=["t_start", "t_end"])  # a time that cannot be read judges no speed
    for _, group in frame.groupby("interviewer", sort=True):
        group = group.sort_values(["t_start", "response_id"], kind="stable")
        prev = None
        for row in group.itertuples(index=False):
            if prev is not None:
                km = float(haversine_km(prev.end_lat, prev.end_lon, row.start_lat, row.start_lon))
                hours = (row.t_start - prev.t_end).total_seconds() / 3600
                if km > min_km and (hours <= 0 or km / hours > max_kmh):
                    out.append(GeoFlag(str(row.response_id), "too_fast",
                                       {"km": round(km, 2), "minutes": round(max(hours, 0) * 60, 1),
                                        "kmh": None if hours <= 0 else round(km / hours, 1),
                                        "previous": str(prev.response_id), "limit": max_kmh}))
            prev = row
    return sorted(out, key=lambda f: f.response_id)
