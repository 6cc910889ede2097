"""Resident web survey, public at /survey (?t=TOKEN invitation, ?l=CODE open link). Phone first."""
from __future__ import annotations

import streamlit as st

from survey import webform
from survey.bootstrap import questionnaire_for_wave
from survey.responses import SubmitError
from survey.webform import CONSENT_KEY, Refused
from ui import forms, session, visitor
from ui.plain import md_escape
from ui.session import t

FORM = "web"
MODE = "web"

st.set_page_config(page_title=t("web.page_title"), layout="centered", initial_sidebar_state="collapsed")
st.html("""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
.block-container { padding: 0.8rem 1rem 3rem 1rem !important; max-width: 640px; }
div[role="radiogroup"] label { padding: 0.35rem 0; font-size: 1.02rem; }
div[data-testid="stButton"] button { min-height: 2.8rem; }
</style>""")

store = session.store()
guest = visitor.current()
params = st.query_params
access = (params.get("t"), params.get("l"))

# -- open (or resume) once per browser session and access code --------------------------------
if st.session_state.get("web_access") != access:
    st.session_state["web_access"] = access
    st.session_state["web_opened"] = webform.open_survey(store, guest, token=access[0], link=access[1])
    for stale in ("web_done", "web_error", "web_ineligible", "web_resume_seen"):
        st.session_state.pop(stale, None)
    opened = st.session_state["web_opened"]
    if not isinstance(opened, Refused):
        st.session_state["web_answers"] = dict(opened.answers)
        st.session_state["web_step"] = opened.step
        forms.clear(FORM)
opened = st.session_state["web_opened"]


def switch_language() -> None:
    """Keep this screen's answers as codes across the switch.

    A choice widget is keyed by its shown labels, so after a switch the browser's old label
    ("一般") matches no option of the new language and the answer would be lost. The codes go
    into the answers and the widgets are redrawn from them in the new language.
    """
    kept = st.session_state.get("web_answers")
    for key in [k for k in st.session_state if str(k).startswith(forms.widget_key("", FORM))]:
        value = st.session_state.pop(key)
        if kept is not None and value not in (None, ""):
            kept[str(key)[len(forms.widget_key("", FORM)):]] = value
    st.session_state["lang"] = "en" if session.lang() == "zh" else "zh"


st.container(horizontal=True, horizontal_alignment="right").button(
    t("web.lang_switch"), on_click=switch_language, key="web_lang", type="tertiary", icon=":material/translate:")

if isinstance(opened, Refused):
    st.subheader(t("web.refused_title"))
    reason = "closed_on" if opened.reason == "closed" and opened.detail.get("when") else opened.reason
    (st.info if reason in ("token_used", "device_done", "closed", "closed_on") else st.warning)(
        t(f"web.{reason}", **opened.detail))
    st.stop()

draft = opened
qn = questionnaire_for_wave(store, draft.wave)
screens = webform.screens(qn, order=webform.unit_order(qn, draft.draft_id) if qn.kind == "appraisal" else None)
answers: dict = st.session_state["web_answers"]

done = st.session_state.get("web_done")
if done is not None:
    st.subheader(t("web.thanks_title"))
    st.success(t("web.thanks") if done.created else t("web.thanks_again"))
    st.stop()
if draft.status == "ineligible" or st.session_state.get("web_ineligible"):
    st.subheader(t("web.ineligible_title"))
    st.info(t("web.ineligible"))
    st.stop()

step = min(int(st.session_state.get("web_step", 0)), len(screens) - 1)
screen = screens[step]


def _collect() -> None:
    """Copy this screen's widget values into the answers (widgets forget values off screen)."""
    for q in screen.questions:
        value = st.session_state.get(forms.widget_key(q.id, FORM))
        if q.type != "text" and value not in {o.code for o in qn.options(q)}:
            value = None  # answers are option codes, never a label of either language
            answers.pop(q.id, None)
        else:
            answers[q.id] = value
    for q in qn.questions:  # answers hidden by skip logic are not kept
        if not qn.is_shown(q, answers):
            answers.pop(q.id, None)


def go(delta: int) -> None:
    _collect()
    st.session_state.pop("web_error", None)
    if delta > 0:
        missing = webform.missing_on_screen(qn, screen, answers)
        if missing:
            st.session_state["web_error"] = t("web.missing", fields="、".join(qn.label(q, session.lang())
                                                                          for q in missing))
            return
        if screen.kind == "screening" and not qn.is_eligible(answers):
            webform.end_ineligible(store, draft.draft_id, answers)
            st.session_state["web_ineligible"] = True
            return
    st.session_state["web_step"] = max(0, step + delta)
    webform.save_progress(store, draft.draft_id, answers, st.session_state["web_step"])


def send() -> None:
    _collect()
    try:
        st.session_state["web_done"] = webform.submit(store, draft.draft_id, answers, guest)
    except webform.WaveClosed:
        st.session_state["web_error"] = t("web.closed_at_submit")
    except SubmitError as err:
        st.session_state["web_error"] = t("web.missing", fields=forms.missing_fields(qn, err.problems))
    except Exception as err:  # the draft is saved; say so rather than lose the resident
        st.session_state["web_error"] = t("web.error", detail=md_escape(err))


if step > 0:
    st.progress(step / (len(screens) - 1), text=t("web.progress", step=step, total=len(screens) - 1))
if draft.resumed and step > 0 and not st.session_state.get("web_resume_seen"):
    st.session_state["web_resume_seen"] = True
    st.toast(t("web.resumed"))

if screen.kind == "intro":
    st.subheader(t("web.intro_title"))
    sponsor = webform.web_sponsor(store, draft.wave) or t("web.sponsor_default")
    st.write(t("web.intro_who", sponsor=sponsor, unit=draft.unit))
    st.write(t("web.intro_purpose"))
    st.write(t("web.intro_anonymous"))
    st.write(t("web.intro_time"))
    consent = st.checkbox(t("web.consent"), value=bool(answers.get(CONSENT_KEY)), key="web_consent")
    answers[CONSENT_KEY] = consent
    st.button(t("web.start"), type="primary", disabled=not consent, on_click=go, args=(1,), key="web_next",
              width="stretch")
    st.stop()

st.subheader(t(f"web.{screen.kind}_title"))
if screen.kind == "items":
    st.caption(t("web.items_hint"))
elif screen.kind == "units":
    st.caption(t("web.units_hint"))
elif screen.kind == "demographics":
    st.caption(t("web.demographics_hint"))
for q in screen.questions:
    key = forms.widget_key(q.id, FORM)
    if key not in st.session_state and answers.get(q.id) is not None:
        st.session_state[key] = answers[q.id]  # resume: show what was answered before
    if qn.is_shown(q, {**answers, **{p.id: st.session_state.get(forms.widget_key(p.id, FORM))
                                      for p in screen.questions}}):
        forms.ask(qn, q, MODE, FORM, horizontal=False)

if st.session_state.get("web_error"):
    st.error(st.session_state["web_error"])
last = step == len(screens) - 1
row = st.container(horizontal=True, wrap=False)
row.button(t("web.back"), on_click=go, args=(-1,), key="web_back", width="stretch")
if last:
    row.button(t("web.submit"), type="primary", on_click=send, key="web_submit", width="stretch")
else:
    row.button(t("web.next"), type="primary", on_click=go, args=(1,), key="web_next", width="stretch")
