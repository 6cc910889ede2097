"""Admin: upload a wave's contact list (CSV or Excel) with its per-row problems, then assign cases to pollsters."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from survey import wave_setup
from survey.auth import PermissionDenied
from survey.errors import ImportRejected
from survey.fieldwork import assign_cases, assign_evenly
from common.errors import Rejected
from ui import plain, session
from ui.session import t

account = session.page_account(__file__)
store = session.store()
st.title(t("setup.contacts.title"))

wave_ids = [w["id"] for w in wave_setup.waves(store)]
wave_id = st.selectbox(t("common.wave"), wave_ids, key="contacts_wave", index=len(wave_ids) - 1)
wave = wave_setup.wave(store, wave_id)

st.subheader(t("setup.contacts.upload"))
st.caption(t("setup.contacts.format"))
upload = st.file_uploader(t("setup.contacts.file"), type=["csv", "xlsx"], key=f"contacts_file_{wave_id}")
if upload is not None and st.button(t("setup.contacts.submit_import"), type="primary", key="contacts_import"):
    try:
        n = wave_setup.import_contact_list(store, account, wave_id, upload.getvalue(), upload.name)
    except ImportRejected as err:
        st.error(t("setup.contacts.rejected", n=err.total))
        plain.problem_table(err.problems)
    except (Rejected, PermissionDenied) as err:
        st.error(t("common.error", detail=err))
    else:
        st.success(t("setup.contacts.imported", n=n, wave=wave_id))


def shown_summary() -> pd.DataFrame:
    frame = wave_setup.case_summary(store, wave_id)
    frame["mode"] = [t(f"setup.mode.{m}") for m in frame["mode"]]
    frame["pollster"] = [p or t("setup.contacts.unassigned") for p in frame["pollster"]]
    return frame.rename(columns={c: t(f"setup.col.{c}") for c in frame.columns})


def show_summary() -> None:
    st.subheader(t("setup.contacts.cases"))
    summary = shown_summary()
    if summary.empty:
        st.caption(t("setup.contacts.no_cases"))
    else:
        st.dataframe(summary, hide_index=True, width="stretch")

st.subheader(t("setup.contacts.assign"))
names = wave_setup.pollsters(store, wave_id)
if not names:
    st.warning(t("setup.contacts.no_pollsters", wave=wave_id))
    show_summary()
    st.stop()
how = st.radio(t("setup.contacts.how"), ("unit", "list", "even"), horizontal=True, key="assign_how",
               format_func=lambda h: t(f"setup.contacts.how_{h}"))
with st.form("assign_cases"):
    if how == "even":
        chosen = st.multiselect(t("setup.contacts.pollsters"), names, default=names, key="assign_pollsters")
    else:
        chosen = [st.selectbox(t("setup.contacts.pollster"), names, key="assign_pollster")]
    unit = ids = None
    if how in ("unit", "even"):
        everything = t("setup.contacts.all_units")
        picked = st.selectbox(t("setup.field.units"), [everything, *wave["units"]] if how == "even"
                              else list(wave["units"]), key=f"assign_unit_{how}")
        unit = None if picked == everything else picked
    else:
        ids = st.text_area(t("setup.contacts.case_ids"), key="assign_ids", help=t("setup.contacts.case_ids_help"))
    if st.form_submit_button(t("setup.contacts.submit_assign"), type="primary"):
        try:
            if how == "even":
                done = assign_evenly(store, account, wave_id, chosen, unit=unit)
            elif how == "unit":
                done = {chosen[0]: assign_cases(store, account, wave_id, chosen[0], unit=unit)}
            else:
                listed = [c for c in (ids or "").replace("，", ",").replace("\n", ",").split(",") if c.strip()]
                if not listed:
                    raise Rejected(t("setup.contacts.no_ids"))
                done = {chosen[0]: assign_cases(store, account, wave_id, chosen[0], case_ids=listed)}
        except (Rejected, PermissionDenied) as err:
            st.error(t("common.error", detail=err))
        else:
            st.success(t("setup.contacts.assigned", detail="；".join(
                t("setup.contacts.assigned_one", pollster=p, n=n) for p, n in done.items())))
show_summary()
