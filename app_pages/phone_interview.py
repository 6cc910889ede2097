"""Pollster: one phone interview from screening to submit."""
from __future__ import annotations

import uuid

import streamlit as st

from survey.auth import PermissionDenied
from survey.bootstrap import questionnaire_for_wave
from survey.responses import SubmitError, submit_interview, visible_responses
from survey.store import now
from ui import forms, session
from ui.session import t

FORM = "phone"
MODE = "phone"

account = session.refresh_account() or session.require_account()
store = session.store()
st.title(t("interview.title"))

waves = list(account.waves) if account.role == "pollster" else [w["id"] for w in store.waves()]
if not waves:
    st.warning(t("common.no_wave"))
    st.stop()


def start_new() -> None:
    forms.clear(FORM)
    st.session_state["phone_key"] = f"entry:{uuid.uuid4()}"
    st.session_state["phone_started"] = now()
    st.session_state.pop("phone_result", None)


if "phone_key" not in st.session_state:
    start_new()

col_wave, col_unit, col_done = st.columns([1, 1, 2])
wave_id = col_wave.selectbox(t("common.wave"), waves, key="phone_wave")
wave = store.wave(wave_id)
qn = questionnaire_for_wave(store, wave_id)
unit = col_unit.selectbox(t("common.unit"), wave["units"], key="phone_unit", help=t("interview.unit_help"))
mine = len(visible_responses(store, account, wave_id))
col_done.metric(t("interview.done_today", n=mine), mine)

result = st.session_state.get("phone_result")
if result:
    st.success(t("interview.submitted" if result[1] else "interview.already", response_id=result[0]))
    st.button(t("interview.new"), on_click=start_new, type="primary")
    st.stop()

with st.expander(t("interview.intro_heading"), expanded=True):
    st.write(qn.intro_en if session.lang() == "en" and qn.intro_en else qn.intro)

answers: dict = {}
st.subheader(t("interview.screening"))
forms.ask_section(qn, "screening", MODE, FORM, answers)
screened = [q.id for q in qn.by_role("screening")]
if all(answers.get(q) is not None for q in screened) and not qn.is_eligible(answers):
    st.warning(t("interview.not_eligible"))
    st.button(t("interview.new"), on_click=start_new)
    st.stop()

st.subheader(t("interview.items"))
st.caption(t("interview.dk_hint"))
forms.ask_section(qn, "item", MODE, FORM, answers)
st.subheader(t("interview.followups"))
forms.ask_section(qn, "followup", MODE, FORM, answers)
st.subheader(t("interview.demographics"))
forms.ask_section(qn, "demographic", MODE, FORM, answers)

if st.button(t("interview.submit"), type="primary", key="phone_submit"):
    problems = [p for p in qn.check_answers(answers) if p.endswith("required")]
    if problems:
        st.error(t("interview.missing", fields=forms.missing_fields(qn, problems)))
    else:
        try:
            done = submit_interview(store, account, wave_id, unit=unit, mode=MODE, answers=answers,
                                    submit_key=st.session_state["phone_key"],
                                    started_at=st.session_state["phone_started"])
        except (SubmitError, PermissionDenied) as err:
            st.error(t("common.error", detail=err))
        else:
            st.session_state["phone_result"] = (done.response_id, done.created)
            st.rerun()
