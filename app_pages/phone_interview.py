"""Pollster: phone interviews — the next case to call (CATI), or, without a case list, a free interview."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pandas as pd
import streamlit as st

from survey import aapor, drafts, fieldwork, quotas
from survey.auth import PermissionDenied
from survey.bootstrap import questionnaire_for_wave
from survey.responses import Submitted, visible_responses
from survey.waves import read_wave
from common.errors import Rejected
from ui import interview, session
from ui.plain import md_escape
from ui.session import t

FORM = "phone"
MODE = "phone"
# chosen automatically: 完成 on submit, 配额已满 when screening stops on a full quota cell
AUTOMATIC = ("完成", "配额已满")
GROUPS = aapor.grouped(MODE, exclude=AUTOMATIC)  # a row of buttons per group instead of one long list

account = session.page_account(__file__, refresh=True)
store = session.store()
st.title(t("interview.title"))

waves = session.entry_waves(account)

if "phone_wave" not in st.session_state:  # a new login continues the wave of an open draft
    open_ = next((d for d in drafts.open_drafts(store, account, FORM) if d["wave"] in waves), None)
    if open_ is not None:
        st.session_state["phone_wave"] = open_["wave"]
col_wave, col_unit, col_done = st.columns([1, 1, 2])
wave_id = session.wave_picker(col_wave, waves, "phone_wave")
# own interviews only: a supervisor may read the firm's, but this counts the person at the screen
mine = sum(r["interviewer"] == account.username for r in visible_responses(store, account, wave_id))
col_done.metric(t("interview.done_today", n=mine), mine)
phone_cases = fieldwork.assigned_cases(store, account, wave_id, MODE)


def quota_check(wave: str, unit: str, strata: dict[str, Any] | None = None):
    return lambda answers: quotas.quota_status(store, wave, unit, answers, strata)


if not phone_cases:
    # No case list for this pollster: an interview as before, the pollster names the unit.
    st.caption(t("cati.no_cases"))
    interview.resume(store, account, FORM, waves=waves)
    unit = col_unit.selectbox(t("common.unit"), read_wave(store, account, wave_id).units, key="phone_unit",
                              help=t("interview.unit_help"))
    # the whole width for the questions (options on one line); the quota progress below
    interview.run(store, account, interview.Setup(FORM, MODE, wave_id, unit), quota=quota_check(wave_id, unit))
    with st.expander(t("interview.quota_heading")):
        interview.quota_table(store, wave_id)
    st.stop()


# ---------------------------------------------------------------------------------- CATI
# the outcome widgets of one case: a new case starts with them empty
OUTCOME_KEYS = ("cati_disposition", "cati_note", "cati_cb_date", "cati_cb_time", *(f"cati_group_{g}" for g, _ in GROUPS))


def pick_disposition(group: str) -> None:
    """on_change of one group's buttons: its choice is the disposition, the other groups clear."""
    label = st.session_state.get(f"cati_group_{group}")
    for other, _ in GROUPS:
        if other != group:
            st.session_state[f"cati_group_{other}"] = None
    st.session_state["cati_disposition"] = label


def forget_case() -> None:
    for key in ("cati_case", "cati_stage", "cati_dialing", "cati_attempt_key", *OUTCOME_KEYS):
        st.session_state.pop(key, None)


def load_case(case: dict[str, Any] | None, stage: str = "call") -> None:
    for key in OUTCOME_KEYS:
        st.session_state.pop(key, None)
    st.session_state["cati_case"] = case
    st.session_state["cati_stage"] = stage
    st.session_state["cati_dialing"] = False
    st.session_state["cati_attempt_key"] = f"cati:{uuid.uuid4()}"


def closed(case_id: str) -> bool:
    """Whether a case takes no more attempts (or is no longer this pollster's)."""
    try:
        attempts = fieldwork.read_case(store, account, case_id, wave_id)["attempts"]
    except (PermissionDenied, Rejected):
        return True
    return any(aapor.is_final(a["disposition"]) for a in attempts)


