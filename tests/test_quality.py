"""QC rules at their boundaries on constructed data; stored runs; analysis with or without flags;
exclusions and their undo in the audit log."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from survey import quality
from survey.auth import SYSTEM, PermissionDenied
from analysis import hypothesis_tests
from survey.quality import QCSettings, compute_flags
from survey.responses import build_record, exclusions_applied, responses_frame, set_excluded
from survey.bootstrap import questionnaire_for_wave
from tests.conftest import ROOT, complete_answers

ITEMS = ["air", "water", "sea", "noise", "waste", "greenery", "rural", "enforcement", "publicity", "overall"]
MIXED = [4, 5, 3, 4, 2, 5, 4, 3, 4, 4]


def frame_of(rows: list[dict]) -> pd.DataFrame:
    base = {"unit": "思明区", "mode": "phone", "interviewer": "P01", "submitted_at": "2025-10-08T09:00:00",
            "duration_s": 300.0, "sex": "女", "age_group": "40-49", "education": "大专", "change": 3}
    out = []
    for i, row in enumerate(rows):
        rec = {"response_id": f"R{i:03d}", **base, **dict(zip(ITEMS, MIXED))}
        rec.update(row)
        out.append(rec)
    return pd.DataFrame(out)


def flags_of(frame: pd.DataFrame, settings: QCSettings | None = None, only: str | None = None,
             **kw) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for f in compute_flags(frame, ITEMS, settings or QCSettings(), **kw):
        if only and f["flag"] != only:
            continue
        out.setdefault(f["response_id"], {})[f["flag"]] = f["detail"]
    return out


def test_speeder_at_the_ratio_boundary():
    # nine phone interviews of 300 s: median 300, limit 0.3 × 300 = 90 s
    frame = frame_of([{} for _ in range(9)] + [{"duration_s": 90.0}, {"duration_s": 89.9}])
    flags = flags_of(frame)
    assert "R009" not in flags  # exactly at the limit
    assert "speeder" in flags["R010"] and "89.9" in flags["R010"]["speeder"] and "电话访问" in flags["R010"]["speeder"]
    assert flags_of(frame, QCSettings(speeder_ratio=0.2)).get("R010") is None  # configurable


def test_speeder_absolute_floor_and_missing_duration():
    # web median 100 s: the ratio limit (30 s) is below the 60 s floor
    frame = frame_of([{"mode": "web", "interviewer": None, "duration_s": 100.0} for _ in range(5)]
                     + [{"mode": "web", "interviewer": None, "duration_s": d} for d in (60.0, 59.0, None)])
    flags = flags_of(frame, only="speeder")  # (identical web answers are also duplicates here)
    assert set(flags) == {"R006"}
    assert "最短时长 60 秒" in flags["R006"]["speeder"]


def test_straightliner_at_eight_valid_items():
    nine = {"sea": 9, "rural": 9}
    rows = [
        {**dict.fromkeys(ITEMS, 5), **nine},                        # 8 valid, all 5: flagged
        {**dict.fromkeys(ITEMS, 5), **nine, "noise": None},         # 7 valid: not judged
        {**dict.fromkeys(ITEMS, 5), **nine, "noise": 4},            # 8 valid, not all the same
        dict.fromkeys(ITEMS, 9),                                    # only 不了解: no valid answers
        dict.fromkeys(ITEMS, 2),                                    # 10 valid, all 2
    ]
    flags = flags_of(frame_of(rows))
    assert set(flags) == {"R000", "R004"}
    assert flags["R000"]["straightliner"] == "8 个有效满意度题目全部回答 5"
    assert set(flags_of(frame_of(rows), QCSettings(straightliner_min_items=9))) == {"R004"}


def test_duplicate_contact_hash_flags_the_later_ones():
    frame = frame_of([{"submitted_at": f"2025-10-0{d}T10:00:00"} for d in (3, 1, 2, 4)])
    contacts = {"R000": "h1", "R001": "h1", "R002": "h1", "R003": "h2"}
    flags = flags_of(frame, contact_hashes=contacts)
    assert set(flags) == {"R000", "R002"}  # R001 is the earliest of h1
    assert flags["R000"]["duplicate"] == "与问卷 R001 的联系方式相同"


def test_web_duplicate_within_the_window():
    web = {"mode": "web", "interviewer": None}
    rows = [{**web, "submitted_at": "2025-10-08T10:00:00"},
            {**web, "submitted_at": "2025-10-08T10:30:00"},          # 30 min after R000: flagged
            {**web, "submitted_at": "2025-10-08T11:01:00"},          # 31 min after R001: not
            {**web, "submitted_at": "2025-10-08T11:05:00", "unit": "湖里区"},   # other unit
            {**web, "submitted_at": "2025-10-08T11:06:00", "sex": "男"},        # other demographics
            {"submitted_at": "2025-10-08T10:01:00"}]                 # phone: not a web duplicate
    flags = flags_of(frame_of(rows))
    assert set(flags) == {"R001"}
    assert flags["R001"]["duplicate"] == "与问卷 R000 的答案及人口特征完全相同，间隔 30 分钟"


def _interviews(rng: np.random.Generator, pollster: str, n: int, probs: list[float], start: int) -> list[dict]:
    codes = [5, 4, 3, 2, 1, 9]
    return [{"response_id": f"R{start + i:05d}", "interviewer": pollster,
             **{item: int(rng.choice(codes, p=probs)) for item in ITEMS}} for i in range(n)]


NORMAL = [0.30, 0.35, 0.20, 0.07, 0.03, 0.05]
SHIFTED = [0.60, 0.30, 0.05, 0.02, 0.01, 0.02]   # records many more 满意


def _unit(seed: int, shifted_n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(5):
        rows += _interviews(rng, f"P0{k}", 60, NORMAL, 1000 * k)
    rows += _interviews(rng, "P09", shifted_n, SHIFTED, 9000)
    base = frame_of([{}]).iloc[0].to_dict()
    return pd.DataFrame([{**base, **r} for r in rows])


@pytest.mark.parametrize("seed", [7, 11, 19])
def test_interviewer_with_a_shifted_distribution_is_flagged_and_normal_ones_not(seed):
    frame = _unit(seed, 60)
    flags = quality.interviewer_outliers(frame, ITEMS, QCSettings())
    p09 = set(frame.loc[frame["interviewer"] == "P09", "response_id"])
    assert {f["response_id"] for f in flags} == p09
    assert flags[0]["detail"].startswith("访问员 P09 在思明区的回答分布与本区其他访问员不同（满意及比较满意占 ")
    assert "共 60 份" in flags[0]["detail"]


def test_interviewer_needs_30_interviews():
    frame = _unit(5, 30)
    assert {f["response_id"] for f in quality.interviewer_outliers(frame, ITEMS, QCSettings())} == \
        set(frame.loc[frame["interviewer"] == "P09", "response_id"])
    fewer = frame[frame["response_id"] != frame.loc[frame["interviewer"] == "P09", "response_id"].iloc[0]]
    assert quality.interviewer_outliers(fewer, ITEMS, QCSettings()) == []


def test_answers_of_one_respondent_are_not_independent_evidence():
    # a pollster whose respondents answer all ten items alike (same draw), same distribution
    # as the others: pooled answers look like 10x the data, the clustered test is not fooled
    rng = np.random.default_rng(3)
    rows = []
    for k in range(4):
        for i in range(60):
            if k == 0:
                code = int(rng.choice([5, 4, 3, 2, 1, 9], p=NORMAL))
                rows.append({"response_id": f"C{i:03d}", "interviewer": "P00", **dict.fromkeys(ITEMS, code)})
            else:
                rows += _interviews(rng, f"P0{k}", 1, NORMAL, 1000 * k + i)
    base = frame_of([{}]).iloc[0].to_dict()
    frame = pd.DataFrame([{**base, **r} for r in rows])
    assert quality.interviewer_outliers(frame, ITEMS, QCSettings()) == []


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5, 0.2])
    assert hypothesis_tests.holm(p) == pytest.approx(multipletests(p, method="holm")[1])


# ---- in the store -----------------------------------------------------------------------
def _store_responses(store, specs: list[dict]) -> list[str]:
    wave = store.wave("2025")
    qn = questionnaire_for_wave(store, "2025")
    records = []
    for i, spec in enumerate(specs):
        answers = complete_answers(**spec.pop("answers", {}))
        records.append(build_record(qn, wave, unit="思明区", mode="phone", answers=answers, submit_key=f"t:{i}",
                                    source="test", interviewer=spec.get("interviewer", "p1"),
                                    firm=spec.get("firm", "A"), submitted_at=f"2025-10-08T10:{i:02d}:00",
                                    duration_s=spec.get("duration_s", 300.0)))
    return [rid for rid, _ in store.insert_responses(records, "test")]


def test_runs_are_stored_with_history_and_a_rerun_stores_nothing(store, accounts):
    ids = _store_responses(store, [{} for _ in range(9)] + [{"duration_s": 20.0},
                                                           {"firm": "B", "interviewer": "p3", "duration_s": 10.0}])
    first = quality.run_qc(store, SYSTEM, "2025")
    assert first.run_id is not None and {f["response_id"] for f in first.flags} == {ids[9], ids[10]}
    assert quality.run_qc(store, SYSTEM, "2025").run_id is None  # same flags: nothing new
    assert len(store.qc_runs("2025")) == 1
    quality.set_settings(store, SYSTEM, "2025", speeder_ratio=0.05, speeder_floor_s=15)  # limit 15 s
    second = quality.run_qc(store, SYSTEM, "2025")
    assert second.run_id == first.run_id + 1 and {f["response_id"] for f in second.flags} == {ids[10]}
    runs = store.qc_runs("2025")
    assert [r["id"] for r in runs] == [second.run_id, first.run_id] and runs[0]["settings"]["speeder_floor_s"] == 15
    assert len(store.qc_flags("2025", run_id=first.run_id)) == 2  # history kept
    assert [f["response_id"] for f in quality.current_flags(store, "2025")] == [ids[10]]
    assert quality.current_flags(store, "2025", accounts["sup"]) == []        # firm A
    assert len(quality.current_flags(store, "2025", accounts["supb"])) == 1   # firm B
    assert quality.flagged_ids(store, "2025", ["straightliner"]) == set()


def test_settings_are_validated_and_need_the_right(store, accounts):
    with pytest.raises(quality.QCSettingsError) as err:
        quality.set_settings(store, SYSTEM, "2025", speeder_ratio=1.5, outlier_min_interviews=2)
    assert err.value.problems == ["qc.speeder_ratio: Input should be less than 1",
                                  "qc.outlier_min_interviews: Input should be greater than or equal to 5"]
    with pytest.raises(PermissionDenied):
        quality.set_settings(store, accounts["sup"], "2025", speeder_ratio=0.2)
    quality.set_settings(store, accounts["ana"], "2025", speeder_ratio=0.2)
    assert quality.settings_for(store, "2025").speeder_ratio == 0.2
    assert quality.settings_for(store, "2025").straightliner_min_items == 8  # others keep their defaults
    with pytest.raises(PermissionDenied):
        quality.run_qc(store, accounts["p1"], "2025")


def test_analysis_keeps_flagged_responses_unless_asked(store, accounts):
    straight = dict.fromkeys(ITEMS, 5)
    ids = _store_responses(store, [{} for _ in range(8)] + [{"duration_s": 20.0}, {"answers": straight}])
    quality.run_qc(store, SYSTEM, "2025")
    set_excluded(store, accounts["ana"], ids[0], True, "测试剔除")
    ana = accounts["ana"]
    assert len(responses_frame(store, ana, "2025")) == 9                       # default: only the person's exclusion
    assert len(responses_frame(store, ana, "2025", exclude_flagged=True)) == 7
    left = responses_frame(store, ana, "2025", exclude_flagged=["speeder"])
    assert ids[8] not in set(left["response_id"]) and ids[9] in set(left["response_id"])
    applied = exclusions_applied(store, "2025", exclude_flagged=True)
    reasons = {e["response_id"]: e["reason"] for e in applied}
    assert reasons == {ids[0]: "测试剔除", ids[8]: "QC: speeder", ids[9]: "QC: straightliner"}
    assert [e["response_id"] for e in exclusions_applied(store, "2025")] == [ids[0]]


def test_score_run_states_flagged_exclusions_and_verifies(store, accounts):
    from analysis.io import read_population
    from analysis.scoring import load_config
    from survey import publishing
    from survey.config import POPULATION_DIR, SCORING_DIR
    from survey.demo import store_demo
    store_demo(store, "2025", 600, 3)
    quality.run_qc(store, SYSTEM, "2025")
    n_flagged = len(quality.flagged_ids(store, "2025"))
    assert n_flagged > 0
    population = read_population(POPULATION_DIR / "xiamen-2020.csv")
    config = load_config(SCORING_DIR / "default.yaml")
    run = publishing.compute_for_wave(store, accounts["ana"], "2025", population, config, exclude_flagged=True)
    assert run.record["data_count"] == 600 - n_flagged and run.record["exclude_flagged"] is True
    assert len(run.record["exclusions"]) == n_flagged
    assert all(e["reason"].startswith("QC: ") for e in run.record["exclusions"])
    score_id = publishing.publish(store, accounts["ana"], run)
    check = publishing.verify(store, accounts["ana"], store.published_scores("2025")[0])
    assert score_id and check.identical


def test_exclusion_and_undo_are_logged_with_who_and_why(store, accounts):
    ids = _store_responses(store, [{}, {"firm": "B", "interviewer": "p3"}])
    with pytest.raises(PermissionDenied):
        set_excluded(store, accounts["sup"], ids[1], True, "不是本公司")      # firm B's response
    with pytest.raises(PermissionDenied):
        set_excluded(store, accounts["p1"], ids[0], True, "x")
    assert set_excluded(store, accounts["sup"], ids[0], True, "回访未接通，疑似虚假")
    assert set_excluded(store, accounts["ana"], ids[0], False, "回访已核实")
    log = store.audit_log("response", ids[0])
    assert [(a["action"], a["actor"]) for a in log[:2]] == [("restore", "ana"), ("exclude", "sup")]
    assert "回访未接通" in log[1]["detail"] and "回访已核实" in log[0]["detail"] and log[0]["at"]
    assert store.current_exclusions("2025") == []


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "survey", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ}, timeout=120)


def test_cli_qc_writes_flags_and_rejects_bad_thresholds(store, tmp_path):
    ids = _store_responses(store, [{} for _ in range(9)] + [{"duration_s": 20.0}])
    out = tmp_path / "qc.csv"
    done = run("qc", "--wave", "2025", "--out", str(out))
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(out, encoding="utf-8-sig")
    assert list(frame.columns) == ["response_id", "flag", "detail"]
    assert frame.values.tolist() == [[ids[9], "speeder", "时长 20 秒，低于电话访问中位数 300 秒的 0.3 倍（90 秒）"]]
    done = run("qc", "--wave", "2025", "--out", str(out), "--set", "speeder_ratio=abc", "--set", "nonsense")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == ["--set: expected KEY=VALUE, got `nonsense`"]
    done = run("qc", "--wave", "2025", "--out", str(out), "--set", "speeder_ratio=abc")
    assert done.returncode == 2 and "qc.speeder_ratio: Input should be a valid number" in done.stderr


def test_survey_score_cli_states_flagged_exclusions(store, tmp_path):
    from survey.config import POPULATION_DIR, SCORING_DIR
    from survey.demo import store_demo
    store_demo(store, "2025", 600, 3)
    flagged = len({f["response_id"] for f in quality.run_qc(store, SYSTEM, "2025").flags})
    args = ["score", "--wave", "2025", "--population", str(POPULATION_DIR / "xiamen-2020.csv"), "--config",
            str(SCORING_DIR / "default.yaml"), "--out", str(tmp_path / "r.xlsx")]
    plain = subprocess.run([sys.executable, "-m", "survey", *args], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ}, timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert "data 600 responses" in plain.stderr and "exclusions 0;" in plain.stderr
    done = subprocess.run([sys.executable, "-m", "survey", *args, "--exclude-flagged"], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"data {600 - flagged} responses" in done.stderr and f"exclusions {flagged};" in done.stderr
