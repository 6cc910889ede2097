"""Evidence views shared by pages: 录音复核 rates by pollster and the map of door interviews."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pydeck as pdk
import streamlit as st

from survey.auth import Account
from survey.door_evidence import door_points
from survey.quality import current_flags
from survey.recordings import review_rates
from ui.session import t

if TYPE_CHECKING:  # the type only: pages and ui/ reach the store through survey's services
    from survey.store import Store

# a qualitative palette (Okabe–Ito, readable by colour-blind people), one colour per pollster
PALETTE = [(0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233), (213, 94, 0),
           (240, 228, 66), (0, 0, 0)]
GPS_FLAGS = ("gps_same_spot", "gps_far", "gps_too_fast")


def share(value: float | None) -> str:
    """A share as people read it (12 %), empty when there is none yet (never "None")."""
    return "" if value is None else f"{value:.0%}"


def review_rates_table(store: Store, account: Account, wave: str, firm: str | None) -> None:
    """Per pollster: completes, queued, share reviewed, 合格 / 不合格 / 无录音 and the pass rate."""
    st.subheader(t("evidence.rates_heading"))
    rates = review_rates(store, account, wave, firm=firm)
    if not rates:
        st.info(t("evidence.no_items"))
        return
    st.dataframe(pd.DataFrame([{
        t("evidence.col.interviewer"): r.interviewer, t("evidence.col.completes"): r.completes,
        t("evidence.col.queued"): r.queued, t("evidence.col.reviewed_share"): share(r.reviewed_share),
        t("evidence.col.passed"): r.passed, t("evidence.col.failed"): r.failed,
        t("evidence.col.no_recording"): r.no_recording,
        t("evidence.col.pass_rate"): share(r.pass_rate)}
        for r in rates]), hide_index=True, width="stretch")


def door_map(store: Store, account: Account, wave: str, firm: str | None, key: str = "door_map") -> None:
    """The located door interviews, one colour per pollster, with the location flags of the current QC run."""
    st.subheader(t("evidence.map_heading"))
    points = door_points(store, account, wave, firm)
    if points.empty:
        st.info(t("evidence.map_empty"))
        return
    pollsters = sorted(points["interviewer"].unique())
    chosen = st.multiselect(t("evidence.map_pollster"), pollsters, default=pollsters, key=f"{key}_pollsters")
    shown = points[points["interviewer"].isin(chosen)].copy()
    colour = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(pollsters)}
    shown["color"] = shown["interviewer"].map(lambda p: [*colour[p], 200])
    flags = [f for f in current_flags(store, wave, account) if f["flag"] in GPS_FLAGS]
    flagged = {f["response_id"] for f in flags}
    shown["radius"] = shown["response_id"].map(lambda r: 30 if r in flagged else 15)  # metres
    shown["line"] = shown["response_id"].map(lambda r: [214, 39, 40] if r in flagged else [255, 255, 255])
    st.caption(t("evidence.map_caption"))
    layer = pdk.Layer("ScatterplotLayer", shown[["lon", "lat", "color", "radius", "line", "interviewer",
                                                  "response_id", "community"]],
                      get_position="[lon, lat]", get_fill_color="color", get_radius="radius",
                      radius_min_pixels=6, radius_max_pixels=14, stroked=True, get_line_color="line", line_width_min_pixels=2,
                      pickable=True)
    view = pdk.data_utils.compute_view(shown[["lon", "lat"]].values.tolist()) if len(shown) \
        else pdk.ViewState(latitude=0, longitude=0, zoom=1)
    st.pydeck_chart(pdk.Deck(layers=[layer], initial_view_state=view, map_style=None,
                             tooltip={"text": "{interviewer} · {response_id} · {community}"}),
                    height=420, key=f"{key}_chart")
    swatch = t("evidence.map_colour")
    legend = pd.DataFrame({swatch: ["" for _ in chosen], t("evidence.map_pollster"): chosen,
                           t("evidence.col.completes"): [int((shown["interviewer"] == p).sum()) for p in chosen],
                           t("evidence.map_flagged"): [int(shown.loc[shown["interviewer"] == p, "response_id"]
                                                           .isin(flagged).sum()) for p in chosen]})
    colours = [f"background-color: rgb{colour[p]}" for p in chosen]
    st.dataframe(legend.style.apply(lambda col: colours if col.name == swatch else [""] * len(col)),
                 hide_index=True, width="content")
    if flags:
        st.subheader(t("evidence.map_flags"))
        st.dataframe(pd.DataFrame([{t("evidence.col.response_id"): f["response_id"],
                                    t("evidence.col.interviewer"): f["interviewer"],
                                    t("quality.filter_flag"): t(f"quality.flag.{f['flag']}"),
                                    t("evidence.col.outcome_reason"): f["detail"]} for f in flags]),
                     hide_index=True, width="stretch")
