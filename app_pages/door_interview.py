"""Pollster: one door-to-door (入户) interview with its household and respondent-selection record."""
from __future__ import annotations

from typing import Any

import streamlit as st

from survey.quotas import quota_status
from survey.recordings import evidence_options
from survey.waves import read_wave
from ui import door_evidence, interview, session
from ui.session import t

FORM = "door"
MODE = "door"
METHODS = ("birthday", "kish")

account = session.page_account(__file__, refresh=True)
store = session.store()
st.title(t("interview.door_title"))

waves = session.entry_waves(account)


def household(form: str) -> None:
    """Where and whom: address only (no names), household size, adults, how the respondent was chosen."""
    key = lambda name: interview.record_key(form, name)  # noqa: E731
    c1, c2 = st.columns(2)
    c1.text_input(t("interview.hh_community"), key=key("community"), help=t("interview.hh_community_help"))
    c2.text_input(t("interview.hh_address"), key=key("address"))
    c3, c4, c5 = st.columns(3)
    c3.number_input(t("interview.hh_size"), min_value=1, max_value=30, step=1, value=None, key=key("size"))
    c4.number_input(t("interview.hh_adults"), min_value=1, max_value=30, step=1, value=None, key=key("adults"))
    c5.radio(t("interview.hh_method"), METHODS, key=key("method"), horizontal=True,
             format_func=lambda m: t(f"interview.hh_{m}"))
    c6, c7 = st.columns([1, 2])
    c6.number_input(t("interview.hh_selected_no"), min_value=1, max_value=30, step=1, value=None,
                    key=key("selected_no"))
    c7.text_input(t("interview.hh_selected"), key=key("selected"), help=t("interview.hh_selected_help"))


def household_record(form: str) -> tuple[dict[str, Any], list[str]]:
    """The household record as kept (values) and what it still lacks (problems), shown or not."""
    get = lambda name: st.session_state.get(interview.record_key(form, name))  # noqa: E731
    size, adults, selected_no = get("size"), get("adults"), get("selected_no")
    values = {"community": (get("community") or "").strip(), "address": (get("address") or "").strip(),
              "size": size, "adults": adults, "method": get("method") or METHODS[0], "selected_no": selected_no,
              "selected": (get("selected") or "").strip()}
    problems = []
    if not values["community"]:
        problems.append(t("interview.hh_missing_community"))
    if size is None:
        problems.append(t("interview.hh_missing_size"))
    if adults is None:
        problems.append(t("interview.hh_missing_adults"))
    elif size is not None and adults > size:
        problems.append(t("interview.hh_adults_gt_size"))
    if selected_no is not None and adults is not None and selected_no > adults:
        problems.append(t("interview.hh_selected_gt_adults"))
    if selected_no is None or not values["selected"]:
        problems.append(t("interview.hh_missing_selected"))
    return values, problems


interview.resume(store, account, FORM, waves=waves)
col_wave, col_unit, col_done = st.columns([1, 1, 2])
wave_id = session.wave_picker(col_wave, waves, "door_wave")
unit = col_unit.selectbox(t("common.unit"), read_wave(store, account, wave_id).units, key="door_unit",
                          help=t("interview.unit_help"))
record = interview.Record("household", "interview.household", household, household_record)
main, side = st.columns([2, 1], gap="large")
with side:
    interview.quota_table(store, wave_id)
evidence = evidence_options(read_wave(store, account, wave_id))  # wave options: position, entrance photo, recording
evidence_no = door_evidence.interview_no()
with main:
    door_evidence.start_fix(evidence, evidence_no)
    interview.run(store, account, interview.Setup(FORM, MODE, wave_id, unit, record=record),
                  quota=lambda answers: quota_status(store, wave_id, unit, answers),
                  evidence=lambda answers: door_evidence.section(evidence, evidence_no, answers),
                  on_submitted=lambda done, draft: door_evidence.save_files(store, account, done.response_id,
                                                                            evidence_no),
                  on_new=door_evidence.next_interview)
