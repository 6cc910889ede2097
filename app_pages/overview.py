"""Analyst / supervisor: counts by unit x mode and a chart."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from survey.responses import visible_responses
from survey.waves import read_wave, wave_ids
from ui import session
from ui.session import t

account = session.page_account(__file__)
store = session.store()
st.title(t("overview.title"))
waves = wave_ids(store, account)
wave_id = session.wave_picker(st, waves, "overview_wave")
rows = visible_responses(store, account, wave_id)
if not rows:
    st.info(t("overview.empty"))
    st.stop()
frame = pd.DataFrame({"unit": [r["unit"] for r in rows], "mode": [t(f"mode.{r['mode']}") for r in rows]})
units = [u for u in read_wave(store, account, wave_id).units if u in set(frame["unit"])]
table = pd.crosstab(frame["unit"], frame["mode"], margins=True, margins_name=t("common.total"))
table = table.reindex([*units, t("common.total")])
table.index.name = t("common.unit")
st.metric(t("overview.total_responses"), len(rows))
st.caption(t("overview.caption"))
st.dataframe(table, width="stretch")
st.subheader(t("overview.chart"))
st.bar_chart(pd.crosstab(frame["unit"], frame["mode"]), stack=True)
