"""Supervisor / analyst: responses with their QC flags, a response's audit trail, exclude or restore."""
from __future__ import annotations

import collections

import pandas as pd
import streamlit as st

from survey import i18n, quality
from survey.auth import PermissionDenied
from survey.bootstrap import questionnaire_for_wave
from survey.config import MODES
from survey.responses import set_excluded
from common.errors import Rejected
from survey.waves import read_wave, wave_ids
from ui import session
from ui.plain import md_escape
from ui.session import t

MAX_ROWS = 5000

account = session.page_account(__file__)
store = session.store()
st.title(t("quality.review_title"))
st.caption(t("quality.review_caption"))
waves = wave_ids(store, account)
if not waves:
    st.warning(t("common.no_wave"))
    st.stop()

col_wave, col_run = st.columns([1, 2])
wave_id = session.wave_picker(col_wave, waves, "review_wave")
wave = read_wave(store, account, wave_id)
runs = quality.qc_runs(store, account, wave_id)
if account.can("qc.run") and col_run.button(t("quality.run_qc"), key="run_qc"):
    done = quality.run_qc(store, account, wave_id)
    counts = collections.Counter(f["flag"] for f in done.flags)
    text = "、".join(f"{t('quality.flag.' + k)} {counts.get(k, 0)}" for k in quality.FLAGS)
    st.session_state["qc_message"] = (t("quality.qc_done", n=len(done.flags), counts=text) if done.run_id
                                      else t("quality.qc_unchanged", n=len(done.flags)))
    runs = quality.qc_runs(store, account, wave_id)
if st.session_state.get("qc_message"):
    st.success(st.session_state.pop("qc_message"))
col_run.caption(t("quality.qc_last", run=runs[0].id, at=i18n.when(runs[0].at), actor=runs[0].actor) if runs
                else t("quality.qc_never"))

# ---- filters and table ------------------------------------------------------------------
ALL = ""
flag_options = [ALL, quality.ANY_FLAG, *quality.FLAGS, quality.NO_FLAG]
flag_names = {ALL: t("quality.all"), quality.ANY_FLAG: t("quality.any_flag"), quality.NO_FLAG: t("quality.no_flag"),
              **{f: t(f"quality.flag.{f}") for f in quality.FLAGS}}
everything = quality.review_table(store, account, wave_id)
f1, f2, f3, f4 = st.columns(4)
flag = f1.selectbox(t("quality.filter_flag"), flag_options, index=1, format_func=flag_names.get,  # flagged first
                    key="review_flag")
unit = f2.selectbox(t("quality.filter_unit"), [ALL, *wave.units], key="review_unit",
                    format_func=lambda u: u or t("quality.all"))
pollsters = sorted(p for p in everything["interviewer"].dropna().unique() if p)
pollster = f3.selectbox(t("quality.filter_pollster"), [ALL, *pollsters], key="review_pollster",
                        format_func=lambda p: p or t("quality.all"))
mode = f4.selectbox(t("quality.filter_mode"), [ALL, *MODES], key="review_mode",
                    format_func=lambda m: t(f"mode.{m}") if m else t("quality.all"))
table = quality.filter_review(everything, flag=flag or None, unit=unit or None, interviewer=pollster or None,
                              mode=mode or None)

m1, m2, m3 = st.columns(3)
m1.metric(t("quality.shown"), len(table))
m2.metric(t("quality.flagged"), int((table["flags"] != "").sum()))
m3.metric(t("quality.excluded"), int(table["excluded_reason"].notna().sum()))
if table.empty:
    st.info(t("quality.empty"))
    st.stop()
if len(table) > MAX_ROWS:
    st.caption(t("quality.too_many", n=len(table), shown=MAX_ROWS))
shown = table.head(MAX_ROWS).assign(
    mode=lambda d: d["mode"].map(lambda m: t(f"mode.{m}")),
    excluded_reason=lambda d: d["excluded_reason"].fillna(""),
    submitted_at=lambda d: d["submitted_at"].map(i18n.when),
    flags=lambda d: d["flags"].map(lambda fl: "、".join(t(f"quality.flag.{f}") for f in fl.split(", ") if f)))
st.dataframe(shown.rename(columns={c: t(f"quality.col_{c}") for c in shown.columns}), hide_index=True,
             width="stretch", height=320)

