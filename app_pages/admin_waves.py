"""Admin: open a wave pinned to a questionnaire version, its dates and status (open / closed)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from survey import wave_setup
from survey.auth import PermissionDenied
from survey.config import XIAMEN_UNITS
from common.errors import Rejected
from ui import session
from ui.session import t

account = session.page_account(__file__)
store = session.store()
st.title(t("setup.waves.title"))


def shown_waves() -> pd.DataFrame:
    rows = [{t("setup.col.wave"): w["id"], t("setup.col.questionnaire"): w["questionnaire_id"],
             t("setup.col.status"): t(f"setup.status.{w['status']}"),
             t("setup.col.opens_at"): w["opens_at"] or t("setup.not_set"),
             t("setup.col.closes_at"): w["closes_at"] or t("setup.not_set"),
             t("setup.col.units"): "、".join(w["units"]), t("setup.col.cases"): w["cases"],
             t("setup.col.responses"): w["responses"]} for w in wave_setup.waves(store)]
    return pd.DataFrame(rows)


create_tab, edit_tab = st.tabs([t("setup.waves.create"), t("setup.waves.edit")])
with create_tab, st.form("wave_create"):
    name = st.text_input(t("setup.field.name"), key="wave_name", placeholder="2026-Q1")
    qids = [q["id"] for q in wave_setup.questionnaires(store)]
    labels = {q["id"]: t("setup.questionnaire_label", id=q["id"], version=q["version"], title=q["title"])
              for q in wave_setup.questionnaires(store)}
    qid = st.selectbox(t("setup.field.questionnaire"), qids, index=len(qids) - 1, key="wave_qn",
                       format_func=labels.get)
    units = st.multiselect(t("setup.field.units"), list(XIAMEN_UNITS), default=list(XIAMEN_UNITS), key="wave_units")
    left, right = st.columns(2)
    opens = left.text_input(t("setup.field.opens_at"), key="wave_opens", placeholder="2026-03-01")
    closes = right.text_input(t("setup.field.closes_at"), key="wave_closes", placeholder="2026-03-31")
    if st.form_submit_button(t("setup.waves.submit_create"), type="primary"):
        try:
            wave_setup.create_wave(store, account, wave_setup.WaveForm(
                name, qid, tuple(units), opens.strip() or None, closes.strip() or None), session.lang())
        except wave_setup.SetupError as err:
            for line in err.problems:
                st.error(line)
        except (Rejected, PermissionDenied) as err:
            st.error(t("common.error", detail=err))
        else:
            st.success(t("setup.waves.created", wave=name.strip()))

with edit_tab:
    wave_ids = [w["id"] for w in wave_setup.waves(store)]
    wave_id = st.selectbox(t("common.wave"), wave_ids, key="wave_edit_id", index=len(wave_ids) - 1)
    current = wave_setup.wave(store, wave_id)
    st.caption(t("setup.waves.pinned", questionnaire=current["questionnaire_id"]))
    with st.form("wave_edit"):
        left, mid, right = st.columns(3)
        e_opens = left.text_input(t("setup.field.opens_at"), value=current["opens_at"] or "", key="wave_e_opens")
        e_closes = mid.text_input(t("setup.field.closes_at"), value=current["closes_at"] or "", key="wave_e_closes")
        status = right.radio(t("setup.field.status"), wave_setup.STATUSES, key="wave_e_status", horizontal=True,
                             index=wave_setup.STATUSES.index(current["status"]),
                             format_func=lambda s: t(f"setup.status.{s}"))
        if st.form_submit_button(t("setup.waves.submit_edit"), type="primary"):
            try:
                wave_setup.update_wave_dates_status(store, account, wave_id, opens_at=e_opens.strip() or None,
                                                    closes_at=e_closes.strip() or None, status=status,
                                                    lang=session.lang())
            except wave_setup.SetupError as err:
                for line in err.problems:
                    st.error(line)
            except (Rejected, PermissionDenied) as err:
                st.error(t("common.error", detail=err))
            else:
                st.success(t("setup.waves.saved", wave=wave_id))

st.subheader(t("setup.waves.list"))
st.dataframe(shown_waves(), hide_index=True, width="stretch")
