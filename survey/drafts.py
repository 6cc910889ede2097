"""Interview drafts: a pollster's phone or door interview saved at every step.

A closed tab, a lost connection or a new login resumes the open draft of the same
account, form and case where it was. The draft carries the submit key of the interview,
so submitting it twice (a double click, a resent request after a dropped connection)
stores one response, and the start time, so the duration counts from the first answer
screen, not from the last reload.
"""
from __future__ import annotations

import uuid
from typing import Any

from survey.auth import Account, PermissionDenied, allowed, require
from survey.responses import Submitted, submit_interview
from survey.store import Store, StoreError, now


def _own(actor: Account, draft: dict[str, Any] | None, draft_id: str) -> dict[str, Any]:
    if draft is None:
        raise StoreError(f"no interview draft `{draft_id}`")
    if draft["account"] != actor.username:
        raise PermissionDenied(f"{actor.username} may not use the draft of {draft['account']}")
    return draft


def open_draft(store: Store, actor: Account, form: str, case_id: str | None = None) -> dict[str, Any] | None:
    """The draft `actor` left open on `form` (for `case_id`), or None."""
    require(actor, "responses.enter")
    return store.open_interview_draft(actor.username, form, case_id or "")


def open_drafts(store: Store, actor: Account, form: str) -> list[dict[str, Any]]:
    """Every draft `actor` left open on `form`, latest first (e.g. the case a lost tab was interviewing)."""
    require(actor, "responses.enter")
    return store.open_interview_drafts(actor.username, form)


def start_draft(store: Store, actor: Account, form: str, *, wave: str, unit: str, mode: str,
                case_id: str | None = None, answers: dict[str, Any] | None = None,
                paradata: dict[str, Any] | None = None) -> dict[str, Any]:
    """The open draft of this account, form and case; a new one (new submit key, started now) if none."""
    require(actor, "responses.enter")
    if not allowed(actor, "waves.enter", {"wave": wave}):
        raise PermissionDenied(f"{actor.username} is not assigned to wave {wave}")
    draft_id = "D" + uuid.uuid4().hex[:16].upper()
    return store.start_interview_draft({
        "draft_id": draft_id, "account": actor.username, "form": form, "case_id": case_id or "",
        "wave": wave, "unit": unit, "mode": mode, "answers": answers or {}, "paradata": paradata or {},
        "submit_key": f"interview:{uuid.uuid4()}", "started_at": now()})


def save_draft(store: Store, actor: Account, draft_id: str, *, wave: str, unit: str,
               answers: dict[str, Any], paradata: dict[str, Any] | None = None) -> bool:
    """Save one step; True when something changed (unanswered questions are not kept)."""
    _own(actor, store.interview_draft(draft_id), draft_id)
    kept = {k: v for k, v in answers.items() if v not in (None, "")}
    return store.save_interview_draft(draft_id, wave=wave, unit=unit, answers=kept, paradata=paradata or {})


def abandon_draft(store: Store, actor: Account, draft_id: str, reason: str) -> bool:
    """Close a draft without a response (ineligible, or the pollster starts over); it stays on record."""
    _own(actor, store.interview_draft(draft_id), draft_id)
    return store.close_interview_draft(draft_id, "abandoned", actor.username, reason=reason)


def submit_draft(store: Store, actor: Account, draft_id: str, *, answers: dict[str, Any],
                 unit: str | None = None, paradata: dict[str, Any] | None = None) -> Submitted:
    """Submit the interview of a draft once and mark the draft done.

    Idempotent: the draft's submit key makes a second submit (even of a draft already done)
    return the first response with `created=False`.
    """
    draft = _own(actor, store.interview_draft(draft_id), draft_id)
    if draft["status"] == "abandoned":
        raise StoreError(f"draft {draft_id} was abandoned")
    pd = {**draft["paradata"], **(paradata or {}), "draft_id": draft_id, "draft_saves": draft["saves"]}
    done = submit_interview(store, actor, draft["wave"], unit=unit or draft["unit"], mode=draft["mode"],
                            answers=answers, submit_key=draft["submit_key"], started_at=draft["started_at"],
                            case_id=draft["case_id"] or None, paradata=pd)
    store.close_interview_draft(draft_id, "done", actor.username, response_id=done.response_id)
    return done
