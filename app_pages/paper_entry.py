"""Keyer: paper questionnaires typed in by their paper ID (first or second entry)."""
from __future__ import annotations

import uuid

import streamlit as st

from survey.auth import PermissionDenied
from survey.bootstrap import questionnaire_for_wave
from survey.paper import (MODE, PaperError, awaiting_second_entry, double_entry_required, form_status,
                          key_paper)
from survey.responses import SubmitError
from survey.store import StoreError, now
from ui import forms, session
from ui.session import t

FORM = "paper"

account = session.refresh_account() or session.require_account()
store = session.store()
st.title(t("supervision.paper.title"))
st.caption(t("supervision.paper.caption"))

waves = session.entry_waves(account)


def start_new() -> None:
    forms.clear(FORM)
    st.session_state["paper_key"] = f"paper-entry:{uuid.uuid4()}"
    st.session_state["paper_started"] = now()
    for key in ("paper_result", "paper_id", "paper_interviewer"):
        st.session_state.pop(key, None)


if "paper_key" not in st.session_state:
    start_new()

col_wave, col_batch = st.columns([1, 2])
wave_id = session.wave_picker(col_wave, waves, "paper_wave")
wave = store.wave(wave_id)
qn = questionnaire_for_wave(store, wave_id)
if double_entry_required(wave):
    col_batch.info(t("supervision.paper.double_entry_required"))
    double = True
else:
    double = col_batch.toggle(t("supervision.paper.double_entry"), key="paper_double")

with st.expander(t("supervision.paper.waiting_list")):
    waiting = awaiting_second_entry(store, account, wave_id)
    if waiting:
        st.write("、".join(f.paper_id for f in waiting))
    else:
        st.caption(t("supervision.paper.none_waiting"))

result = st.session_state.get("paper_result")
if result:
    kind, values = result
    (st.success if kind in ("stored", "stored_again") else st.info if kind == "awaiting" else st.warning)(
        t(f"supervision.paper.{kind}", **values))
    st.button(t("supervision.paper.next"), on_click=start_new, type="primary")
    st.stop()

col_id, col_unit, col_int = st.columns([1, 1, 1])
paper_id = col_id.text_input(t("supervision.paper.paper_id"), key="paper_id", help=t("supervision.paper.paper_id_help"))
if not paper_id.strip():
    st.stop()
try:
    status, first_keyer = form_status(store, account, wave_id, paper_id)
except PaperError:
    st.error(t("supervision.paper.err_paper_id", detail=paper_id))
    st.stop()
if status in ("own", "done", "other_firm"):
    st.warning(t(f"supervision.paper.status_{status}"))
    st.stop()
st.info(t("supervision.paper.status_new") if status == "new" else
        t("supervision.paper.status_second", keyer=first_keyer))
unit = col_unit.selectbox(t("common.unit"), wave["units"], index=None, key="paper_unit",
                          placeholder=t("interview.choose"))
interviewer = col_int.text_input(t("supervision.paper.interviewer"), key="paper_interviewer",
                                 help=t("supervision.paper.interviewer_help"))

answers: dict = {}
st.subheader(t("interview.screening"))
forms.ask_section(qn, "screening", MODE, FORM, answers)
screened = [q.id for q in qn.by_role("screening")]
if all(answers.get(q) is not None for q in screened) and not qn.is_eligible(answers):
    st.warning(t("interview.not_eligible"))
    st.stop()
st.subheader(t("interview.items"))
forms.ask_section(qn, "item", MODE, FORM, answers)
if qn.kind == "appraisal":
    st.subheader(t("interview.units"))
    forms.ask_units(qn, MODE, FORM, answers)
st.subheader(t("interview.followups"))
forms.ask_section(qn, "followup", MODE, FORM, answers)
st.subheader(t("interview.demographics"))
forms.ask_section(qn, "demographic", MODE, FORM, answers)

if st.button(t("supervision.paper.submit"), type="primary", key="paper_submit"):
    problems = [p for p in qn.check_answers(answers) if p.endswith("required")]
    if unit is None:
        st.error(t("interview.missing", fields=t("common.unit")))
    elif problems:
        st.error(t("interview.missing", fields=forms.missing_fields(qn, problems)))
    else:
        try:
            done = key_paper(store, account, wave_id, paper_id, unit=unit, answers=answers,
                             entry_key=st.session_state["paper_key"], interviewer=interviewer or None,
                             double_entry=double, started_at=st.session_state["paper_started"])
        except PaperError as err:
            st.error(t(f"supervision.paper.err_{err.code}", detail=err) if err.code in
                     ("same_keyer", "other_firm", "already_keyed") else t("common.error", detail=err))
        except (SubmitError, PermissionDenied, StoreError) as err:
            st.error(t("common.error", detail=err))
        else:
            values = {"paper_id": done.paper_id, "response_id": done.response_id, "n": len(done.mismatches)}
            kind = {"awaiting_second": "awaiting", "mismatch": "mismatch"}.get(
                done.status, "stored" if done.created else "stored_again")
            st.session_state["paper_result"] = (kind, values)
            st.rerun()
