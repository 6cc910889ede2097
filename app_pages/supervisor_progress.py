"""Supervisor: progress by unit / day / pollster, back-check list with outcomes, paper double-entry queue."""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from survey.auth import PermissionDenied, allowed, scope
from survey.backcheck import (OUTCOMES, backcheck_contact, backcheck_history, backcheck_list, outcome_summary,
                              per_pollster,
                              record_backcheck)
from survey.bootstrap import questionnaire_for_wave
from survey.aapor import rates_table
from survey.fieldwork import attempts_frame
from survey.paper import Pick, keying_status, mismatch_queue, resolve_paper
from survey.quality import flagged_ids
from survey.responses import SubmitError
from survey.store import StoreError
from survey.supervision import progress
from ui import evidence_views, forms, interview, progress_charts, session
from ui.plain import md_escape
from ui.session import t

account = session.page_account(__file__)
store = session.store()
st.title(t("supervision.title"))
st.caption(t("supervision.caption"))

waves = [w["id"] for w in store.waves()]
col_wave, col_firm = st.columns(2)
wave_id = session.wave_picker(col_wave, waves, "sup_wave")
firm = session.firm_picker(col_firm, account, "fieldwork.supervise", "sup_firm", t("supervision.firm"),
                          t("supervision.all_firms"))
if not scope(account, "fieldwork.supervise").everything and not account.firm:
    st.warning(t("supervision.no_firm"))
    st.stop()
else:
    col_firm.text_input(t("supervision.firm"), account.firm, disabled=True)

qn = questionnaire_for_wave(store, wave_id)
prog = progress(store, account, wave_id, firm)
items = backcheck_list(store, account, wave_id, flagged=flagged_ids(store, wave_id), firm=firm)
queue = mismatch_queue(store, account, wave_id, firm)
summary = outcome_summary(items)

m1, m2, m3, m4 = st.columns(4)
m1.metric(t("supervision.total"), prog.total)
m2.metric(t("supervision.pollsters"), len(prog.by_pollster))
m3.metric(t("supervision.backcheck_pending"), f"{summary['pending']} / {len(items)}")
m4.metric(t("supervision.paper_mismatch"), len(queue))

tab_progress, tab_rates, tab_back, tab_paper = st.tabs(
    [t("supervision.tab_progress"), t("supervision.tab_rates"), t("supervision.tab_backcheck"),
     t("supervision.tab_paper")])


def show_unit_progress(by_unit: pd.DataFrame) -> None:
    """Completes per unit, against quota targets when the wave has them (wire the quota module here)."""
    has_targets = by_unit["target"].notna().any()
    st.subheader(t("supervision.by_unit_targets" if has_targets else "supervision.by_unit"))
    if not has_targets:
        st.caption(t("supervision.no_targets"))
    shown = by_unit.rename(columns={"unit": t("supervision.col_unit"), "n": t("supervision.col_n"),
                                    "target": t("supervision.col_target"), "share": t("supervision.col_share")})
    if not has_targets:
        shown = shown.drop(columns=[t("supervision.col_target"), t("supervision.col_share")])
    left, right = st.columns([3, 2])
    left.altair_chart(progress_charts.unit_progress(
        by_unit.fillna({"target": 0}) if has_targets else by_unit[["unit", "n"]], "unit", "n",
        "target" if has_targets else None, t("supervision.col_n")), width="stretch")
    right.dataframe(shown, hide_index=True, width="stretch", column_config={
        t("supervision.col_share"): st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)})


with tab_progress:
    if prog.total == 0:
        st.info(t("supervision.empty"))
    else:
        show_unit_progress(prog.by_unit)
        interview.quota_table(store, wave_id)  # every quota cell: unit × sex × age × line type × prefix
        left, right = st.columns(2)
        with left:
            st.subheader(t("supervision.by_day"))
            daily = prog.by_day.assign(mode=prog.by_day["mode"].map(lambda m: t(f"mode.{m}")))
            st.altair_chart(progress_charts.daily(daily, "day", "n", "mode"), width="stretch")
        with right:
            st.subheader(t("supervision.by_pollster"))
            st.altair_chart(progress_charts.per_pollster(prog.by_pollster, "interviewer", "n"), width="stretch")
        names = {"interviewer": t("supervision.col_interviewer"), "n": t("supervision.col_n"),
                 "days": t("supervision.col_days"), "last_day": t("supervision.col_last_day"),
                 **{m: t(f"mode.{m}") for m in ("phone", "door", "paper", "web")}}
        checks = pd.DataFrame.from_dict(per_pollster(items), orient="index").rename_axis("interviewer").reset_index()
        table = prog.by_pollster
        if len(checks):
            table = table.merge(checks, on="interviewer", how="left")
            table[["listed", "checked", "problems"]] = table[["listed", "checked", "problems"]].fillna(0).astype(int)
        names.update({"listed": t("supervision.col_bc_listed"), "checked": t("supervision.col_bc_checked"),
                      "problems": t("supervision.col_bc_problems")})
        st.dataframe(table.rename(columns=names), hide_index=True, width="stretch")


