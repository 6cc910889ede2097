"""Realistic synthetic responses for trying the platform and for tests.

The sample is skewed the way real phone samples are (more women, more older people),
districts and items differ, 24 pollsters work in all modes with plausible durations.
The same seed gives the same data; submit keys derive from the seed, so running the
same demo twice stores nothing new.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from survey.auth import SYSTEM, Account, assign, create_account
from survey.bootstrap import questionnaire_for_wave
from survey.questionnaire import ITEM_IDS
from survey.responses import build_record
from survey.store import Store

DEMO_FIRM = "示例调查公司"
N_POLLSTERS = 24
UNIT_SHARE = {"思明区": 0.21, "湖里区": 0.19, "集美区": 0.17, "海沧区": 0.13, "同安区": 0.15, "翔安区": 0.15}
UNIT_EFFECT = {"思明区": 0.35, "湖里区": 0.15, "集美区": 0.25, "海沧区": 0.05, "同安区": -0.15, "翔安区": -0.25}
ITEM_EFFECT = {"air": 0.55, "water": 0.2, "sea": 0.3, "noise": -0.45, "waste": 0.1, "greenery": 0.75,
               "rural": -0.1, "enforcement": -0.2, "publicity": 0.0, "overall": 0.35}
DONT_KNOW = {"air": 0.03, "water": 0.04, "sea": 0.10, "noise": 0.03, "waste": 0.04, "greenery": 0.02,
             "rural": 0.14, "enforcement": 0.16, "publicity": 0.08, "overall": 0.01}
MODE_SHARE = {"phone": 0.5, "door": 0.25, "paper": 0.1, "web": 0.15}
MEDIAN_DURATION = {"phone": 290.0, "door": 420.0, "paper": 380.0, "web": 230.0}
AGE_GROUPS = ("18-29", "30-39", "40-49", "50-59", "60+")
AGE_SHARE = (0.12, 0.15, 0.19, 0.23, 0.31)  # older than the population, as phone samples are
EDUCATION = ("初中及以下", "高中/中专", "大专", "本科及以上")
COMMENTS = ("希望加强夜间施工噪声管理", "海边垃圾要及时清理", "多建一些社区公园", "垃圾分类要坚持下去",
            "农村污水处理还需加强", "空气比以前好多了")
CUTS = np.array([-2.1, -1.3, -0.4, 0.6])  # latent -> codes 1..5
DEMO_START = dt.datetime(2025, 10, 8, 9, 0, 0)


def pollsters() -> list[str]:
    return [f"P{i:02d}" for i in range(1, N_POLLSTERS + 1)]


def generate(n: int, seed: int, wave: dict[str, Any]) -> list[dict[str, Any]]:
    """n response specs (unit, mode, interviewer, answers, times) from one seed."""
    rng = np.random.default_rng(seed)
    units = [u for u in UNIT_SHARE if u in wave["units"]] or list(wave["units"])
    share = np.array([UNIT_SHARE.get(u, 1.0) for u in units])
    unit_idx = rng.choice(len(units), size=n, p=share / share.sum())
    modes = rng.choice(list(MODE_SHARE), size=n, p=list(MODE_SHARE.values()))
    staff = pollsters()
    pollster_bias = rng.normal(0, 0.08, len(staff))
    out = []
    for i in range(n):
        unit = units[unit_idx[i]]
        mode = str(modes[i])
        # pollsters work in "their" district, four per district
        p_idx = (unit_idx[i] * 4 + int(rng.integers(0, 4))) % len(staff)
        interviewer = None if mode == "web" else staff[p_idx]
        sex = "女" if rng.random() < 0.58 else "男"
        age = AGE_GROUPS[rng.choice(5, p=AGE_SHARE)]
        edu_p = (0.45, 0.3, 0.13, 0.12) if age == "60+" else (0.15, 0.25, 0.25, 0.35)
        education = EDUCATION[rng.choice(4, p=edu_p)]
        person = rng.normal(0, 0.7) + (0.15 if age == "60+" else 0) + UNIT_EFFECT.get(unit, 0)
        person += pollster_bias[p_idx] if interviewer else -0.1
        answers: dict[str, Any] = {"age18": 1, "resident": 1, "sex": sex, "age_group": age, "education": education}
        for item in ITEM_IDS:
            dk = DONT_KNOW[item] * (1.6 if unit in ("思明区", "湖里区") and item == "rural" else 1)
            if rng.random() < dk:
                answers[item] = 9
            else:
                latent = person + ITEM_EFFECT[item] + rng.normal(0, 0.8)
                answers[item] = int(np.searchsorted(CUTS, latent) + 1)
        if answers["overall"] in (1, 2) and rng.random() < 0.4:
            answers["overall_reason"] = str(rng.choice(COMMENTS[:5]))
        answers["change"] = int(rng.choice([3, 2, 1, 9], p=[0.55, 0.3, 0.08, 0.07]))
        if rng.random() < 0.12:
            answers["comment"] = str(rng.choice(COMMENTS))
        day = int(rng.integers(0, 42))
        start = DEMO_START + dt.timedelta(days=day, seconds=int(rng.integers(0, 11 * 3600)))
        duration = float(round(MEDIAN_DURATION[mode] * np.exp(rng.normal(0, 0.3))))
        out.append({"unit": unit, "mode": mode, "interviewer": interviewer, "answers": answers,
                    "started_at": start.isoformat(timespec="seconds"),
                    "submitted_at": (start + dt.timedelta(seconds=duration)).isoformat(timespec="seconds"),
                    "duration_s": duration})
    return out


class RealDataPresent(ValueError):
    """The store holds real data: synthetic responses and published passwords must not go in."""


def check_demo_only(store: Store) -> None:
    """Refuse (RealDataPresent, one line) unless the store is empty or holds demo data only."""
    rows = {source: n for source, n in store.responses_by_source().items() if source != "demo"}
    cases = store.count_cases()
    real = ", ".join(f"{n} {source} response(s)" for source, n in rows.items()) + (
        f"{', ' if rows else ''}{cases} imported case(s)" if cases else "")
    if real:
        raise RealDataPresent(f"demo refused: the store {store.target.label} holds real data ({real}); demo responses "
                              "and demo accounts with a published password go only into an empty or demo-only "
                              "store (set SURVEY_DB to a new file)")


def ensure_demo_accounts(store: Store, wave: str, password: str) -> list[str]:
    """Pollsters P01..P24, a supervisor, a 复核员 (reviewer) of the demo firm, an analyst and the liaison
    of the wave's first unit, created once: every role can be tried on a fresh demo store."""
    created = []
    wanted: list[tuple[str, str, str | None, str]] = [(p, "pollster", DEMO_FIRM, f"访问员{p}") for p in pollsters()]
    wanted += [("supervisor", "supervisor", DEMO_FIRM, "督导"), ("reviewer", "reviewer", DEMO_FIRM, "复核员"),
               ("analyst", "analyst", None, "分析员")]
    units = list((store.wave(wave) or {}).get("units") or [])
    if units:
        wanted.append(("liaison", "liaison", None, f"{units[0]}联络员"))
    for username, role, firm, name in wanted:
        if store.account(username) is None:
            # the published demo password is allowed only here: demo refuses stores with real data
            create_account(store, SYSTEM, username, role, password, firm=firm, display_name=name, policy=False,
                           unit=units[0] if role == "liaison" else None)
            created.append(username)
        if role in ("pollster", "supervisor") and wave not in store.assigned_waves(username):
            assign(store, SYSTEM, username, wave=wave)  # once: a rerun adds no audit rows
    return created


