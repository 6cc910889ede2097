"""Door-to-door evidence widgets: the browser's position at start and submit, the entrance photo, the recording.

Each is a wave option (survey.recordings.EvidenceOptions). The position comes from the
browser's Geolocation API through streamlit-js-eval (a maintained component that runs one
expression in the page and returns its value): the start fix is asked when the interview
screen opens, the submit fix once every question is answered, just before 提交问卷. Both
go into the response's paradata (`evidence.geo`, checked by survey.door_evidence.parse_fix);
the photo and the recording are files, written outside the database after the submit
(survey.recordings.add_response_file). The recording starts only after the respondent agreed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from common.errors import Rejected
from survey.auth import Account
from survey.door_evidence import parse_fix
from survey.recordings import EvidenceOptions, add_response_file
from ui.plain import md_escape
from ui.session import t

if TYPE_CHECKING:  # the type only: pages and ui/ reach the store through survey's services
    from survey.store import Store

COUNTER = "door_evidence_n"
CONSENT = ("yes", "no")


def interview_no() -> int:
    """This session's interview number: the widgets of a new interview get new keys (a new fix, no old photo)."""
    return int(st.session_state.setdefault(COUNTER, 1))


def next_interview() -> None:
    st.session_state[COUNTER] = interview_no() + 1


def _locate(key: str) -> dict[str, Any] | None:
    """The fix of one geolocation component (asked once per key), kept in the session once it came.

    The component is drawn on every run, also once its fix is kept: the browser evaluates it only
    when its expression changes (never again for the same key), and a component that vanished
    would shift every element after it, so the browser would show the old and the new copy of the
    form's fields side by side during the next run."""
    from streamlit_js_eval import get_geolocation
    raw = get_geolocation(component_key=key)
    kept = st.session_state.get(f"{key}_fix")
    if kept is not None:
        return kept
    if raw is None:
        return None
    fix = parse_fix(raw)
    st.session_state[f"{key}_fix"] = fix
    return fix


def _show(label: str, fix: dict[str, Any] | None) -> None:
    if fix is None:
        st.caption(f"{label}：{t('evidence.door_geo_waiting')}")
    elif "error" in fix:
        st.caption(f"{label}：{t('evidence.door_geo_error', error=md_escape(fix['error']))}")
    else:
        st.caption(f"{label}：" + t("evidence.door_geo_fix", lat=f"{fix['lat']:.5f}", lon=f"{fix['lon']:.5f}",
                                    accuracy="—" if fix["accuracy"] is None else f"{fix['accuracy']:.0f}",
                                    at=str(fix["at"]).replace("T", " ")[:19]))


def start_fix(opts: EvidenceOptions, n: int) -> None:
    """Ask the browser for the start position as the interview screen opens (nothing when the option is off)."""
    if opts.geolocation:
        with st.container():  # one slot whatever it holds: the form below keeps its place
            _show(t("evidence.door_geo_start"), _locate(f"door_geo_start_{n}"))


def section(opts: EvidenceOptions, n: int, answers: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The evidence block before the submit: (paradata values, problems that block the submit)."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    if not (opts.geolocation or opts.photo or opts.audio):
        return values, problems
    st.subheader(t("evidence.door_heading"))
    if opts.geolocation:
        start = st.session_state.get(f"door_geo_start_{n}_fix")
        done = all(answers.get(d) is not None for d in ("sex", "age_group", "education"))
        with st.container():  # hint, then component and fix: one slot, the submit keeps its place
            end = _locate(f"door_geo_submit_{n}") if done else None
            if not done:
                st.caption(f"{t('evidence.door_geo_submit')}：{t('evidence.door_geo_submit_hint')}")
            else:
                _show(t("evidence.door_geo_submit"), end)
        values["geo"] = {k: v for k, v in (("start", start), ("submit", end)) if v is not None}
    if opts.photo:
        photo = st.camera_input(t("evidence.door_photo"), key=f"door_photo_{n}")
        values["photo"] = photo is not None
    if opts.audio:
        consent = st.radio(t("evidence.door_consent"), CONSENT, index=None, horizontal=True,
                           key=f"door_consent_{n}", format_func=lambda c: t(f"evidence.door_consent_{c}"))
        values["audio_consent"] = None if consent is None else consent == "yes"
        if consent is None:
            problems.append(t("evidence.door_consent_missing"))
        elif consent == "yes":
            clip = st.audio_input(t("evidence.door_audio"), key=f"door_audio_{n}")
            values["audio"] = clip is not None
    return values, problems


def save_files(store: Store, account: Account, response_id: str, n: int) -> None:
    """Write the photo and recording of interview `n` for its stored response (a resend stores nothing new)."""
    saved = 0
    for kind, key, default in (("photo", f"door_photo_{n}", "entrance.jpg"), ("audio", f"door_audio_{n}", "door.wav")):
        upload = st.session_state.get(key)
        if upload is None:
            continue
        name = upload.name if str(upload.name).lower().endswith((".jpg", ".png", ".wav")) else default
        if name.lower().endswith(".jpeg"):
            name = name[:-5] + ".jpg"
        try:
            add_response_file(store, account, response_id, kind, upload.getvalue(), name)
            saved += 1
        except Rejected as err:
            st.error(t("common.error", detail=md_escape(err)))
    if saved:
        st.toast(t("evidence.door_files_saved", n=saved))
