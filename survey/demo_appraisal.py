"""A realistic synthetic appraisal wave (部门评议): residents of every district rate many units.

Most respondents know only a few units (不了解 is the common answer, and provincial units are
the least known); those aware of a unit rate it, older respondents a little more kindly. The
web respondents see the units in a random order, kept in paradata as on the real web list.
Deterministic per seed: submit keys derive from it, so a rerun stores nothing new.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from survey.auth import SYSTEM, Account
from survey.demo import AGE_GROUPS, AGE_SHARE, CUTS, DEMO_FIRM, EDUCATION, MEDIAN_DURATION, MODE_SHARE, UNIT_SHARE, \
    pollsters
from survey.questionnaire import Questionnaire
from survey.responses import build_record
from survey.store import Store

DEMO_APPRAISAL_WAVE = "2025-评议"
APPRAISAL_QUESTIONNAIRE = "appraisal-2025"
AWARENESS = {"department": 0.45, "provincial": 0.15, "soe": 0.55}   # typical share aware, by type
DEMO_START = dt.datetime(2025, 11, 3, 9, 0, 0)


def generate_appraisal(n: int, seed: int, wave: dict[str, Any], qn: Questionnaire) -> list[dict[str, Any]]:
    """n response specs (unit, mode, pollster, answers, times, paradata) of an appraisal wave."""
    rng = np.random.default_rng(seed)
    districts = [u for u in UNIT_SHARE if u in wave["units"]] or list(wave["units"])
    share = np.array([UNIT_SHARE.get(u, 1.0) for u in districts])
    rated = qn.rated_units
    known = np.array([AWARENESS[u.type] * rng.uniform(0.5, 1.5) for u in rated])
    effect = rng.normal(0.2, 0.45, len(rated))
    dims = [d.id for d in qn.unit_dimensions]
    staff = pollsters()
    out = []
    for i in range(n):
        district = districts[rng.choice(len(districts), p=share / share.sum())]
        mode = str(rng.choice(list(MODE_SHARE), p=list(MODE_SHARE.values())))
        pollster = None if mode == "web" else staff[int(rng.integers(0, len(staff)))]
        age = AGE_GROUPS[rng.choice(5, p=AGE_SHARE)]
        answers: dict[str, Any] = {"age18": 1, "resident": 1, "sex": "女" if rng.random() < 0.57 else "男",
                                   "age_group": age, "education": EDUCATION[rng.choice(4)]}
        person = rng.normal(0, 0.6) + (0.2 if age == "60+" else 0)
        outgoing = rng.normal(0, 0.6)  # some people know many units, some none
        if rng.random() < 0.01:  # the odd respondent who "knows" every unit and rates them all alike (QC flags)
            code = int(rng.choice([4, 5]))
            answers.update({f"{u.id}_aware": 1 for u in rated} | {u.id: code for u in rated})
            rated_here: list = []
        else:
            rated_here = list(rated)
        for k, unit in enumerate(rated_here):
            p_aware = 1 / (1 + np.exp(-(np.log(known[k] / (1 - known[k])) + outgoing)))
            if rng.random() >= min(p_aware, 0.97):
                answers[f"{unit.id}_aware"] = 2
                continue
            answers[f"{unit.id}_aware"] = 1
            if rng.random() < 0.06:
                answers[unit.id] = 9
            else:
                answers[unit.id] = int(np.searchsorted(CUTS, person + effect[k] + rng.normal(0, 0.8)) + 1)
            for d in dims:
                if rng.random() < 0.7:
                    answers[f"{unit.id}_{d}"] = int(np.searchsorted(CUTS, person + effect[k] + rng.normal(0, 0.9)) + 1)
        paradata = {"unit_order": [rated[j].id for j in rng.permutation(len(rated))]} if mode == "web" else {}
        start = DEMO_START + dt.timedelta(days=int(rng.integers(0, 30)), seconds=int(rng.integers(0, 11 * 3600)))
        duration = float(round(1.4 * MEDIAN_DURATION[mode] * np.exp(rng.normal(0, 0.3))))
        out.append({"unit": district, "mode": mode, "interviewer": pollster, "answers": answers,
                    "started_at": start.isoformat(timespec="seconds"),
                    "submitted_at": (start + dt.timedelta(seconds=duration)).isoformat(timespec="seconds"),
                    "duration_s": duration, "paradata": paradata})
    return out


def store_demo_appraisal(store: Store, wave: str, n: int, seed: int, qn: Questionnaire,
                         actor: Account = SYSTEM) -> int:
    """Store n demo appraisal responses in one transaction; returns how many were new."""
    w = store.wave(wave)
    if w is None:
        raise KeyError(wave)
    records = [build_record(qn, w, unit=g["unit"], mode=g["mode"], answers=g["answers"],
                            submit_key=f"demo:{wave}:{seed}:{i}", source="demo", interviewer=g["interviewer"],
                            firm=DEMO_FIRM if g["interviewer"] else None, started_at=g["started_at"],
                            submitted_at=g["submitted_at"], duration_s=g["duration_s"], created_by=actor.username,
                            paradata=g["paradata"])
               for i, g in enumerate(generate_appraisal(n, seed, w, qn))]
    return sum(created for _, created in store.insert_responses(records, actor.username))