if st.session_state.get("cati_case") is not None and st.session_state["cati_case"]["wave"] != wave_id:
    forget_case()
if "cati_case" not in st.session_state:
    # a lost tab or a new login returns to the case that was being interviewed
    pending = [d for d in drafts.open_drafts(store, account, FORM) if d["case_id"] and d["wave"] == wave_id]
    resumed = next((d for d in pending if not closed(d["case_id"])), None)
    if resumed is not None:
        load_case(fieldwork.read_case(store, account, resumed["case_id"], wave_id), "interview")
    else:
        load_case(fieldwork.next_case(store, account, wave_id, mode=MODE))

case = st.session_state["cati_case"]
main = st.container()  # the whole width for the case and the questions; the quota progress below them


def quota_below() -> None:
    with st.expander(t("interview.quota_heading")):
        interview.quota_table(store, wave_id)

note = st.session_state.pop("cati_msg", None)
if note:
    main.success(note)


def next_case() -> None:
    interview.reset(FORM)
    load_case(fieldwork.next_case(store, account, wave_id, mode=MODE))


def record(label: str, *, callback_at: str | None = None, response_id: str | None = None,
           attempt_key: str | None = None, note: str = "") -> None:
    fieldwork.record_attempt(store, account, case["case_id"], label, wave=wave_id, callback_at=callback_at,
                             response_id=response_id, note=note,
                             attempt_key=attempt_key or st.session_state["cati_attempt_key"])


if case is None:
    with main:
        shut = fieldwork.calling_closed_message(store, wave_id, lang=session.lang())  # the wave's call window
        st.info(shut or t("cati.none_left"))
        st.button(t("cati.refresh"), on_click=next_case)
    st.stop()

