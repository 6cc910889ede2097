"""One interview screen for pollsters, shared by the phone (CATI) and door-to-door pages.

Questions, numbered options and quick entry, a draft saved at every step (so a closed
tab or a new login resumes the interview where it was), the duration from the draft's
start, and one idempotent submit. Pages choose the wave, unit or case and add their own
record (e.g. the household at the door); everything else lives here, once.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from survey import drafts
from survey.auth import Account, PermissionDenied
from survey.bootstrap import questionnaire_for_wave
from survey.quotas import QuotaStatus, cell_name, quota_progress
from survey.questionnaire import Questionnaire
from survey.responses import SubmitError, Submitted
from common.errors import Rejected
from ui import forms, session
from ui.plain import md_escape
from ui.session import t

if TYPE_CHECKING:  # the type only: pages and ui/ reach the store through survey's services
    from survey.store import Store

# What a pollster can key in one press per item (see `forms.quick_entry_field`).
NUMBERED_ROLES = ("item", "followup")


@dataclass(frozen=True)
class Record:
    """An extra record asked before the questions and kept in the response's paradata.

    `render(form)` draws its widgets (keys from `record_key`) and returns (values, problems).
    """
    name: str
    heading_key: str
    render: Callable[[str], tuple[dict[str, Any], list[str]]]


@dataclass(frozen=True)
class Setup:
    form: str                      # "phone" / "door": the draft's form and the widgets' key prefix
    mode: str
    wave: str
    unit: str
    case_id: str | None = None
    record: Record | None = None


def record_key(form: str, name: str) -> str:
    return f"{form}_rec_{name}"


def _k(form: str, name: str) -> str:
    return f"{form}_{name}"


def reset(form: str) -> None:
    """Forget this session's interview on `form` (answers, draft, result): the next run starts afresh."""
    forms.clear(form)
    prefix = record_key(form, "")
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]
    for name in ("draft", "key", "result", "saved", "loaded", "resumed", "quick", "quick_msg"):
        st.session_state.pop(_k(form, name), None)


def resume(store: Store, account: Account, form: str, case_id: str | None = None,
           waves: list[str] | None = None) -> dict[str, Any] | None:
    """Load the draft this account left open on `form` (and case) into the widgets, once per session.

    Call before the page draws its wave and unit selectors (`<form>_wave`, `<form>_unit`):
    their values come from the draft too.
    """
    context = case_id or ""
    if st.session_state.get(_k(form, "loaded")) == context:
        return st.session_state.get(_k(form, "draft"))
    reset(form)
    st.session_state[_k(form, "loaded")] = context
    draft = drafts.open_draft(store, account, form, case_id)
    if draft is None or (waves is not None and draft["wave"] not in waves):
        return None
    if _k(form, "wave") not in st.session_state:  # the page may have drawn its wave selector already
        st.session_state[_k(form, "wave")] = draft["wave"]
    st.session_state[_k(form, "unit")] = draft["unit"]
    for qid, value in draft["answers"].items():
        st.session_state[forms.widget_key(qid, form)] = value
    for record in draft["paradata"].values():
        if isinstance(record, dict):
            for name, value in record.items():
                st.session_state[record_key(form, name)] = value
    st.session_state[_k(form, "draft")] = draft
    st.session_state[_k(form, "resumed")] = draft["started_at"]
    return draft


