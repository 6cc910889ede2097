"""Admin: invitation tokens (CSV + printable QR sheet), open links, returns and flags of the web survey."""
from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from survey import webform
from survey.auth import PermissionDenied
from common.errors import Rejected
from survey.waves import read_wave, wave_ids
from ui import session
from ui.plain import md_escape
from ui.session import t

account = session.page_account(__file__)


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """Column names from the catalog."""
    return frame.rename(columns={c: t(f"web.col.{c}") for c in frame.columns})


store = session.store()
st.title(t("web.admin_title"))

waves = wave_ids(store, account)
col_wave, col_unit = st.columns(2)
wave_id = session.wave_picker(col_wave, waves, "webadm_wave")
wave = read_wave(store, account, wave_id)
unit = col_unit.selectbox(t("common.unit"), wave.units, key="webadm_unit")
st.caption(t("web.wave_dates", opens=wave.opens_at or t("web.not_set"), closes=wave.closes_at or t("web.not_set"),
             status=wave.status))
with st.expander(t("web.dates_title")):
    with st.form("webadm_dates"):
        left, right = st.columns(2)
        opens = left.text_input(t("web.opens"), value=wave.opens_at or "", placeholder="2025-10-01")
        closes = right.text_input(t("web.closes"), value=wave.closes_at or "", placeholder="2025-10-31")
        if st.form_submit_button(t("web.save_dates")):
            try:
                webform.set_wave_dates(store, account, wave_id, opens.strip() or None, closes.strip() or None)
            except (Rejected, PermissionDenied) as err:
                st.error(t("common.error", detail=md_escape(err)))
            else:
                st.rerun()
def save_base_url() -> None:
    try:
        webform.set_public_url(store, account, wave_id, st.session_state["webadm_base"])
    except (Rejected, PermissionDenied):
        st.session_state["webadm_url_error"] = True


if st.session_state.get("webadm_base_wave") != wave_id:  # the field shows the wave's saved address
    st.session_state["webadm_base"] = webform.public_url(wave)
    st.session_state["webadm_base_wave"] = wave_id
base_url = st.text_input(t("web.base_url"), help=t("web.base_url_help"), key="webadm_base",
                         on_change=save_base_url)
if st.session_state.pop("webadm_url_error", False):
    st.error(t("web.base_url_bad"))

tokens_tab, links_tab, status_tab = st.tabs([t("web.tab_tokens"), t("web.tab_links"), t("web.tab_status")])

with tokens_tab:
    with st.form("webadm_tokens"):
        n = st.number_input(t("web.n_tokens"), min_value=1, max_value=webform.MAX_TOKENS_PER_BATCH, value=100, step=50)
        if st.form_submit_button(t("web.generate"), type="primary", key="webadm_generate"):
            try:
                batch, made = webform.generate_tokens(store, account, wave_id, unit, int(n))
            except (Rejected, PermissionDenied) as err:
                st.error(t("common.error", detail=md_escape(err)))
            else:
                st.session_state["webadm_batch"] = batch
                st.success(t("web.generated", n=len(made), batch=batch))
    batches = webform.token_batches(store, account, wave_id)
    if batches:
        st.subheader(t("web.batches"))
        st.dataframe(shown(pd.DataFrame(batches)), hide_index=True, width="stretch")
        names = [b["batch"] for b in batches]
        chosen = st.selectbox(t("web.batch"), names, index=names.index(st.session_state["webadm_batch"])
                              if st.session_state.get("webadm_batch") in names else 0)
        rows = webform.token_rows(webform.batch_tokens(store, account, wave_id, chosen), base_url=base_url)
        left, right = st.columns(2)
        left.download_button(t("web.download_csv"), webform.tokens_csv(rows), file_name=f"tokens-{chosen}.csv",
                             mime="text/csv", width="stretch")
        if base_url.startswith(("http://", "https://")):
            sheet = webform.qr_sheet_html(rows, t("web.qr_title", wave=wave_id, unit=rows[0]["unit"]), t("web.qr_help"))
            right.download_button(t("web.download_qr"), sheet.encode("utf-8"), file_name=f"qr-{chosen}.html",
                                  mime="text/html", width="stretch")
        else:
            right.caption(t("web.qr_needs_url"))

with links_tab:
    if st.button(t("web.create_link"), type="primary", key="webadm_link"):
        try:
            code = webform.create_link(store, account, wave_id, unit)
        except (Rejected, PermissionDenied) as err:
            st.error(t("common.error", detail=md_escape(err)))
        else:
            st.success(t("web.link_created", url=webform.survey_url(base_url, link=code)))
    links = webform.open_links(store, account, wave_id)
    if links:
        frame = pd.DataFrame([dataclasses.asdict(link) for link in links])
        frame["url"] = [webform.survey_url(base_url, link=c) for c in frame["code"]]
        st.dataframe(shown(frame[["code", "unit", "active", "responses", "url", "created_at"]]), hide_index=True,
                     width="stretch")
        code = st.selectbox(t("web.link_code"), [link.code for link in links], key="webadm_code")
        close_col, reopen_col = st.columns(2)
        for col, label, active in ((close_col, "web.close_link", False), (reopen_col, "web.reopen_link", True)):
            if col.button(t(label), key=f"webadm_{active}", width="stretch"):
                webform.set_link_active(store, account, code, active)
                st.success(t("web.link_changed", code=code))
                st.rerun()

with status_tab:
    st.subheader(t("web.funnel"))
    counts = webform.draft_funnel(store, account, wave_id)
    if counts:
        funnel = pd.DataFrame(counts)
        funnel["status"] = [t(f"web.status.{x}") for x in funnel["status"]]
        st.dataframe(funnel.pivot_table(index="unit", columns="status", values="n", fill_value=0)
                     .rename_axis(index=t("web.col.unit"), columns=None), width="stretch")
    st.subheader(t("web.flagged"))
    flagged = webform.flagged_submissions(store, account, wave_id)
    if flagged:
        frame = pd.DataFrame(flagged)
        frame["flags"] = frame["flags"].map(", ".join)
        st.dataframe(shown(frame[["response_id", "unit", "access", "flags", "ip_hash", "submitted_at"]]),
                     hide_index=True, width="stretch")
    else:
        st.caption(t("web.no_flagged"))