with main:
    c_head, c_reason = st.columns([2, 3], vertical_alignment="center")  # the case and why it is called now
    c_head.subheader(t("cati.case_heading", case_id=case["case_id"], unit=case["unit"]))
    if st.session_state["cati_stage"] == "interview":
        st.caption(t("cati.interviewing", case_id=case["case_id"], unit=case["unit"]))

        def break_off() -> None:
            if closed(case["case_id"]):  # saved or ended meanwhile (another tab): nothing to break off
                next_case()
                return
            draft = drafts.open_draft(store, account, FORM, case["case_id"])
            if draft is not None:
                drafts.abandon_draft(store, account, draft["draft_id"], "break-off")
            record("中途拒绝")
            st.session_state["cati_msg"] = t("cati.recorded", case_id=case["case_id"], label="中途拒绝")
            next_case()

        # offered only while the interview is open, i.e. neither saved nor ended as ineligible or quota full
        break_off_slot = st.empty()
        qn = questionnaire_for_wave(store, wave_id)

        def completed(done: Submitted, draft: dict[str, Any]) -> None:
            # keyed by the response: a second submit of the same interview records nothing new
            record("完成", response_id=done.response_id, attempt_key=f"complete:{done.response_id}")

        def ineligible(draft: dict[str, Any], answers: dict[str, Any]) -> None:
            age = next((q for q in qn.by_role("screening") if q.id == "age18"), None)
            too_young = age is not None and answers.get(age.id) not in (age.eligible or [])
            record("不符合条件：未满18岁" if too_young else "不符合条件：非常住")

        interview.resume(store, account, FORM, case["case_id"])
        state = interview.run(store, account, interview.Setup(FORM, MODE, wave_id, case["unit"], case_id=case["case_id"]),
                      on_submitted=completed, on_ineligible=ineligible,
                      quota=quota_check(wave_id, case["unit"], case.get("strata")), on_quota_full=lambda draft: record("配额已满"),
                      new_label=t("cati.next"), on_new=next_case)
        if state == "open":
            break_off_slot.button(t("cati.break_off"), on_click=break_off, key="cati_break_off")
        quota_below()
        st.stop()

    reason = case.get("reason")
    if reason == "callback":
        c_reason.warning(t("cati.reason_callback", at=str(case["callback_at"]).replace("T", " ")[:16]))
    elif reason == "busy":
        c_reason.caption(t("cati.reason_busy", tries=case["tries"]))
    elif reason == "retry":
        c_reason.caption(t("cati.reason_retry", tries=case["tries"]))
    else:
        c_reason.caption(t("cati.reason_new"))

    # one row: the number, dialling, and the way into the interview; then the outcome buttons
    c_num, c_dial, c_agree = st.columns([2, 2, 2], vertical_alignment="bottom")
    if st.session_state["cati_dialing"]:
        try:
            contact = fieldwork.case_contact(store, account, case["case_id"], wave_id)
        except (PermissionDenied, Rejected) as err:
            st.error(t("common.error", detail=md_escape(err)))
            st.stop()
        c_num.metric(t("cati.number"), contact["value"])
    else:
        c_num.metric(t("cati.masked_number"), case["contact_mask"])
        c_dial.button(t("cati.dial"), key="cati_dial", help=t("cati.dial_help"), use_container_width=True,
                      on_click=lambda: st.session_state.update(cati_dialing=True))
    c_agree.button(t("cati.agree"), type="primary", key="cati_agree", use_container_width=True,
                   on_click=lambda: st.session_state.update(cati_stage="interview"))

    with st.container(border=True):
        st.markdown(f"**{t('cati.disposition')}**", help=t("cati.disposition_help"))
        for group, members in GROUPS:
            c_group, c_buttons = st.columns([1, 7], vertical_alignment="center")
            c_group.caption(t(f"cati.group.{group}"))
            c_buttons.pills(t(f"cati.group.{group}"), [d.label for d in members], key=f"cati_group_{group}",
                            on_change=pick_disposition, args=(group,), label_visibility="collapsed",
                            wrap=True)
        label = st.session_state.get("cati_disposition")
        callback_at = None
        if label and aapor.DISPOSITIONS[label].callback:
            c1, c2, c_note, c_record = st.columns([2, 2, 3, 2], vertical_alignment="bottom")
            tomorrow = dt.datetime.now() + dt.timedelta(days=1)
            day = c1.date_input(t("cati.callback_date"), value=tomorrow.date(), key="cati_cb_date")
            time = c2.time_input(t("cati.callback_time"), value=dt.time(19, 0), key="cati_cb_time", step=900)
            callback_at = dt.datetime.combine(day, time).isoformat(timespec="seconds")
        else:
            c_note, c_record = st.columns([5, 2], vertical_alignment="bottom")
        remark = c_note.text_input(t("cati.note"), key="cati_note")
        pressed = c_record.button(t("cati.record"), key="cati_record", disabled=label is None,
                                  use_container_width=True)

    if pressed:
        if callback_at is not None and callback_at < dt.datetime.now().isoformat(timespec="seconds"):
            st.error(t("cati.callback_past", at=callback_at.replace("T", " ")[:16]))
            st.stop()
        try:
            record(label, callback_at=callback_at, note=remark)
        except (PermissionDenied, Rejected) as err:
            st.error(t("common.error", detail=md_escape(err)))
            st.stop()
        st.session_state["cati_msg"] = (
            t("cati.callback_recorded", case_id=case["case_id"], at=callback_at.replace("T", " ")[:16])
            if callback_at else t("cati.recorded", case_id=case["case_id"], label=label))
        next_case()
        st.rerun()

    history = fieldwork.read_case(store, account, case["case_id"], wave_id)["attempts"]
    if history:
        with st.expander(t("cati.history"), expanded=reason == "callback"):
            st.dataframe(pd.DataFrame({
                t("cati.history_at"): [a["attempted_at"].replace("T", " ")[:16] for a in history],
                t("cati.history_label"): [a["label"] or a["disposition"] for a in history],
                t("cati.history_callback"): [(a["callback_at"] or "").replace("T", " ")[:16] for a in history],
                t("cati.history_note"): [a.get("note") or "" for a in history]}),
                hide_index=True, use_container_width=True)
    quota_below()