with tab_rates:
    attempts = attempts_frame(store, account, wave_id, firm)
    if attempts.empty:
        st.info(t("supervision.rates_empty"))
    else:
        by = st.segmented_control(t("supervision.rates_by"), ["unit", "mode", "interviewer", "day"], default="unit",
                                  key="sup_rates_by", format_func=lambda b: t(f"supervision.rates_by_{b}"))
        rates = rates_table(attempts, by or "unit")
        st.caption(t("supervision.rates_caption"))
        st.dataframe(rates, hide_index=True, width="stretch", column_config={
            c: st.column_config.NumberColumn(format="%.3f") for c in ("e", "RR1", "RR2", "RR3", "RR4", "COOP1",
                                                                      "REF1", "CON1")})


def outcome_text(outcome: str | None) -> str:
    return t(f"supervision.outcome.{outcome or 'pending'}")


def stamp(iso: str | None) -> str:
    return (iso or "").replace("T", " ")[:16]


def reason(item: Any) -> str:
    parts = [t("supervision.backcheck.reason_random")] if item.random else []
    return "、".join(parts + ([t("supervision.backcheck.reason_flagged")] if item.flagged else []))


with tab_back:
    st.caption(t("supervision.backcheck.caption"))
    if not items:
        st.info(t("supervision.backcheck.empty"))
    else:
        st.write(" · ".join(f"{outcome_text(k)} {v}" for k, v in summary.items() if v))
        table = pd.DataFrame([{
            t("supervision.backcheck.col_response"): i.response_id,
            t("supervision.col_interviewer"): i.interviewer, t("supervision.col_unit"): i.unit,
            t("supervision.col_mode"): t(f"mode.{i.mode}"),
            t("supervision.backcheck.col_submitted"): stamp(i.submitted_at),
            t("supervision.backcheck.col_reason"): reason(i),
            t("supervision.backcheck.col_outcome"): outcome_text(i.outcome),
            t("supervision.backcheck.col_by"): i.outcome_by or "",
            t("supervision.backcheck.col_at"): stamp(i.outcome_at),
            t("supervision.backcheck.col_note"): i.note, t("supervision.backcheck.col_excluded"): i.excluded,
        } for i in items])
        st.dataframe(table, hide_index=True, width="stretch", height=320)
        st.subheader(t("supervision.backcheck.record"))
        ordered = sorted(items, key=lambda i: (i.outcome is not None, i.interviewer, i.response_id))
        labels = {i.response_id: f"{i.response_id} · {i.interviewer} · {i.unit} · "
                                 f"{outcome_text(i.outcome)}" for i in ordered}
        with st.form("backcheck_form", clear_on_submit=True):
            chosen = st.selectbox(t("supervision.backcheck.choose"), list(labels), format_func=labels.get,
                                  key="bc_response")
            outcome = st.radio(t("supervision.backcheck.outcome_label"), OUTCOMES, horizontal=True, key="bc_outcome",
                               format_func=lambda o: t(f"supervision.outcome.{o}"))
            note = st.text_input(t("supervision.backcheck.note"), key="bc_note")
            saved = st.form_submit_button(t("supervision.backcheck.save"), type="primary", key="bc_save")
        if saved:  # the call is over: the number is masked again
            st.session_state.pop("bc_dialing", None)

        def dial(response_id: str = chosen) -> None:
            """Decrypt once per press of 拨打 (one audit row per dial, not one per rerun while shown)."""
            st.session_state["bc_dialing"] = (response_id, backcheck_contact(store, account, response_id,
                                                                             dial=True).value)

        # the respondent's number: masked; in clear when the supervisor dials (audited)
        contact = backcheck_contact(store, account, chosen)
        may_dial = allowed(account, "backcheck.dial")  # the firm's supervisor; backcheck_contact checks the firm
        dialing = st.session_state.get("bc_dialing")
        if contact is None:
            st.caption(t("supervision.backcheck.no_contact"))
        elif dialing and dialing[0] == chosen and may_dial:
            st.metric(t("cati.number"), dialing[1])
        else:
            c1, c2 = st.columns([1, 2])
            c1.metric(t("cati.masked_number"), contact.masked)
            if may_dial:
                c2.button(t("cati.dial"), key="bc_dial", help=t("supervision.backcheck.dial_help"), on_click=dial)
        if saved:
            try:
                new = record_backcheck(store, account, chosen, outcome, note)
            except (PermissionDenied, StoreError) as err:
                st.error(t("common.error", detail=md_escape(err)))
            else:
                st.session_state["bc_saved"] = (chosen, outcome, new)
                st.rerun()
        done = st.session_state.pop("bc_saved", None)
        if done:
            st.success(t("supervision.backcheck.saved", response_id=done[0],
                         outcome=t(f"supervision.outcome.{done[1]}")) if done[2]
                       else t("supervision.backcheck.unchanged"))
        with st.expander(t("supervision.backcheck.history")):
            history = backcheck_history(store, account, chosen)
            if history:
                st.dataframe(pd.DataFrame([{
                    t("supervision.backcheck.col_outcome"): outcome_text(h["outcome"]),
                    t("supervision.backcheck.col_by"): h["actor"], t("supervision.backcheck.col_at"): stamp(h["at"]),
                    t("supervision.backcheck.col_note"): h["note"]} for h in history]),
                    hide_index=True, width="stretch")


