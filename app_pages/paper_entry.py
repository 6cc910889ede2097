"""Keyer: paper questionnaires typed in by their paper ID (first or second entry)."""
from __future__ import annotations

import uuid

import pandas as pd
import streamlit as st

from survey.auth import PermissionDenied
from survey.bootstrap import questionnaire_for_wave
from survey.paper import (MODE, PaperError, awaiting_second_entry, double_entry_required, form_status,
                          key_paper)
from survey.responses import SubmitError, now  # now: the stamp of a response's started_at
from common.errors import Rejected
from survey import quick_entry
from survey.waves import read_wave
from ui import forms, keyboard, session
from ui.plain import md_escape
from ui.session import t

FORM = "paper"
ROLES = ("screening", "item", "followup", "demographic", "awareness", "rating", "dimension")

account = session.page_account(__file__, refresh=True)
store = session.store()
st.title(t("supervision.paper.title"))
st.caption(t("supervision.paper.caption"))

waves = session.entry_waves(account)


def start_new() -> None:
    forms.clear(FORM)
    st.session_state["paper_key"] = f"paper-entry:{uuid.uuid4()}"
    st.session_state["paper_started"] = now()
    for key in ("paper_result", "paper_id", "paper_interviewer", forms.quick_state(FORM)):
        st.session_state.pop(key, None)


if "paper_key" not in st.session_state:
    start_new()

col_wave, col_batch = st.columns([1, 2])
wave_id = session.wave_picker(col_wave, waves, "paper_wave")
wave = read_wave(store, account, wave_id)
qn = questionnaire_for_wave(store, wave_id)
if double_entry_required(wave):
    col_batch.info(t("supervision.paper.double_entry_required"))
    double = True
else:
    double = col_batch.toggle(t("supervision.paper.double_entry"), key="paper_double")

with st.expander(t("supervision.paper.waiting_list")):
    waiting = awaiting_second_entry(store, account, wave_id)
    if waiting:
        st.text("、".join(f.paper_id for f in waiting))
    else:
        st.caption(t("supervision.paper.none_waiting"))

result = st.session_state.get("paper_result")
if result:
    kind, values, mismatches = result
    (st.success if kind in ("stored", "stored_again") else st.info if kind == "awaiting" else st.warning)(
        t(f"supervision.paper.{kind}", **values))
    if kind == "mismatch":  # what differs, so the keyer can look at the paper; the supervisor decides
        st.dataframe(pd.DataFrame({
            t("supervision.paper.field"): [forms.field_label(qn, m.field) for m in mismatches],
            t("supervision.paper.col_entry1"): [forms.shown_value(qn, m.field, m.entry1) for m in mismatches],
            t("supervision.paper.col_entry2"): [forms.shown_value(qn, m.field, m.entry2) for m in mismatches]}),
            hide_index=True, width="stretch")
    st.button(t("supervision.paper.next"), on_click=start_new, type="primary")
    st.stop()

col_id, col_unit, col_int = st.columns([1, 1, 1])
paper_id = col_id.text_input(t("supervision.paper.paper_id"), key="paper_id", help=t("supervision.paper.paper_id_help"))
unit = col_unit.selectbox(t("common.unit"), wave.units, index=None, key="paper_unit",
                          placeholder=t("interview.choose"))
interviewer = col_int.text_input(t("supervision.paper.interviewer"), key="paper_interviewer",
                                 help=t("supervision.paper.interviewer_help"))
text_labels = [qn.text(q, session.lang()) for q in qn.questions if q.type == "text"]
keyboard.enter_moves_on([t("supervision.paper.paper_id"), t("supervision.paper.interviewer"),
                         t("supervision.paper.codes"), *text_labels])
if not paper_id.strip():
    st.stop()
try:
    status, first_keyer = form_status(store, account, wave_id, paper_id)
except PaperError:
    st.error(t("supervision.paper.err_paper_id", detail=md_escape(paper_id)))
    st.stop()
if status in ("own", "done", "other_firm"):
    st.warning(t(f"supervision.paper.status_{status}"))
    st.stop()
st.info(t("supervision.paper.status_new") if status == "new" else
        t("supervision.paper.status_second", keyer=first_keyer))

# the code string: every single-choice question in the order printed on the paper
keyed = quick_entry.keyable(qn, ROLES)
forms.quick_entry_field(qn, FORM, ROLES, keep=True, label=t("supervision.paper.codes"),
                        help=t("supervision.paper.codes_help", n=len(keyed), order="、".join(
                            qn.label(q, session.lang()) for q in keyed)), placeholder="1144539...")

answers: dict = {}
st.subheader(t("interview.screening"))
forms.ask_section(qn, "screening", MODE, FORM, answers, numbered=True)
screened = [q.id for q in qn.by_role("screening")]
if all(answers.get(q) is not None for q in screened) and not qn.is_eligible(answers):
    st.warning(t("interview.not_eligible"))
    st.stop()
st.subheader(t("interview.items"))
forms.ask_section(qn, "item", MODE, FORM, answers, numbered=True)
if qn.kind == "appraisal":
    st.subheader(t("interview.units"))
    forms.ask_units(qn, MODE, FORM, answers, numbered=True)
st.subheader(t("interview.followups"))
forms.ask_section(qn, "followup", MODE, FORM, answers, numbered=True)
st.subheader(t("interview.demographics"))
forms.ask_section(qn, "demographic", MODE, FORM, answers, numbered=True)
shown_keyed = [q for q in keyed if qn.is_shown(q, answers)]
done_n = sum(answers.get(q.id) is not None for q in shown_keyed)
st.caption(t("supervision.paper.codes_summary", n=done_n, total=len(shown_keyed)))

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
            st.error(t(f"supervision.paper.err_{err.code}", detail=md_escape(err)) if err.code in
                     ("same_keyer", "other_firm", "already_keyed") else t("common.error", detail=md_escape(err)))
        except (SubmitError, PermissionDenied, Rejected) as err:
            st.error(t("common.error", detail=md_escape(err)))
        else:
            values = {"paper_id": done.paper_id, "response_id": done.response_id, "n": len(done.mismatches)}
            kind = {"awaiting_second": "awaiting", "mismatch": "mismatch"}.get(
                done.status, "stored" if done.created else "stored_again")
            st.session_state["paper_result"] = (kind, values, done.mismatches)
            st.rerun()
