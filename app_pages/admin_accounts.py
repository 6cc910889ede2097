"""Admin: create accounts, reset passwords, assign to waves and firms."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from survey import auth
from survey.auth import PermissionDenied
from survey.store import StoreError
from ui import session
from ui.plain import md_escape
from ui.session import t

account = session.page_account(__file__)
store = session.store()
st.title(t("admin.title"))


def attempt(action, done_text: str) -> None:
    try:
        action()
    except (StoreError, PermissionDenied) as err:
        st.error(t("common.error", detail=md_escape(err)))
    else:
        st.success(done_text)


create, reset, assign = st.tabs([t("admin.create"), t("admin.reset"), t("admin.assign")])
with create, st.form("create_account", clear_on_submit=True):
    username = st.text_input(t("admin.username"))
    name = st.text_input(t("admin.display_name"))
    role = st.selectbox(t("admin.role"), auth.ROLES, format_func=lambda r: t(f"role.{r}"))
    firm = st.text_input(t("admin.firm"))
    password = st.text_input(t("admin.password"), type="password")
    if st.form_submit_button(t("admin.submit_create"), type="primary"):
        attempt(lambda: auth.create_account(store, account, username.strip(), role, password,
                                            firm=firm.strip() or None, display_name=name.strip() or None),
                t("admin.created", username=username))
usernames = [a["username"] for a in store.accounts()]
with reset, st.form("reset_password", clear_on_submit=True):
    who = st.selectbox(t("admin.username"), usernames, key="reset_who")
    password = st.text_input(t("admin.new_password"), type="password")
    if st.form_submit_button(t("admin.submit_reset")):
        attempt(lambda: auth.reset_password(store, account, who, password), t("admin.reset_done", username=who))
with assign, st.form("assign_wave"):
    who = st.selectbox(t("admin.username"), usernames, key="assign_who")
    wave = st.selectbox(t("common.wave"), [w["id"] for w in store.waves()])
    if st.form_submit_button(t("admin.submit_assign")):
        attempt(lambda: auth.assign(store, account, who, wave=wave), t("admin.assign_done", username=who, wave=wave))
st.subheader(t("admin.list"))
st.dataframe(pd.DataFrame(store.accounts()), width="stretch", hide_index=True)