def field_label(name: str) -> str:
    return forms.field_label(qn, name)


def shown_value(name: str, value: Any) -> str:
    return forms.shown_value(qn, name, value)


def paper_value_input(name: str, key: str) -> Any:
    """The widget for a value read off the paper: the question's options, the wave's units, or text."""
    label = t("supervision.paper.paper_value")
    if name == "unit":
        return st.selectbox(label, store.wave(wave_id)["units"], index=None, key=key, placeholder=t("interview.choose"))
    try:
        q = qn.question(name)
    except KeyError:
        return st.text_input(label, key=key) or None
    if q.type == "text":
        return st.text_input(label, key=key) or None
    return st.selectbox(label, [o.code for o in qn.options(q)], index=None, key=key, placeholder=t("interview.choose"),
                        format_func=lambda c: shown_value(name, c))


with tab_paper:
    counts = keying_status(store, account, wave_id, firm)
    st.caption(t("supervision.paper.queue_caption"))
    st.write(t("supervision.paper.status_counts", awaiting=counts["awaiting_second"], mismatch=counts["mismatch"],
               stored=counts["stored"]))
    if not queue:
        st.info(t("supervision.paper.queue_empty"))
    for form in queue:
        k1, k2 = form.entries[0]["keyer"], form.entries[1]["keyer"]
        with st.expander(t("supervision.paper.queue_item", paper_id=form.paper_id, n=len(form.mismatches), keyer1=k1,
                           keyer2=k2), expanded=len(queue) <= 3):
            with st.form(f"resolve_{form.paper_id}"):
                picks_raw: dict[str, tuple[str, Any]] = {}
                for m in form.mismatches:
                    c_field, c_pick, c_value = st.columns([2, 3, 2])
                    c_field.markdown(f"**{field_label(m.field)}**")
                    options = {"entry1": t("supervision.paper.pick_entry1") + f"：{shown_value(m.field, m.entry1)}",
                               "entry2": t("supervision.paper.pick_entry2") + f"：{shown_value(m.field, m.entry2)}",
                               "paper": t("supervision.paper.pick_paper")}
                    source = c_pick.radio(field_label(m.field), list(options), format_func=options.get, index=None,
                                          key=f"pick_{form.paper_id}_{m.field}", label_visibility="collapsed")
                    with c_value:
                        value = paper_value_input(m.field, f"value_{form.paper_id}_{m.field}")
                    picks_raw[m.field] = (source, value)
                go = st.form_submit_button(t("supervision.paper.resolve"), type="primary",
                                           key=f"resolve_btn_{form.paper_id}")
            unpicked = [field_label(f) for f, (source, _) in picks_raw.items() if source is None]
            if go and unpicked:
                st.error(t("supervision.paper.choose_all", fields="、".join(unpicked)))
            elif go:
                try:
                    done = resolve_paper(store, account, wave_id, form.paper_id,
                                         {f: Pick(s, v) for f, (s, v) in picks_raw.items()})
                except (SubmitError, PermissionDenied, StoreError) as err:
                    st.error(t("common.error", detail=md_escape(err)))
                else:
                    st.session_state["paper_resolved"] = (form.paper_id, done.response_id)
                    st.rerun()
    resolved = st.session_state.pop("paper_resolved", None)
    if resolved:
        st.success(t("supervision.paper.resolved", paper_id=resolved[0], response_id=resolved[1]))


# 录音复核 rates by pollster and the map of door interviews

st.divider()
evidence_views.review_rates_table(store, account, wave_id, firm)
evidence_views.door_map(store, account, wave_id, firm, key="sup_door_map")
