"""Entry point: login and navigation by role, nothing else.

Page files live in app_pages/, not pages/: a folder named `pages` next to this script
switches Streamlit into its old multipage mode for the first session after a start, which
answers a first visit to any other URL path (e.g. a resident's /survey link) with a
"Page not found" dialog.
"""
from __future__ import annotations

import streamlit as st

from survey.auth import AuthError, login
from survey.config import idle_timeout_minutes
from survey.i18n import languages
from ui import session
from ui.guard import run_guarded
from ui.plain import md_escape
from ui.registry import PUBLIC_PAGES, pages_for
from ui.visitor import client_address

st.set_page_config(page_title="公众满意度调查平台", page_icon="🌿", layout="wide")


def login_page() -> None:
    t = session.t
    st.title(t("app.title"))
    st.caption(t("app.subtitle"))
    with st.form("login"):
        username = st.text_input(t("login.username"))
        password = st.text_input(t("login.password"), type="password")
        submitted = st.form_submit_button(t("login.submit"), type="primary")
    notice = st.session_state.pop(session.NOTICE, None)
    if notice == "idle":
        st.info(t("login.idle", minutes=f"{idle_timeout_minutes():g}"))
    elif notice == "expired":
        st.info(t("login.expired"))
    if submitted:
        try:
            account = login(session.store(), username.strip(), password, address=client_address())
        except AuthError as err:
            st.error(t("login.failed", reason=md_escape(err)))
        else:
            session.signed_in(account)
            st.rerun()
    st.info(t("login.hint"))
    st.caption(t("login.first_run"))


def logout() -> None:
    session.sign_out()


def sidebar(account) -> None:
    t = session.t
    with st.sidebar:
        st.caption(t("login.signed_in_as", name=md_escape(account.display_name or account.username),
                     role=t(f"role.{account.role}")))
        st.button(t("nav.logout"), on_click=logout)
        st.selectbox(t("lang.label"), languages(), key="lang", index=languages().index(session.lang()),
                     format_func=lambda code: {"zh": "中文", "en": "English"}.get(code, code))


def main() -> None:
    session.store()
    account = session.current_login()
    session.cookie_script()
    public = [st.Page(spec.path, title=session.t(spec.title_key), icon=spec.icon, url_path=spec.url_path,
                      visibility="hidden") for spec in PUBLIC_PAGES]
    if account is None:
        nav = st.navigation([st.Page(login_page, title=session.t("login.title"), icon=":material/login:", default=True),
                             *public], position="hidden")
    else:
        sections: dict[str, list[st.Page]] = {}
        for spec in pages_for(account.role):
            sections.setdefault(session.t(spec.section), []).append(
                st.Page(spec.path, title=session.t(spec.title_key), icon=spec.icon, url_path=spec.url_path,
                    default=account.role in spec.home_for))
        sections.setdefault(next(iter(sections), session.t("nav.section_work")), []).extend(public)
        sidebar(account)
        nav = st.navigation(sections, expanded=True)  # the admin has more pages than the folded menu shows
    nav.run()


run_guarded(main)
