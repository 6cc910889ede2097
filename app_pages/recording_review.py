"""Reviewer (supervisor of a firm, or admin): the 录音复核 queue, listening, outcomes, call-recording import."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from common.errors import Rejected
from survey.auth import allowed, scope
from survey.recordings import (OUTCOMES, evidence_options, import_recordings, read_zip, record_review,
                               recording_bytes, response_files, review_history, review_queue)
from survey.waves import read_wave, wave_ids
from ui import evidence_views, session
from ui.session import t

account = session.page_account(__file__)
store = session.store()
st.title(t("evidence.title"))
st.caption(t("evidence.caption"))

waves = wave_ids(store, account)
col_wave, col_firm = st.columns(2)
wave_id = session.wave_picker(col_wave, waves, "rr_wave")
firm = session.firm_picker(col_firm, account, "recordings.review", "rr_firm", t("evidence.firm"),
                          t("evidence.all_firms"))
if not scope(account, "recordings.review").everything:
    col_firm.text_input(t("evidence.firm"), account.firm or "", disabled=True)

wave = read_wave(store, account, wave_id)
items = review_queue(store, account, wave_id, firm=firm)
pending = [i for i in items if i.outcome is None]
m1, m2, m3, m4 = st.columns(4)
m1.metric(t("evidence.queue_total"), f"{len(pending)} / {len(items)}")
m2.metric(t("evidence.queue_rate"), f"{evidence_options(wave).review_rate:.0%}")
m3.metric(t("evidence.reviewed"), len(items) - len(pending))
m4.metric(t("evidence.failed"), sum(i.outcome == "fail" for i in items))


def outcome_text(outcome: str | None) -> str:
    return t(f"evidence.outcome.{outcome}") if outcome else t("evidence.pending")


def stamp(iso: str | None) -> str:
    return (iso or "").replace("T", " ")[:16]


tab_queue, tab_import = st.tabs([t("evidence.tab_queue"), t("evidence.tab_import")])

with tab_queue:
    if not items:
        st.info(t("evidence.no_items"))
    else:
        only_pending = st.toggle(t("evidence.filter_pending"), value=False, key="rr_pending")
        shown = pending if only_pending else items
        table = pd.DataFrame([{
            t("evidence.col.response_id"): i.response_id, t("evidence.col.interviewer"): i.interviewer,
            t("evidence.col.unit"): i.unit, t("evidence.col.mode"): t(f"mode.{i.mode}"),
            t("evidence.col.submitted_at"): stamp(i.submitted_at),
            t("evidence.col.reason"): "、".join(([t("evidence.reason_random")] if i.random else [])
                                               + ([t("evidence.reason_flagged")] if i.flagged else [])),
            t("evidence.col.recordings"): i.recordings, t("evidence.col.outcome"): outcome_text(i.outcome),
            t("evidence.col.outcome_reason"): i.reason, t("evidence.col.reviewer"): i.reviewer or "",
            t("evidence.col.reviewed_at"): stamp(i.reviewed_at), t("evidence.col.excluded"): i.excluded,
        } for i in shown])
        st.dataframe(table, hide_index=True, width="stretch", height=280)

        ordered = sorted(items, key=lambda i: (i.outcome is not None, i.interviewer, i.response_id))
        labels = {i.response_id: f"{i.response_id} · {i.interviewer} · {i.unit} · {outcome_text(i.outcome)}"
                  for i in ordered}
        chosen = st.selectbox(t("evidence.pick"), list(labels), format_func=labels.get, key="rr_response")
        files = response_files(store, account, chosen)
        audio = [f for f in files if f["kind"] == "audio"]
        if not audio:
            st.info(t("evidence.no_recording"))
        for n, rec in enumerate(audio, start=1):
            st.text(t("evidence.recording_label", n=n, file=rec["file_name"], at=stamp(rec["recorded_at"]),
                      sha=rec["sha256"][:12]))
            try:
                st.audio(recording_bytes(store, account, rec["id"]),
                         format="audio/wav" if rec["file_name"].lower().endswith(".wav") else "audio/mpeg")
            except Rejected as err:
                st.error(t("common.error", detail=str(err)))
        for rec in (f for f in files if f["kind"] == "photo"):
            st.text(t("evidence.photo_label", file=rec["file_name"]))
            try:
                st.image(recording_bytes(store, account, rec["id"]), width=320)
            except Rejected as err:
                st.error(t("common.error", detail=str(err)))

        with st.form("rr_form", clear_on_submit=True):
            outcome = st.radio(t("evidence.form_outcome"), OUTCOMES, horizontal=True, key="rr_outcome",
                               format_func=lambda o: t(f"evidence.outcome.{o}"))
            reason = st.text_input(t("evidence.form_reason"), key="rr_reason", max_chars=500)
            exclude, exclusion_reason = False, ""
            if allowed(account, "responses.exclude"):  # a 复核员 judges; the supervisor excludes
                exclude = st.checkbox(t("evidence.form_exclude"), key="rr_exclude")
                exclusion_reason = st.text_input(t("evidence.form_exclusion_reason"), key="rr_exclusion_reason",
                                                 max_chars=500)
            if st.form_submit_button(t("evidence.form_submit"), type="primary"):
                try:
                    stored = record_review(store, account, chosen, outcome, reason, exclude=exclude,
                                           exclusion_reason=exclusion_reason, lang=session.lang())
                except Rejected as err:
                    st.error(t("common.error", detail=str(err)))
                else:
                    if not stored:
                        st.info(t("evidence.unchanged"))
                    else:
                        st.session_state["rr_saved"] = t("evidence.saved_excluded" if exclude else "evidence.saved",
                                                         response_id=chosen, outcome=t(f"evidence.outcome.{outcome}"))
                        st.rerun()
        saved = st.session_state.pop("rr_saved", None)
        if saved:
            st.success(saved)
        history = review_history(store, account, chosen)
        if history:
            st.subheader(t("evidence.history"))
            st.dataframe(pd.DataFrame([{
                t("evidence.col.outcome"): outcome_text(h["outcome"]), t("evidence.col.outcome_reason"): h["reason"],
                t("evidence.col.excluded"): bool(h["excluded"]), t("evidence.col.reviewer"): h["actor"],
                t("evidence.col.reviewed_at"): stamp(h["at"])} for h in history]), hide_index=True, width="stretch")

    evidence_views.review_rates_table(store, account, wave_id, firm)

with tab_import:
    st.caption(t("evidence.import_help"))
    imported = st.session_state.pop("rr_imported", None)
    if imported:
        st.success(imported)
    upload = st.file_uploader(t("evidence.import_file"), type=["zip"], key="rr_zip")
    if st.button(t("evidence.import_submit"), type="primary", disabled=upload is None, key="rr_import"):
        result = import_recordings(store, account, wave_id, read_zip(upload.getvalue(), upload.name, session.lang()),
                                   session.lang())
        if result.ok:  # rerun so the queue counts the new recordings
            st.session_state["rr_imported"] = t("evidence.import_done", created=result.created, files=result.files)
            st.rerun()
        else:
            st.error(t("evidence.import_refused", n=len(result.problems)))
            with st.container(border=True, height=min(40 + 28 * len(result.problems), 400)):
                for line in result.problems[:200]:  # one line per file, as plain text
                    st.text(line)
