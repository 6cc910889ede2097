"""The app server: streamlit_app.py on Streamlit's ASGI App, plus the login-cookie route.

Run it as `streamlit run server.py` (Streamlit finds `app`) or `uvicorn server:app`.
`streamlit run streamlit_app.py` still serves the same app, but without the route a
browser reload (F5) ends a staff login (see survey/sessions.py).
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.cookie_routes import routes

app = st.App(Path(__file__).with_name("streamlit_app.py"), routes=routes())
