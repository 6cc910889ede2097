"""Door-location QC flags on constructed points (analysis.geo_checks), and their place in the QC run."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.geo_checks import far_from_community, haversine_km, same_spot, too_fast
from survey.door_evidence import parse_fix, points_frame

# 厦门 思明区 near 中山路; 0.001° of latitude is 111.2 m, of longitude here about 102 m
LAT, LON = 24.4500, 118.0800
M_LAT = 1 / 111_195  # degrees of latitude per metre


def point(rid, pollster, dlat_m=0.0, dlon_m=0.0, community="中华街道", start="2025-10-15T09:00:00",
          end="2025-10-15T09:20:00"):
    lat, lon = LAT + dlat_m * M_LAT, LON + dlon_m * M_LAT / math.cos(math.radians(LAT))
    return {"response_id": rid, "interviewer": pollster, "community": community, "lat": lat, "lon": lon,
            "start_lat": lat, "start_lon": lon, "end_lat": lat, "end_lon": lon, "started_at": start,
            "submitted_at": end}


def frame(rows):
    return pd.DataFrame(rows)


def test_haversine_against_a_known_distance():
    # one degree of latitude along a meridian: 111.195 km on the mean-radius sphere
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(111.195, abs=0.001)
    # 厦门 to 福州 (24.48, 118.09) -> (26.07, 119.30): about 213 km (great circle)
    assert float(haversine_km(24.48, 118.09, 26.07, 119.30)) == pytest.approx(213, abs=3)


def test_same_spot_flags_a_pollsters_cluster_not_neighbours_nor_other_pollsters():
    rows = [point("R1", "P1"), point("R2", "P1", 5), point("R3", "P1", 0, 8),        # within 15 m of each other
            point("R4", "P1", 40), point("R5", "P1", 200),                              # 40 m, 200 m away
            point("R6", "P2"), point("R7", "P2", 3),                                    # P2: only two
            point("R8", "P3", 14.9), point("R9", "P3"), point("R10", "P3", 30)]         # a chain, not a spot
    flags = same_spot(frame(rows), radius_m=15, min_count=3)
    assert [f.response_id for f in flags] == ["R1", "R2", "R3"]
    assert flags[0].values["n"] == 3
    assert same_spot(frame(rows), radius_m=15, min_count=4) == []
    assert [f.response_id for f in same_spot(frame(rows[::-1]), 15, 3)] == ["R1", "R2", "R3"]  # row order


def test_far_from_community_uses_the_median_of_the_others():
    rows = [point(f"R{i}", "P1", 100 * i, 0) for i in range(5)]                        # within 400 m
    rows += [point("RX", "P2", 3000, 0)]                                                 # 3 km north
    rows += [point("RY", "P2", 9000, 0, community="鼓浪屿")]                              # alone in its community
    flags = far_from_community(frame(rows), max_km=2.0, min_others=3)
    assert [f.response_id for f in flags] == ["RX"]
    assert flags[0].values["km"] == pytest.approx(2.8, abs=0.05)  # from the others' median (200 m)
    assert far_from_community(frame(rows), max_km=3.0, min_others=3) == []
    assert far_from_community(frame(rows[:2] + rows[5:6]), max_km=2.0, min_others=3) == []  # too few others


def test_too_fast_between_consecutive_interviews():
    rows = [point("R1", "P1", 0, 0, start="2025-10-15T09:00:00", end="2025-10-15T09:20:00"),
            # 5 km away 10 minutes later: 30 km/h, plausible by car
            point("R2", "P1", 5000, 0, start="2025-10-15T09:30:00", end="2025-10-15T09:50:00"),
            # 20 km away 10 minutes later: 120 km/h
            point("R3", "P1", 25000, 0, start="2025-10-15T10:00:00", end="2025-10-15T10:20:00"),
            # 500 m away 1 minute later: fast but under the 1 km floor (GPS jitter, same block)
            point("R4", "P1", 25500, 0, start="2025-10-15T10:21:00", end="2025-10-15T10:40:00"),
            # starts before the previous one ended, 3 km away
            point("R5", "P1", 28500, 0, start="2025-10-15T10:39:00", end="2025-10-15T10:59:00"),
            # another pollster far away at the same time is no travel of P1
            point("R6", "P2", -50000, 0, start="2025-10-15T09:25:00", end="2025-10-15T09:45:00")]
    flags = {f.response_id: f for f in too_fast(frame(rows), max_kmh=60, min_km=1)}
    assert sorted(flags) == ["R3", "R5"]
    assert flags["R3"].values["kmh"] == pytest.approx(120, abs=1) and flags["R3"].values["previous"] == "R2"
    assert flags["R5"].values["kmh"] is None
    assert sorted(f.response_id for f in too_fast(frame(rows[::-1]), 60, 1)) == ["R3", "R5"]
    assert sorted(f.response_id for f in too_fast(frame(rows), max_kmh=150, min_km=1)) == ["R5"]


def test_parse_fix_keeps_bad_positions_as_errors():
    good = parse_fix({"coords": {"latitude": 24.45, "longitude": 118.08, "accuracy": 12.3}, "timestamp": 1.76e12})
    assert (good["lat"], good["lon"], good["accuracy"]) == (24.45, 118.08, 12.3) and good["at"]
    assert parse_fix({"coords": {"latitude": 124.0, "longitude": 118.0}})["error"] == "out_of_range"
    assert parse_fix({"coords": {"latitude": float("nan"), "longitude": 1}})["error"] == "out_of_range"
    assert parse_fix({"coords": {"latitude": 24, "longitude": 118, "accuracy": -1}})["error"] == "bad_accuracy"
    assert parse_fix({"error": {"code": 1, "message": "denied"}}) == {"error": "1"}
    assert parse_fix(None) == {"error": "none"}


def test_points_frame_reads_door_paradata():
    rows = [{"response_id": "R1", "interviewer": "P1", "unit": "思明区", "started_at": "2025-10-15T09:00:00",
             "submitted_at": "2025-10-15T09:20:00",
             "paradata": {"household": {"community": "中华街道"},
                          "evidence": {"geo": {"start": {"lat": 24.45, "lon": 118.08, "accuracy": 10, "at": "x"},
                                               "submit": {"lat": 24.46, "lon": 118.09, "accuracy": 8,
                                                          "at": "2025-10-15T09:19:00"}}}}},
            {"response_id": "R2", "interviewer": "P1", "unit": "思明区", "started_at": None,
             "submitted_at": "2025-10-15T10:00:00", "paradata": '{"geo": {"start": {"error": "1"}}}'}]
    pts = points_frame(rows)
    assert pts.loc[0, ["lat", "lon", "start_lat", "community", "submitted_at"]].tolist() == [
        24.46, 118.09, 24.45, "中华街道", "2025-10-15T09:19:00"]
    assert pd.isna(pts.loc[1, "lat"])


def test_gps_flags_join_the_qc_run(store, accounts):
    from survey.quality import run_qc
    from survey.responses import submit_interview
    from tests.conftest import complete_answers
    for i in range(3):  # three door interviews of p1 from one spot
        geo = {"start": {"lat": LAT, "lon": LON + i * 1e-5, "accuracy": 8, "at": f"2025-10-15T0{i + 1}:00:00"},
               "submit": {"lat": LAT, "lon": LON + i * 1e-5, "accuracy": 8, "at": f"2025-10-15T0{i + 1}:20:00"}}
        submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="door", answers=complete_answers(),
                         submit_key=f"geo:{i}", paradata={"household": {"community": "中华街道"},
                                                          "evidence": {"geo": geo}})
    flags = run_qc(store, accounts["ana"], "2025").flags
    spot = [f for f in flags if f["flag"] == "gps_same_spot"]
    assert len(spot) == 3 and "3 份入户访问在 15.0 米范围内" in spot[0]["detail"]
