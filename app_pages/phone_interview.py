"""Pollster: phone interviews, from the next case to call (CATI) or without a case list."""
from __future__ import annotations

import streamlit as st

from survey.responses import visible_responses
from ui import interview, session
from ui.session import t

FORM = "phone"
MODE = "phone"

account = session.refresh_account() or session.require_account()
store = session.store()
st.title(t("interview.title"))

waves = list(account.waves) if account.role == "pollster" else [w["id"] for w in store.waves()]
if not waves:
    st.warning(t("common.no_wave"))
    st.stop()

interview.resume(store, account, FORM, waves=waves)
col_wave, col_unit, col_done = st.columns([1, 1, 2])
wave_id = col_wave.selectbox(t("common.wave"), waves, key="phone_wave")
unit = col_unit.selectbox(t("common.unit"), store.wave(wave_id)["units"], key="phone_unit",
                          help=t("interview.unit_help"))
mine = len(visible_responses(store, account, wave_id))
col_done.metric(t("interview.done_today", n=mine), mine)
interview.run(store, account, interview.Setup(FORM, MODE, wave_id, unit))
