"""District results and appeals: a unit liaison sees its unit and files objections; the analyst decides them."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from common.errors import Rejected
from survey import appeals, i18n
from survey.auth import allowed
from ui import session
from ui.plain import md_escape
from ui.session import t

account = session.page_account(__file__, refresh=True)
store = session.store()
st.title(t("appeals.title"))
liaison_unit = account.unit if allowed(account, "objections.file") else None
if liaison_unit:
    st.caption(t("appeals.own_unit", unit=md_escape(liaison_unit)))

pubs = appeals.publications(store, account)
if not pubs:
    st.info(t("appeals.no_publication"))
    st.stop()


def pub_label(p: appeals.Publication) -> str:
    text = t("appeals.publication_label", id=p.id, wave=p.wave, at=i18n.when(p.published_at), config=p.config_name)
    return text + (t("appeals.revised_label", base=p.appeal_of) if p.appeal_of else "")


by_id = {p.id: p for p in pubs}
chosen = st.selectbox(t("appeals.publication"), list(by_id), format_func=lambda i: pub_label(by_id[i]),
                      key="appeals_publication")
pub = by_id[chosen]
if pub.deadline is None:
    st.info(t("appeals.deadline_none"))
elif appeals.window_open(pub.deadline, dt.datetime.now()):
    st.info(t("appeals.deadline_open", deadline=md_escape(i18n.when(pub.deadline))))
else:
    st.warning(t("appeals.deadline_closed", deadline=md_escape(i18n.when(pub.deadline))))

flash = st.session_state.pop("appeals_flash", None)
if flash:
    st.success(flash)


def fmt(value, spec: str = "{:.1%}") -> str:
    return "" if value is None else spec.format(value)


def status_text(o: dict) -> str:
    return t(f"appeals.status.{o['status']}")


def objection_table(rows: list[dict]) -> pd.DataFrame:
    c = lambda k: t(f"appeals.col.{k}")  # noqa: E731
    return pd.DataFrame({
        c("id"): [f"#{o['id']}" for o in rows], c("unit"): [o["unit"] for o in rows],
        c("kind"): [t(f"appeals.kinds.{o['kind']}") for o in rows],
        c("responses"): ["、".join(o["response_ids"]) for o in rows], c("reason"): [o["reason"] for o in rows],
        c("filed"): [f"{o['filed_by']} · {i18n.when(o['filed_at'])}" for o in rows],
        c("status"): [status_text(o) for o in rows], c("decision"): [o["decision_reason"] or "" for o in rows],
        c("decided"): [f"{o['decided_by']} · {i18n.when(o['decided_at'])}" if o["decided_by"] else "" for o in rows],
        c("new_publication"): [f"#{o['new_publication_id']}" if o["new_publication_id"] else "" for o in rows]})


def differences_table(diffs: list[dict]) -> pd.DataFrame:
    c = lambda k: t(f"appeals.col.{k}")  # noqa: E731
    return pd.DataFrame({c("unit"): [d["unit"] for d in diffs],
                         c("before"): [d["points_before"] for d in diffs],
                         c("after"): [d["points_after"] for d in diffs],
                         c("difference"): [None if d["difference"] is None else f"{d['difference']:+.2f}"
                                           for d in diffs]})


# ---- a liaison: the own unit's result, method, evidence; file an objection ----------------
if liaison_unit:
    view = appeals.unit_view(store, account, pub.id)
    r = view.result
    st.subheader(t("appeals.result"))
    c = lambda k: t(f"appeals.col.{k}")  # noqa: E731
    st.dataframe(pd.DataFrame({
        c("unit"): [view.unit], c("rate"): [fmt(r.get("rate"))],
        c("ci"): [f"{fmt(r.get('rate_low'))} – {fmt(r.get('rate_high'))}" if r.get("rate_low") is not None else ""],
        c("n_valid"): [r.get("n_valid")], c("points"): [r.get("points")], c("rank"): [r.get("rank")],
        c("rank_interval"): [f"{r.get('rank_low')}–{r.get('rank_high')}" if r.get("rank_low") else ""],
        c("p_below"): [fmt(r.get("p_below"))], c("warnings"): ["；".join(r.get("warnings") or [])]}),
        hide_index=True, width="stretch")
    if view.difference:
        d = view.difference
        st.info(t("appeals.revised", base=pub.appeal_of, before=d["points_before"], after=d["points_after"],
                  diff="" if d["difference"] is None else f"{d['difference']:+.2f}"))
    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("appeals.method_title"))
        st.dataframe(pd.DataFrame(view.method, columns=[c("item"), c("value")]), hide_index=True, width="stretch")
        with st.expander(t("appeals.method_text")):
            st.text(view.method_text)
    with right:
        st.subheader(t("appeals.evidence_title"))
        keys = ["responses", *[f"responses_{m}" for m in ("phone", "door", "paper", "web")], "excluded",
                "backchecked", "backcheck_confirmed", "recordings_reviewed", "door_with_gps", "gps_flagged"]
        st.dataframe(pd.DataFrame({c("item"): [t(f"appeals.evidence.{k}") for k in keys],
                                   c("count"): [view.evidence.get(k, 0) for k in keys]}),
                     hide_index=True, width="stretch")
    st.subheader(t("appeals.file_title"))
    if not view.window_open:
        st.warning(t("appeals.window_closed_note"))
    else:
        kind = st.radio(t("appeals.kind"), appeals.KINDS, horizontal=True, key="objection_kind",
                        format_func=lambda k: t(f"appeals.kind_{k}"))
        n = st.session_state.setdefault("objection_form", 0)  # a new form (empty fields) after each objection
        with st.form(f"file_objection_{n}"):
            ids = st.text_area(t("appeals.ids"), key=f"objection_ids_{n}", height=80,
                               disabled=kind != "responses")
            reason = st.text_area(t("appeals.reason"), key=f"objection_reason_{n}", height=80,
                                  placeholder=t("appeals.reason_help"))
            if st.form_submit_button(t("appeals.submit"), type="primary"):
                try:
                    oid = appeals.file_objection(store, account, pub.id, kind, reason,
                                                 ids if kind == "responses" else "")
                except Rejected as err:
                    for problem in err.problems:
                        st.error(md_escape(problem))
                else:
                    st.session_state["appeals_flash"] = t("appeals.filed", id=oid)
                    st.session_state["objection_form"] = n + 1
                    st.rerun()
    st.subheader(t("appeals.own_list"))
    mine = appeals.objections(store, account)
    if mine:
        st.dataframe(objection_table(mine), hide_index=True, width="stretch")
    else:
        st.caption(t("appeals.none"))

# ---- analyst / admin: the deadline, and a decision on each objection -----------------------
if allowed(account, "objections.decide"):
    with st.form("set_deadline"):
        col1, col2 = st.columns([2, 1])
        deadline = col1.text_input(t("appeals.set_deadline"), value=i18n.when(pub.deadline) if pub.deadline else "",
                                   help=t("appeals.deadline_help"), key=f"deadline_{pub.id}")
        if col2.form_submit_button(t("appeals.do_set_deadline")):
            try:
                value = appeals.set_deadline(store, account, pub.id, deadline)
            except Rejected as err:
                st.error(md_escape(err.problems[0]))
            else:
                st.session_state["appeals_flash"] = t("appeals.deadline_set", id=pub.id, deadline=i18n.when(value))
                st.rerun()
    last = st.session_state.get("appeals_decision")
    if last and last.get("differences"):
        st.subheader(t("appeals.differences"))
        st.dataframe(differences_table(last["differences"]), hide_index=True, width="stretch")
    chain = {pub.id, *(p.id for p in pubs if p.appeal_of == pub.id)}
    rows = [o for o in appeals.objections(store, account, wave=pub.wave) if o["publication_id"] in chain]
    st.subheader(t("appeals.all_list"))
    if not rows:
        st.caption(t("appeals.none"))
    else:
        st.dataframe(objection_table(rows), hide_index=True, width="stretch")
    for o in [o for o in rows if o["status"] == "open"]:
        with st.expander(t("appeals.decide_title", id=o["id"], unit=o["unit"], kind=t(f"appeals.kinds.{o['kind']}")),
                         expanded=True):
            st.text(o["reason"])
            if o["response_ids"]:
                st.text("、".join(o["response_ids"]))
            with st.form(f"decide_{o['id']}"):
                outcome = st.radio(t("appeals.decide_outcome"), ["upheld", "rejected"], horizontal=True,
                                   format_func=lambda s: t(f"appeals.status.{s}"), key=f"outcome_{o['id']}")
                why = st.text_area(t("appeals.decide_reason"), key=f"why_{o['id']}", height=80)
                if st.form_submit_button(t("appeals.do_decide"), type="primary"):
                    try:
                        done = appeals.decide(store, account, o["id"], outcome == "upheld", why)
                    except Rejected as err:
                        st.error(md_escape(err.problems[0]))
                    else:
                        if done.status == "upheld" and o["kind"] == "responses":
                            key = "decided_upheld" if done.new_publication_id else "decided_upheld_nochange"
                            msg = t(f"appeals.{key}", id=o["id"], n=done.excluded, new=done.new_publication_id)
                        else:
                            msg = t("appeals.decided_other", id=o["id"], status=t(f"appeals.status.{done.status}"))
                        st.session_state["appeals_flash"] = msg
                        st.session_state["appeals_decision"] = {"differences": done.differences}
                        st.rerun()
