"""Who is visiting the public survey: device id cookie, client address, user agent.

Streamlit reads cookies and headers from the WebSocket handshake (`st.context`), so a
cookie set during a session is seen from the next session on (a reload, a return
visit). The device id is therefore kept in session state for the running session and
written to the browser with a one-line script (`st.html(..., unsafe_allow_javascript=True)`
runs in the page itself, not in an iframe, so `document.cookie` is the app's own cookie).
"""
from __future__ import annotations

import os

import streamlit as st

from survey.webform import DEVICE_COOKIE, Visitor, client_ip, new_device_id, valid_device_id
from ui.session import lang

COOKIE_DAYS = 365
TRUST_PROXY_ENV = "SURVEY_TRUST_PROXY"  # "1" behind a reverse proxy that sets X-Forwarded-For


def _headers() -> dict[str, str]:
    try:
        return st.context.headers.to_dict()
    except Exception:  # AppTest has no browser headers
        return {}


def _cookie() -> str | None:
    try:
        return valid_device_id(st.context.cookies.get(DEVICE_COOKIE))
    except Exception:
        return None


def current() -> Visitor:
    """This browser's visitor record; sets the device cookie when the browser has none."""
    cookie = _cookie()
    if "web_device" not in st.session_state:
        st.session_state["web_device"] = cookie or new_device_id()
        st.session_state["web_cookie_returned"] = cookie is not None
    device = st.session_state["web_device"]
    if cookie != device:
        st.html(f"<script>document.cookie = '{DEVICE_COOKIE}={device}; max-age={COOKIE_DAYS * 86400}; "
                "path=/; SameSite=Lax';</script>", unsafe_allow_javascript=True)
    headers = _headers()
    remote = getattr(st.context, "ip_address", None)
    return Visitor(device_id=device, ip=client_ip(headers, remote, os.environ.get(TRUST_PROXY_ENV) == "1"),
                   user_agent=headers.get("User-Agent", ""), lang=lang(),
                   cookie_returned=st.session_state["web_cookie_returned"])


def client_address() -> str:
    """The client's address for the login throttle (X-Forwarded-For only behind a trusted proxy)."""
    try:
        remote = st.context.ip_address
    except Exception:  # AppTest has no browser
        remote = None
    return str(client_ip(_headers(), remote if isinstance(remote, str) else None,
                         os.environ.get(TRUST_PROXY_ENV) == "1"))
