"""Admin: upload and check a population margins file, then choose it for a wave (kept with its hash)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from survey import wave_setup
from survey.auth import PermissionDenied
from survey.config import POPULATION_DIR
from common.errors import Rejected
from ui import session
from ui.session import t

account = session.page_account(__file__)
store = session.store()
st.title(t("setup.population.title"))

wave_ids = [w["id"] for w in wave_setup.waves(store)]
wave_id = st.selectbox(t("common.wave"), wave_ids, key="population_wave", index=len(wave_ids) - 1)
wave = wave_setup.wave(store, wave_id)
chosen = wave_setup.chosen_file(store, wave_id, "population")
if chosen is None:
    st.info(t("setup.population.none_chosen"))
else:
    st.success(t("setup.file_chosen", name=chosen.name, sha=chosen.sha256[:12]))

UPLOAD = t("setup.upload_option")
shipped = sorted(p.name for p in POPULATION_DIR.glob("*.csv"))
source = st.radio(t("setup.population.source"), [*shipped, UPLOAD], horizontal=True, key="population_source")
data = name = None
if source == UPLOAD:
    upload = st.file_uploader(t("setup.population.file"), type=["csv", "xlsx"], key="population_file")
    if upload is not None:
        data, name = upload.getvalue(), upload.name
else:
    data, name = (POPULATION_DIR / source).read_bytes(), source

if data is not None:
    try:
        frame = wave_setup.check_population(data, name, wave["units"], session.lang())
    except wave_setup.SetupError as err:
        st.error(t("setup.population.refused"))
        st.dataframe(pd.DataFrame({t("setup.col.problem"): err.problems}), hide_index=True, width="stretch")
    else:
        st.success(t("setup.population.valid", rows=len(frame), units=frame["unit"].nunique()))
        named = frame.assign(variable=[t(f"setup.variable.{v}") if t(f"setup.variable.{v}") != f"setup.variable.{v}"
                                       else v for v in frame["variable"]])
        table = named.pivot_table(index=["variable", "category"], columns="unit", values="population", aggfunc="sum",
                                  sort=False)
        order = [u for u in wave["units"] if u in table.columns]  # the wave's official district order
        table = table[order + [u for u in table.columns if u not in order]]
        st.dataframe(table.rename_axis(index=[t("setup.col.variable"), t("setup.col.category")], columns=None),
                     width="stretch")
        if st.button(t("setup.population.choose", wave=wave_id), type="primary", key="population_choose"):
            try:
                done = wave_setup.choose_population(store, account, wave_id, data, name, session.lang())
            except wave_setup.SetupError as err:
                for line in err.problems:
                    st.error(line)
            except (Rejected, PermissionDenied) as err:
                st.error(t("common.error", detail=err))
            else:
                st.success(t("setup.population.chosen", name=done.name, wave=wave_id))
