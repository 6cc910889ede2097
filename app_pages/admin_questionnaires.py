"""Admin: upload a new questionnaire version (problems on the file's lines) and preview it per mode.

The preview draws the questions with the same widgets the pages use (ui.forms.ask_section for
phone, door and paper; survey.webform.screens + ui.forms.ask for the web survey), stores nothing.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from survey import wave_setup
from survey.auth import PermissionDenied
from survey.questionnaire import QuestionnaireError
from common.errors import Rejected
from survey.webform import screens
from ui import forms, session
from ui.session import t

account = session.page_account(__file__)
store = session.store()
st.title(t("setup.questionnaires.title"))

st.subheader(t("setup.questionnaires.upload"))
upload = st.file_uploader(t("setup.questionnaires.file"), type=["yaml", "yml"], key="qn_file")
if upload is not None and st.button(t("setup.questionnaires.submit"), type="primary", key="qn_register"):
    try:
        qn, created = wave_setup.register_questionnaire_upload(store, account, upload.getvalue(), upload.name)
    except QuestionnaireError as err:
        st.error(t("setup.questionnaires.refused", n=len(err.problems)))
        st.dataframe(pd.DataFrame({t("setup.col.problem"): err.problems}), hide_index=True, width="stretch")
    except (Rejected, PermissionDenied) as err:
        st.error(t("common.error", detail=err))
    else:
        st.success(t("setup.questionnaires.registered" if created else "setup.questionnaires.known", id=qn.id,
                     version=qn.version))
        st.session_state["qn_preview"] = qn.id

listed = wave_setup.questionnaires(store)
st.subheader(t("setup.questionnaires.list"))
st.dataframe(pd.DataFrame({t("setup.col.questionnaire"): [q["id"] for q in listed],
                           t("setup.col.version"): [q["version"] for q in listed],
                           t("setup.col.title"): [q["title"] for q in listed],
                           t("setup.col.created_at"): [q["created_at"].replace("T", " ") for q in listed]}),
             hide_index=True, width="stretch")

st.subheader(t("setup.questionnaires.preview"))
ids = [q["id"] for q in listed]
if st.session_state.get("qn_preview") not in ids:
    st.session_state["qn_preview"] = ids[-1]
qid = st.selectbox(t("setup.field.questionnaire"), ids, key="qn_preview")
qn = wave_setup.questionnaire(store, qid)
st.caption(t("setup.questionnaires.preview_help"))
# one mode at a time: four full questionnaires on one page would take seconds to draw
mode = st.radio(t("setup.col.mode"), ("phone", "door", "paper", "web"), horizontal=True, key="qn_preview_mode",
                format_func=lambda m: t(f"setup.mode.{m}"))
SECTIONS = (("screening", "interview.screening"), ("item", "interview.items"),
            ("followup", "interview.followups"), ("demographic", "interview.demographics"))
if mode != "web":
    answers: dict = {}
    for role, heading in SECTIONS:
        st.subheader(t(heading))
        forms.ask_section(qn, role, mode, f"preview_{qid}_{mode}", answers, numbered=mode != "paper")
else:
    shown = [s for s in screens(qn) if s.kind != "intro"]
    number = st.slider(t("setup.questionnaires.screen"), 1, len(shown), 1, key=f"preview_{qid}_screen")
    screen = shown[number - 1]
    _, phone_frame, _ = st.columns([1, 2, 1])
    with phone_frame.container(border=True):
        st.subheader(t(f"web.{screen.kind}_title"))
        for q in screen.questions:
            forms.ask(qn, q, "web", f"preview_{qid}_web", horizontal=False)
