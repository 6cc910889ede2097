"""Admin: view the scoring configs, upload and check one, then choose one for a wave (kept with its hash)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from survey import wave_setup
from survey.auth import PermissionDenied
from survey.config import SCORING_DIR
from common.errors import Rejected
from ui import session
from ui.session import t

account = session.page_account(__file__)
store = session.store()
st.title(t("setup.scoring.title"))

wave_ids = [w["id"] for w in wave_setup.waves(store)]
wave_id = st.selectbox(t("common.wave"), wave_ids, key="scoring_wave", index=len(wave_ids) - 1)
chosen = wave_setup.chosen_file(store, wave_id, "scoring")
if chosen is None:
    st.info(t("setup.scoring.none_chosen"))
else:
    st.success(t("setup.file_chosen", name=chosen.name, sha=chosen.sha256[:12]))

UPLOAD = t("setup.upload_option")
shipped = sorted(p.name for p in SCORING_DIR.glob("*.yaml"))
source = st.radio(t("setup.scoring.source"), [*shipped, UPLOAD], horizontal=True, key="scoring_source")
data = name = None
if source == UPLOAD:
    upload = st.file_uploader(t("setup.scoring.file"), type=["yaml", "yml"], key="scoring_file")
    if upload is not None:
        data, name = upload.getvalue(), upload.name
else:
    data, name = (SCORING_DIR / source).read_bytes(), source

if data is not None:
    try:
        config = wave_setup.check_scoring(data, name, session.lang())
    except wave_setup.SetupError as err:
        st.error(t("setup.scoring.refused"))
        st.dataframe(pd.DataFrame({t("setup.col.problem"): err.problems}), hide_index=True, width="stretch")
    else:
        st.success(t("setup.scoring.valid", name=config.name))
        modes = t("setup.scoring.all_modes") if config.modes == "all" else "、".join(
            t(f"setup.mode.{m}") for m in config.modes)
        st.dataframe(pd.DataFrame({t("setup.col.setting"): [t("setup.scoring.method"), t("setup.scoring.basis"),
                                                             t("setup.scoring.full_points"), t("setup.scoring.modes")],
                                   t("setup.col.value"): [t(f"setup.scoring.method_{config.method}"),
                                                          t(f"setup.scoring.basis_{config.basis}"),
                                                          f"{config.full_points:g}", modes]}),
                     hide_index=True, width="stretch")
        st.dataframe(pd.DataFrame({t("setup.col.item"): [t(f"setup.item.{k}") for k in config.items],
                                   t("setup.col.weight"): [f"{v:g}" for v in config.items.values()]}),
                     hide_index=True, width="stretch")
        with st.expander(t("setup.scoring.text")):
            st.code(data.decode("utf-8"), language="yaml")
        if st.button(t("setup.scoring.choose", wave=wave_id), type="primary", key="scoring_choose"):
            try:
                done = wave_setup.choose_scoring(store, account, wave_id, data, name, session.lang())
            except wave_setup.SetupError as err:
                for line in err.problems:
                    st.error(line)
            except (Rejected, PermissionDenied) as err:
                st.error(t("common.error", detail=err))
            else:
                st.success(t("setup.scoring.chosen", name=done.name, wave=wave_id))