# ---- one response -----------------------------------------------------------------------
st.subheader(t("quality.detail_heading"))
rid = st.selectbox(t("quality.pick"), list(table["response_id"].head(MAX_ROWS)), key="review_pick")
try:
    review = quality.response_review(store, account, rid)
except (PermissionDenied, Rejected) as err:
    st.error(t("common.no_permission", detail=md_escape(err)))
    st.stop()
row = review["response"]
qn = questionnaire_for_wave(store, row["wave"])


def source_text(source: str) -> str:
    """How the response came in, from the catalog (the stored code where the catalog has none)."""
    key = f"quality.source_kind.{source}"
    return t(key) if t(key) != key else source


left, right = st.columns([3, 2])
with left:
    st.text(f"{row['response_id']} · {row['unit']} · {t('mode.' + row['mode'])} · {row['interviewer'] or '-'} · "
             f"{i18n.when(row['submitted_at'])} · {row['duration_s'] if row['duration_s'] is not None else '-'} s · "
             f"{source_text(row['source'])} · {row['created_by'] or '-'} · {i18n.when(row['created_at'])}")
    answers = []
    for q in qn.questions:
        if q.id not in row["answers"]:
            continue
        value = row["answers"][q.id]
        label = next((o.label for o in qn.options(q) if o.code == value), str(value))
        answers.append({t("quality.col_question"): qn.label(q), t("quality.col_answer"): f"{value} {label}"
                        if str(value) != label else label})
    st.markdown(f"**{t('quality.answers')}**")
    st.dataframe(pd.DataFrame(answers), hide_index=True, width="stretch")
with right:
    st.markdown(f"**{t('quality.flags_of')}**")
    if review["flags"]:
        for f in review["flags"]:
            st.warning(f"{t('quality.flag.' + f['flag'])}：{md_escape(f['detail'])}")
    else:
        st.caption(t("quality.no_flags"))
    current = review["exclusions"][0] if review["exclusions"] else None
    excluded = current is not None and current["action"] == "exclude"
    st.info(t("quality.state_excluded", reason=md_escape(current["reason"])) if excluded else t("quality.state_included"))
    if account.can("responses.exclude"):
        # one field per action: a restore is never sent with the exclusion's reason still in the box
        action = "restore" if excluded else "exclude"
        reason = st.text_input(t("quality.reason_restore" if excluded else "quality.reason"),
                               key=f"reason_{rid}_{action}")
        label = t("quality.restore") if excluded else t("quality.exclude")
        if st.button(label, key="exclude_toggle", type="primary"):
            if not reason.strip():
                st.error(t("quality.need_reason"))
            else:
                try:
                    changed = set_excluded(store, account, rid, not excluded, reason)
                except (PermissionDenied, Rejected) as err:
                    st.error(t("common.error", detail=md_escape(err)))
                else:
                    st.session_state.pop(f"reason_{rid}_{action}", None)
                    st.session_state["exclude_message"] = (
                        (t("quality.restored_done") if excluded else t("quality.excluded_done")) if changed
                        else t("quality.no_change"))
                    st.rerun()
    if st.session_state.get("exclude_message"):
        st.success(st.session_state.pop("exclude_message"))

st.markdown(f"**{t('quality.exclusion_history')}**")
if not review["exclusions"]:
    st.caption(t("quality.no_exclusions"))
else:
    st.dataframe(pd.DataFrame([{t("quality.col_at"): i18n.when(e["at"]), t("quality.col_actor"): e["actor"],
                                t("quality.col_action"): t("quality.exclude") if e["action"] == "exclude"
                                else t("quality.restore"), t("quality.col_reason"): e["reason"]}
                               for e in review["exclusions"]]), hide_index=True, width="stretch")
st.markdown(f"**{t('quality.audit_trail')}**")
if not review["audit"]:
    st.caption(t("quality.no_audit"))
    st.stop()
st.dataframe(pd.DataFrame([{t("quality.col_at"): i18n.when(a["at"]), t("quality.col_actor"): a["actor"],
                            t("quality.col_action"): t(f"quality.audit_action.{a['action']}")
                            if t(f"quality.audit_action.{a['action']}") != f"quality.audit_action.{a['action']}"
                            else a["action"], t("quality.col_detail"): a["detail"]}
                           for a in review["audit"]]), hide_index=True, width="stretch")