def _elapsed(started_at: str) -> str:
    seconds = max(int((dt.datetime.now() - dt.datetime.fromisoformat(started_at)).total_seconds()), 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


def run(store: Store, account: Account, setup: Setup, *,
        on_submitted: Callable[[Submitted, dict[str, Any]], None] | None = None,
        on_ineligible: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
        quota: Callable[[dict[str, Any]], QuotaStatus] | None = None,
        on_quota_full: Callable[[dict[str, Any]], None] | None = None,
        new_label: str | None = None, on_new: Callable[[], None] | None = None,
        evidence: Callable[[dict[str, Any]], tuple[dict[str, Any], list[str]]] | None = None) -> str:
    """Draw the interview; returns "done", "ineligible", "quota_full" or "open".

    `on_submitted(done, draft)` runs after every submit (also a repeated one), e.g. to record the
    call attempt of a case; `on_ineligible(draft, answers)` when the pollster ends an ineligible
    interview (the draft is abandoned either way). `quota(answers)` is asked after screening and
    again before submit (when sex and age are known): a full cell warns, or with the wave's
    action "stop" ends the interview (`on_quota_full(draft)`). `on_new` runs when the pollster moves on.
    `evidence(answers)` draws a block just before the submit (door evidence: position, photo,
    recording) and returns (values kept in paradata under `evidence`, problems that block the submit).
    """
    form = setup.form

    def move_on() -> None:
        reset(form)
        if on_new:
            on_new()

    result = st.session_state.get(_k(form, "result"))
    if result:
        st.success(t("interview.submitted" if result[1] else "interview.already", response_id=result[0]))
        st.button(new_label or t("interview.new"), on_click=move_on, type="primary", key=_k(form, "new"))
        return "done"

    draft = st.session_state.get(_k(form, "draft"))
    if draft is None or (draft.get("case_id") or "") != (setup.case_id or ""):
        draft = drafts.start_draft(store, account, form, wave=setup.wave, unit=setup.unit, mode=setup.mode,
                                   case_id=setup.case_id)
        st.session_state[_k(form, "draft")] = draft
    st.session_state[_k(form, "key")] = draft["submit_key"]
    qn = questionnaire_for_wave(store, setup.wave)

    resumed = st.session_state.get(_k(form, "resumed"))
    if resumed:
        st.info(t("interview.resumed", started=resumed.replace("T", " ")))
    st.caption(t("interview.elapsed", started=draft["started_at"].replace("T", " ")[11:16],
                 elapsed=_elapsed(draft["started_at"])))

    with st.expander(t("interview.intro_heading"), expanded=not resumed):
        st.write(qn.intro_en if session.lang() == "en" and qn.intro_en else qn.intro)

    record_values: dict[str, Any] = {}
    record_problems: list[str] = []
    if setup.record:
        st.subheader(t(setup.record.heading_key))
        record_values, record_problems = setup.record.render(form)

    answers: dict[str, Any] = {}
    st.subheader(t("interview.screening"))
    forms.ask_section(qn, "screening", setup.mode, form, answers)
    paradata = {setup.record.name: record_values} if setup.record else {}

    screened = [q.id for q in qn.by_role("screening")]
    if all(answers.get(q) is not None for q in screened) and not qn.is_eligible(answers):
        st.warning(t("interview.not_eligible"))
        _save(store, account, setup, draft, answers, paradata)

        def end_ineligible() -> None:
            drafts.abandon_draft(store, account, draft["draft_id"], "not eligible")
            if on_ineligible:
                on_ineligible(draft, answers)
            move_on()

        st.button(new_label or t("interview.new"), on_click=end_ineligible, key=_k(form, "end_ineligible"))
        return "ineligible"

    warned: set[str] = set()

    def quota_stops() -> bool:
        """Show the quota message of the answers so far; True when the interview must end."""
        if quota is None:
            return False
        status = quota(answers)
        if not status.full:
            return False
        if not status.stop:
            if status.message not in warned:
                st.warning(status.message)
                warned.add(status.message)
            return False
        st.error(status.message)
        _save(store, account, setup, draft, answers, paradata)

        def end_quota() -> None:
            drafts.abandon_draft(store, account, draft["draft_id"], "quota full")
            if on_quota_full:
                on_quota_full(draft)
            move_on()

        st.button(t("interview.end_quota"), on_click=end_quota, type="primary", key=_k(form, "end_quota"))
        return True

    if quota_stops():
        return "quota_full"

    st.subheader(t("interview.items"))
    forms.quick_entry_field(qn, form, ("item",))
    if setup.mode == "phone":
        st.caption(t("interview.dk_hint"))
    forms.ask_section(qn, "item", setup.mode, form, answers, numbered=True)
    if qn.kind == "appraisal":
        st.subheader(t("interview.units"))
        forms.ask_units(qn, setup.mode, form, answers, numbered=True)
    st.subheader(t("interview.followups"))
    forms.ask_section(qn, "followup", setup.mode, form, answers, numbered=True)
    st.subheader(t("interview.demographics"))
    forms.ask_section(qn, "demographic", setup.mode, form, answers)
    if evidence is not None:
        evidence_values, evidence_problems = evidence(answers)
        if evidence_values:
            paradata["evidence"] = evidence_values
        record_problems = record_problems + evidence_problems
    _save(store, account, setup, draft, answers, paradata)
    if any(answers.get(d) is not None for d in ("sex", "age_group")) and quota_stops():
        return "quota_full"

    if st.button(t("interview.submit"), type="primary", key=_k(form, "submit")):
        problems = [p for p in qn.check_answers(answers) if p.endswith("required")]
        if problems or record_problems:
            names = [forms.missing_fields(qn, problems)] if problems else []
            st.error(t("interview.missing", fields="、".join(names + record_problems)))
            return "open"
        try:
            done = drafts.submit_draft(store, account, draft["draft_id"], answers=answers, unit=setup.unit,
                                       paradata=paradata)
            if on_submitted:
                on_submitted(done, draft)
        except (SubmitError, PermissionDenied, Rejected) as err:
            st.error(t("common.error", detail=md_escape(err)))
            return "open"
        st.session_state[_k(form, "result")] = (done.response_id, done.created)
        st.rerun()
    return "open"


def _save(store: Store, account: Account, setup: Setup, draft: dict[str, Any], answers: dict[str, Any],
          paradata: dict[str, Any]) -> None:
    """Save the draft when anything changed since the last save of this session (one write per step)."""
    fingerprint = json.dumps([setup.wave, setup.unit, answers, paradata], ensure_ascii=False, sort_keys=True,
                             default=str)
    if st.session_state.get(_k(setup.form, "saved")) == fingerprint:
        return
    drafts.save_draft(store, account, draft["draft_id"], wave=setup.wave, unit=setup.unit,
                      answers=answers, paradata=paradata)
    st.session_state[_k(setup.form, "saved")] = fingerprint


def quota_table(store: Store, wave: str) -> None:
    """The wave's quota cells with completes so far (nothing when the wave sets no quotas)."""
    progress = quota_progress(store, wave)
    if progress.empty:
        return
    st.subheader(t("interview.quota_heading"))
    shown = pd.DataFrame({
        t("common.unit"): progress["unit"],
        t("interview.quota_cell"): [cell_name(cell, session.lang()) or t("interview.quota_all")
                                    for cell in progress.to_dict("records")],
        t("interview.quota_done"): [f"{n}/{target}" for n, target in zip(progress["n"], progress["target"])],
        t("interview.quota_share"): progress["share"] * 100})
    st.dataframe(shown, hide_index=True, use_container_width=True,
                 column_config={t("interview.quota_share"): st.column_config.ProgressColumn(
                     format="%.0f%%", min_value=0, max_value=100, width="small")})
