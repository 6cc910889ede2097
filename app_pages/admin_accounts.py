"""Admin: create accounts, reset passwords, assign to waves and firms, set a pollster's home district (异地交叉)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from survey import auth, i18n
from common.errors import Rejected
from survey.auth import PermissionDenied
from survey.waves import visible_waves, wave_ids
from ui import session
from ui.plain import md_escape
from ui.session import t

account = session.page_account(__file__)
store = session.store()
st.title(t("admin.title"))


def attempt(action, done_text: str) -> None:
    try:
        action()
    except (Rejected, PermissionDenied) as err:
        st.error(t("common.error", detail=md_escape(err)))
    else:
        st.success(done_text)


create, reset, assign, home = st.tabs([t("admin.create"), t("admin.reset"), t("admin.assign"),
                                       t("cross_district.set")])
ROLE_ORDER = ("pollster", "supervisor", "reviewer", "analyst", "liaison", "admin")  # the commonest account first: the default
UNITS = sorted({u for w in visible_waves(store, account) for u in w.units})


def new_account_problems(username: str, role: str, firm: str, password: str, unit: str = "") -> list[str]:
    """The form's problems in the admin's words, each naming its field (the core checks again)."""
    problems = []
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        problems.append(t("admin.bad_username"))
    elif username in {a.username for a in auth.list_accounts(store, account)}:
        problems.append(t("admin.username_taken", username=username))
    if role in auth.FIRM_ROLES and not firm:
        problems.append(t("admin.firm_needed", role=t(f"role.{role}")))
    if role == "liaison" and not unit:
        problems.append(t("admin.unit_needed"))
    if role != "liaison" and unit:
        problems.append(t("admin.unit_only_liaison"))
    if len(password) < auth.MIN_PASSWORD_LENGTH:
        problems.append(t("admin.password_short", n=auth.MIN_PASSWORD_LENGTH))
    return problems


def clear_new_account() -> None:
    for key in ("new_username", "new_name", "new_role", "new_firm", "new_unit", "new_password"):
        st.session_state.pop(key, None)


note = st.session_state.pop("admin_created", None)
with create:
    if note:
        st.success(note)
    with st.form("create_account", clear_on_submit=False):  # fields stay when something is wrong
        username = st.text_input(t("admin.username"), key="new_username").strip()
        name = st.text_input(t("admin.display_name"), key="new_name").strip()
        role = st.selectbox(t("admin.role"), ROLE_ORDER, format_func=lambda r: t(f"role.{r}"), key="new_role")
        firm = st.text_input(t("admin.firm"), key="new_firm").strip()
        unit = st.selectbox(t("admin.unit"), ["", *UNITS], key="new_unit", help=t("admin.unit_help"),
                            format_func=lambda u: u or t("admin.no_unit"))
        password = st.text_input(t("admin.password"), type="password", key="new_password")
        if st.form_submit_button(t("admin.submit_create"), type="primary"):
            problems = new_account_problems(username, role, firm, password, unit)
            for problem in problems:
                st.error(problem)
            if not problems:
                try:
                    auth.create_account(store, account, username, role, password, firm=firm or None,
                                        display_name=name or None, unit=unit or None)
                except (Rejected, PermissionDenied) as err:
                    st.error(t("common.error", detail=err))
                else:
                    clear_new_account()
                    st.session_state["admin_created"] = t("admin.created", username=username)
                    st.rerun()
usernames = [a.username for a in auth.list_accounts(store, account)]
with reset, st.form("reset_password", clear_on_submit=True):
    who = st.selectbox(t("admin.username"), usernames, key="reset_who")
    password = st.text_input(t("admin.new_password"), type="password")
    if st.form_submit_button(t("admin.submit_reset")):
        attempt(lambda: auth.reset_password(store, account, who, password), t("admin.reset_done", username=who))
with assign, st.form("assign_wave"):
    who = st.selectbox(t("admin.username"), usernames, key="assign_who")
    wave = st.selectbox(t("common.wave"), wave_ids(store, account))
    if st.form_submit_button(t("admin.submit_assign")):
        attempt(lambda: auth.assign(store, account, who, wave=wave), t("admin.assign_done", username=who, wave=wave))
with home, st.form("home_district"):
    who = st.selectbox(t("admin.username"), usernames, key="home_who")
    district = st.text_input(t("cross_district.home_district"), key="home_district",
                             help=t("cross_district.home_district_help")).strip()
    if st.form_submit_button(t("cross_district.submit_set")):
        attempt(lambda: auth.set_home_district(store, account, who, district),
                t("cross_district.set_done", username=who, unit=district) if district
                else t("cross_district.cleared", username=who))
st.subheader(t("admin.list"))
rows = auth.list_accounts(store, account)
st.dataframe(pd.DataFrame({
    t("admin.username"): [a.username for a in rows],
    t("admin.display_name"): [a.display_name or "" for a in rows],
    t("admin.role"): [t(f"role.{a.role}") for a in rows],
    t("admin.firm"): [a.firm or "" for a in rows],
    t("cross_district.home_district"): [a.home_district or "" for a in rows],
    t("admin.unit"): [a.unit or "" for a in rows],
    t("admin.active"): [i18n.yes_no(a.active, session.lang()) for a in rows],
    t("admin.locked_until"): [i18n.when(a.locked_until) for a in rows],
    t("admin.created_at"): [i18n.when(a.created_at) for a in rows]}), width="stretch", hide_index=True)