def store_demo(store: Store, wave: str, n: int, seed: int, actor: Account = SYSTEM) -> int:
    """Store n demo responses in one transaction; returns how many were new."""
    w = store.wave(wave)
    if w is None:
        raise KeyError(wave)
    qn = questionnaire_for_wave(store, wave)
    firm = {p: DEMO_FIRM for p in pollsters()}
    records = [build_record(qn, w, unit=g["unit"], mode=g["mode"], answers=g["answers"],
                            submit_key=f"demo:{wave}:{seed}:{i}", source="demo", interviewer=g["interviewer"],
                            firm=firm.get(g["interviewer"] or ""), started_at=g["started_at"],
                            submitted_at=g["submitted_at"], duration_s=g["duration_s"], created_by=actor.username)
               for i, g in enumerate(generate(n, seed, w))]
    return sum(created for _, created in store.insert_responses(records, actor.username))


# outcomes of demo cases that did not end in an interview, with plausible phone-survey shares
DEMO_OUTCOMES = (("2.11", 0.30), ("2.12", 0.04), ("2.21", 0.08), ("2.33", 0.02), ("3.12", 0.05),
                 ("3.13", 0.25), ("3.21", 0.03), ("4.31", 0.12), ("4.51", 0.06), ("4.70", 0.05))


def store_demo_attempts(store: Store, wave: str, seed: int, actor: Account = SYSTEM) -> int:
    """Contact attempts behind the demo's phone and door interviews, plus the cases that gave no
    interview (about 2 per complete), so the AAPOR rates table has something to show.

    Deterministic per seed; the attempt keys derive from it, so a rerun stores nothing new.
    """
    done = [r for r in store.responses(wave) if r["source"] == "demo" and r["mode"] in ("phone", "door")]
    codes = [c for c, _ in DEMO_OUTCOMES]
    share = np.array([p for _, p in DEMO_OUTCOMES])
    share = share / share.sum()
    attempts: list[dict[str, Any]] = []
    for r in done:
        # one generator per interview: the same case history whatever else the wave holds
        rng = np.random.default_rng([seed, int.from_bytes(r["response_id"].encode(), "big") % 2**63])
        end = dt.datetime.fromisoformat(r["started_at"] or r["submitted_at"])
        case_id = f"DEMO-{r['response_id']}"
        history = [(end - dt.timedelta(days=k + 1), "3.13" if r["mode"] == "phone" else "2.24", case_id, None)
                   for k in range(int(rng.integers(0, 3)))]  # unanswered tries on the days before
        history.append((end, "1.1", case_id, r["response_id"]))
        for j in range(2):  # two cases without an interview for each complete
            code = codes[int(rng.choice(len(codes), p=share))]
            if r["mode"] == "door" and code.startswith("4.") and code != "4.70":
                code = "4.50"
            history.append((end + dt.timedelta(minutes=int(rng.integers(5, 300))), code, f"{case_id}-{j}", None))
        for n, (at, code, case, rid) in enumerate(history):
            attempts.append({"attempt_key": f"demo:{wave}:{seed}:{case}:{n}", "wave": wave, "case_id": case,
                             "unit": r["unit"], "mode": r["mode"], "interviewer": r["interviewer"],
                             "firm": DEMO_FIRM, "attempted_at": at.isoformat(timespec="seconds"),
                             "disposition": code, "label": None, "callback_at": None, "response_id": rid,
                             "note": "", "source": "demo"})
    return store.add_attempts(attempts, actor.username) if attempts else 0
