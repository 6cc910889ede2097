"""Admin: a wave's settings — quotas and the quota action, call scheduling and 异地交叉, double entry, QC
thresholds, web limits, back-checks.

All parts are saved together by survey.wave_setup.save_settings, which refuses any bad value
with a message naming its field and then stores nothing.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from survey import wave_setup
from survey.auth import PermissionDenied
from common.errors import Rejected
from ui import session
from ui.session import t

account = session.page_account(__file__)
store = session.store()
st.title(t("setup.settings.title"))

wave_ids = [w["id"] for w in wave_setup.waves(store)]
wave_id = st.selectbox(t("common.wave"), wave_ids, key="settings_wave", index=len(wave_ids) - 1)
wave = wave_setup.wave(store, wave_id)
current = wave_setup.current_settings(store, wave_id)
QUOTA_COLS = ("unit", "sex", "age_group", "line_type", "prefix", "target")
LINE_TYPES = ("mobile", "landline")
SEXES = ("男", "女")
AGE_GROUPS = ("18-29", "30-39", "40-49", "50-59", "60+")


def text_field(container, name: str, value: object) -> str:
    return container.text_input(wave_setup.field_label(name, session.lang()), value=f"{value:g}"
                                if isinstance(value, float) else str(value), key=f"settings_{wave_id}_{name}")


with st.form(f"settings_{wave_id}"):
    st.subheader(t("setup.settings.quotas"))
    cells = pd.DataFrame(current.quotas, columns=list(QUOTA_COLS))
    blank = ["sex", "age_group", "line_type", "prefix"]
    cells[blank] = cells[blank].astype(object).fillna("")  # blank = any, never "None"
    # headers in the UI language (a column_config label is not the frame's header everywhere)
    heads = {c: wave_setup.field_label(f"quotas.{c}", session.lang()) for c in QUOTA_COLS}
    edited = st.data_editor(
        cells.rename(columns=heads), num_rows="dynamic", hide_index=True, width="stretch",
        key=f"settings_{wave_id}_quotas",
        column_config={
            heads["unit"]: st.column_config.SelectboxColumn(options=list(wave["units"])),
            heads["sex"]: st.column_config.SelectboxColumn(options=list(SEXES)),
            heads["age_group"]: st.column_config.SelectboxColumn(options=list(AGE_GROUPS)),
            heads["line_type"]: st.column_config.SelectboxColumn(options=list(LINE_TYPES),
                                                                 format_func=lambda v: t(f"strata.line_type.{v}")),
            heads["prefix"]: st.column_config.TextColumn(),
            heads["target"]: st.column_config.NumberColumn(step=1)}).rename(columns={v: k for k, v in heads.items()})
    action = st.radio(wave_setup.field_label("quota_action", session.lang()), ("warn", "stop"), horizontal=True,
                      index=("warn", "stop").index(current.quota_action), key=f"settings_{wave_id}_action",
                      format_func=lambda a: t(f"setup.quota_action.{a}"))

    st.subheader(t("setup.settings.schedule"))
    st.caption(t("setup.settings.schedule_help"))
    sched = current.schedule or {}
    left, right = st.columns(2)
    weekday = left.text_input(wave_setup.field_label("schedule.weekday", session.lang()), value=sched.get("weekday", ""),
                              key=f"settings_{wave_id}_weekday", placeholder="18:00-21:00",
                              help=t("setup.settings.windows_help"))
    weekend = right.text_input(wave_setup.field_label("schedule.weekend", session.lang()), value=sched.get("weekend", ""),
                               key=f"settings_{wave_id}_weekend", placeholder="09:00-21:00",
                               help=t("setup.settings.windows_help"))
    left, right = st.columns(2)
    busy = left.text_input(wave_setup.field_label("schedule.busy_redial_minutes", session.lang()),
                           value=str(sched.get("busy_redial_minutes", 0)), key=f"settings_{wave_id}_busy",
                           help=t("setup.settings.busy_help"))
    most = right.text_input(wave_setup.field_label("schedule.max_attempts", session.lang()),
                            value=str(sched.get("max_attempts", 6)), key=f"settings_{wave_id}_max_attempts")
    slot_heads = {c: wave_setup.field_label(f"schedule.slots.{c}", session.lang()) for c in ("name", "hours")}
    slots = st.data_editor(
        pd.DataFrame(sched.get("slots") or [], columns=["name", "hours"]).rename(columns=slot_heads),
        num_rows="dynamic", hide_index=True, width="stretch", key=f"settings_{wave_id}_slots",
        column_config={h: st.column_config.TextColumn() for h in slot_heads.values()},
    ).rename(columns={v: k for k, v in slot_heads.items()})
    st.caption(t("setup.settings.slots_help"))
    left, right = st.columns(2)  # 调休: dates that swap weekday and weekend windows
    workdays = left.text_area(wave_setup.field_label("schedule.workdays", session.lang()),
                              value="\n".join(sched.get("workdays") or []), key=f"settings_{wave_id}_workdays",
                              placeholder="2025-09-28\n2025-10-11", height=100, help=t("setup.settings.dates_help"))
    holidays = right.text_area(wave_setup.field_label("schedule.holidays", session.lang()),
                               value="\n".join(sched.get("holidays") or []), key=f"settings_{wave_id}_holidays",
                               placeholder="2025-10-01\n2025-10-02", height=100, help=t("setup.settings.dates_help"))
    cross = st.checkbox(wave_setup.field_label("cross_district", session.lang()), value=bool(current.cross_district),
                        key=f"settings_{wave_id}_cross")

    st.subheader(t("setup.settings.entry"))
    double_entry = st.checkbox(wave_setup.field_label("double_entry", session.lang()), value=current.double_entry,
                               key=f"settings_{wave_id}_double")
    left, right = st.columns(2)
    rate = text_field(left, "backcheck_rate", current.backcheck_rate)
    seed = text_field(right, "backcheck_seed", current.backcheck_seed)
    st.caption(t("setup.settings.seed_help", wave=wave_id))

    st.subheader(t("setup.settings.qc"))
    cols = st.columns(3)
    qc = {name: text_field(cols[i % 3], f"qc.{name}", value) for i, (name, value) in enumerate(current.qc.items())}

    st.subheader(t("setup.settings.web"))
    cols = st.columns(3)
    web = {name: text_field(cols[i % 3], f"web.{name}", value) for i, (name, value) in enumerate(current.web.items())}

    if st.form_submit_button(t("setup.settings.submit"), type="primary"):
        rows = [{k: v for k, v in r.items() if k in QUOTA_COLS} for r in edited.to_dict("records")]
        slot_rows = [{"name": str(r.get("name") or "").strip(), "hours": str(r.get("hours") or "").strip()}
                     for r in slots.to_dict("records")]
        schedule = {"weekday": weekday, "weekend": weekend, "busy_redial_minutes": busy, "max_attempts": most,
                    "slots": [r for r in slot_rows if r["name"] or r["hours"]],  # a blank row is no slot
                    "workdays": workdays, "holidays": holidays}
        form = wave_setup.WaveSettingsForm(quotas=rows, quota_action=action, qc=qc, web=web,
                                           double_entry=double_entry, backcheck_rate=rate, backcheck_seed=seed,
                                           schedule=schedule, cross_district=cross)
        try:
            wave_setup.save_settings(store, account, wave_id, form, session.lang())
        except wave_setup.SetupError as err:
            st.error(t("setup.settings.refused"))
            for line in err.problems:
                st.error(line)
        except (Rejected, PermissionDenied) as err:
            st.error(t("common.error", detail=err))
        else:
            st.success(t("setup.settings.saved", wave=wave_id))


# Recording review and door evidence (survey.recordings.EvidenceOptions): a form of its own
from survey import recordings  # noqa: E402

evidence = recordings.evidence_options(wave)
with st.form(f"evidence_{wave_id}"):
    st.subheader(t("evidence.settings_heading"))
    left, right = st.columns(2)
    review_rate = text_field(left, "evidence.review_rate", evidence.review_rate)
    review_seed = text_field(right, "evidence.review_seed", evidence.review_seed)
    switches = {name: st.checkbox(wave_setup.field_label(f"evidence.{name}", session.lang()),
                                  value=getattr(evidence, name), key=f"settings_{wave_id}_evidence_{name}")
                for name in ("geolocation", "photo", "audio")}
    if st.form_submit_button(t("evidence.settings_submit")):
        try:
            recordings.save_evidence_options(store, account, wave_id, {"review_rate": review_rate,
                                                                       "review_seed": review_seed, **switches},
                                             session.lang())
        except wave_setup.SetupError as err:
            st.error(t("setup.settings.refused"))
            for line in err.problems:
                st.error(line)
        else:
            st.success(t("evidence.settings_saved", wave=wave_id))
