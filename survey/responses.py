"""Responses as the core sees them: submit, read with rights, exclude, flatten.

Pages and the CLI call these functions, never the store directly, so the rights of
DESIGN.md hold whatever the UI shows.
"""
from __future__ import annotations

from common.errors import Invalid

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from survey.auth import Account, PermissionDenied, allowed, require
from survey.bootstrap import questionnaire_for_wave
from survey.config import MODES
from survey.questionnaire import DEMOGRAPHIC_IDS, Questionnaire, clean_text
from survey.store import Store, StoreError, now
from survey.waves import get_wave



class SubmitError(Invalid):
    """A submission that cannot be stored; `problems` name the question and reason."""

    separator = "; "


@dataclass(frozen=True)
class Submitted:
    response_id: str
    created: bool  # False when the submit key was seen before (nothing new stored)


def response_id_for(submit_key: str) -> str:
    """A stable id derived from the submit key, so a resent submission maps to one id."""
    return "R" + hashlib.sha256(submit_key.encode("utf-8")).hexdigest()[:12].upper()


def content_hash(answers: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(answers, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def _duration(started_at: str | None, submitted_at: str) -> float | None:
    if not started_at:
        return None
    delta = dt.datetime.fromisoformat(submitted_at) - dt.datetime.fromisoformat(started_at)
    return max(delta.total_seconds(), 0.0)


def _is_text(qn: Questionnaire, qid: str) -> bool:
    return any(q.id == qid and q.type == "text" for q in qn.questions)


def build_record(qn: Questionnaire, wave: dict[str, Any], *, unit: str, mode: str, answers: dict[str, Any],
                 submit_key: str, source: str, interviewer: str | None = None, firm: str | None = None,
                 started_at: str | None = None, submitted_at: str | None = None,
                 duration_s: float | None = None, case_id: str | None = None, created_by: str | None = None,
                 response_id: str | None = None, paradata: dict[str, Any] | None = None,
                 check: bool = True) -> dict[str, Any]:
    """Validate one response against its wave and questionnaire and shape it for the store."""
    problems: list[str] = []
    answers = {k: clean_text(v) if isinstance(v, str) and _is_text(qn, k) else v for k, v in answers.items()}
    if unit not in wave["units"]:
        problems.append(f"unit: `{unit}` is not a unit of wave {wave['id']}")
    if mode not in MODES:
        problems.append(f"mode: `{mode}` is not one of {', '.join(MODES)}")
    if check:
        problems += qn.check_answers(answers)
    if problems:
        raise SubmitError(problems)
    submitted_at = submitted_at or now()
    kept = {q.id: answers[q.id] for q in qn.questions if answers.get(q.id) not in (None, "")}
    return {
        "response_id": response_id or response_id_for(submit_key), "submit_key": submit_key,
        "wave": wave["id"], "questionnaire_id": qn.id, "unit": unit, "mode": mode,
        "interviewer": interviewer, "firm": firm, "case_id": case_id, "source": source,
        "started_at": started_at, "submitted_at": submitted_at,
        "duration_s": duration_s if duration_s is not None else _duration(started_at, submitted_at),
        "answers": kept, "created_by": created_by, "paradata": paradata or {},
        "content_hash": content_hash(kept),
    }


def wave_open_for_entry(store: Store, actor: Account, wave: str) -> dict[str, Any]:
    """The wave an interview or a keyed form goes into, if the actor may enter into it and it is open."""
    require(actor, "responses.enter")
    if not allowed(actor, "waves.enter", {"wave": wave}):
        raise PermissionDenied(f"{actor.username} is not assigned to wave {wave}")
    w = get_wave(store, wave)
    if w["status"] != "open":
        raise SubmitError([f"wave: wave {wave} is closed"])
    return w


def submit_interview(store: Store, actor: Account, wave: str, *, unit: str, mode: str, answers: dict[str, Any],
                     submit_key: str, started_at: str | None = None, case_id: str | None = None,
                     paradata: dict[str, Any] | None = None) -> Submitted:
    """A pollster's interview (phone, door or paper keying); stored once per submit key."""
    w = wave_open_for_entry(store, actor, wave)
    record = build_record(questionnaire_for_wave(store, wave), w, unit=unit, mode=mode, answers=answers,
                          submit_key=submit_key, source="entry", interviewer=actor.username, firm=actor.firm,
                          started_at=started_at, case_id=case_id, created_by=actor.username, paradata=paradata)
    [(rid, created)] = store.insert_responses([record], actor.username)
    return Submitted(rid, created)


def _scope(actor: Account) -> dict[str, str | None]:
    """The filter of what `actor` may read: all (analyst), own firm (supervisor), own (pollster)."""
    if actor.can("responses.read_all"):
        return {}
    if actor.can("responses.read_firm"):
        return {"firm": actor.firm or ""}
    if actor.can("responses.read_own"):
        return {"interviewer": actor.username}
    raise PermissionDenied(f"{actor.username} ({actor.role}) may not read responses")


def count_responses(store: Store, wave: str | None = None) -> int:
    """Responses stored in `wave` (all waves when None), excluded ones included."""
    return store.count_responses(wave)


def visible_responses(store: Store, actor: Account, wave: str | None = None,
                      include_excluded: bool = False) -> list[dict[str, Any]]:
    """The responses this actor may read: own (pollster), own firm (supervisor), all (analyst)."""
    return store.responses(wave, include_excluded=include_excluded, **_scope(actor))


@dataclass(frozen=True)
class WaveData:
    """What a score computed from a wave depends on, as a cache key: responses stored, exclusion
    events recorded, the latest QC run (None: never run) and the latest response edit (audit id,
    0: none; of any wave, edits are rare). Counts of the whole wave."""
    wave: str
    responses: int
    exclusions: int
    qc_run: int | None
    last_edit: int = 0


def wave_data(store: Store, actor: Account, wave: str) -> WaveData:
    """The state of a wave's data for an actor who may read responses (Forbidden otherwise)."""
    _scope(actor)
    runs = store.qc_runs(wave)
    return WaveData(wave, store.count_responses(wave), len(store.exclusions(wave)), runs[0]["id"] if runs else None,
                    store.last_audit_id("response", "edit"))


def read_response(store: Store, actor: Account, response_id: str) -> dict[str, Any]:
    row = store.response(response_id)
    if row is None:
        raise StoreError(f"no response `{response_id}`")
    if actor.can("responses.read_all"):
        return row
    if actor.can("responses.read_firm") and row["firm"] == actor.firm:
        return row
    if actor.can("responses.read_own") and row["interviewer"] == actor.username:
        return row
    raise PermissionDenied(f"{actor.username} may not read response {response_id}")


def set_excluded(store: Store, actor: Account, response_id: str, exclude: bool, reason: str) -> bool:
    """Exclude (or restore) with a reason; supervisors only within their firm."""
    require(actor, "responses.exclude")
    if not reason.strip():
        raise StoreError("a reason is required")
    row = store.response(response_id)
    if row is None:
        raise StoreError(f"no response `{response_id}`")
    if not allowed(actor, "responses.exclude", row):  # a supervisor: only the responses of its firm
        raise PermissionDenied(f"{actor.username} may not exclude or restore response {response_id} of another firm")
    if not exclude:
        current = next((e for e in store.exclusions() if e["response_id"] == response_id), None)
        if current is not None and current["action"] == "exclude" and current["reason"].strip() == reason.strip():
            raise StoreError("a restore needs its own reason, not the exclusion's")
    return store.set_exclusion(response_id, exclude, reason.strip(), actor.username)


def _flag_filter(exclude_flagged: bool | Iterable[str]) -> set[str] | None:
    """Which QC flags leave a response out: None for none, an empty set for any flag."""
    if exclude_flagged is True:
        return set()
    if not exclude_flagged:
        return None
    return set(exclude_flagged)


def _flagged(store: Store, wave: str, exclude_flagged: bool | Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    wanted = _flag_filter(exclude_flagged)
    out: dict[str, list[dict[str, Any]]] = {}
    if wanted is None:
        return out
    for f in store.qc_flags(wave):
        if not wanted or f["flag"] in wanted:
            out.setdefault(f["response_id"], []).append(f)
    return out


def responses_frame(store: Store, actor: Account, wave: str, include_excluded: bool = False,
                    exclude_flagged: bool | Iterable[str] = False) -> pd.DataFrame:
    """The wave's responses visible to `actor`, as the analysis input DataFrame.

    By default only what a person excluded is left out. `exclude_flagged=True` also leaves
    out every response with a current QC flag; a list of flag names (e.g. ["speeder"])
    leaves out only those.
    """
    qn = questionnaire_for_wave(store, wave)
    items = qn.item_ids
    followups = [q.id for q in qn.by_role("followup")]
    rated = qn.appraisal_columns()  # appraisal waves: `<id>_aware`, `<id>` (and dimensions) per rated unit
    columns, rows = store.response_table(wave, [*DEMOGRAPHIC_IDS, *items, *followups, *rated],
                                         include_excluded=include_excluded, **_scope(actor))
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for item in (*items, *rated):
        frame[item] = pd.to_numeric(frame[item], errors="coerce").astype("Int64")
    if not include_excluded:
        frame = frame.drop(columns="excluded_reason")
    flagged = _flagged(store, wave, exclude_flagged)
    if flagged:
        frame = frame[~frame["response_id"].isin(list(flagged))].reset_index(drop=True)
    return frame


def exclusions_applied(store: Store, wave: str, exclude_flagged: bool | Iterable[str] = False
                       ) -> list[dict[str, Any]]:
    """The exclusions an analysis of `wave` applies: id, reason, who, when (for its record).

    With `exclude_flagged`, responses left out for their QC flags are listed too, with
    reason `QC: <flags>`, actor `qc run N` and the run's time.
    """
    applied = store.current_exclusions(wave)
    flagged = _flagged(store, wave, exclude_flagged)
    if flagged:
        done = {e["response_id"] for e in applied}
        runs = {r["id"]: r["at"] for r in store.qc_runs(wave)[:1]}
        for rid, flags in sorted(flagged.items()):
            if rid in done:
                continue
            run = flags[0]["run_id"]
            applied.append({"response_id": rid, "reason": "QC: " + ", ".join(sorted(f["flag"] for f in flags)),
                            "actor": f"qc run {run}", "at": runs.get(run)})
    return applied
