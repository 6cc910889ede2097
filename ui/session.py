"""Who is logged in, which store, which language: per browser session state."""
from __future__ import annotations

import streamlit as st

from survey import i18n
from survey.auth import Account, allowed, load_account
from survey.bootstrap import init_store
from survey.store import Store


@st.cache_resource(show_spinner=False)
def _initialised(path: str) -> Store:
    result = init_store(path)
    if result.created_admin_password:
        print(f"管理员账号已创建 / admin account created: admin / {result.created_admin_password}", flush=True)
    return result.store


def store() -> Store:
    """The store of `SURVEY_DB`, initialised once per server process."""
    from survey.config import db_target
    return _initialised(db_target())


def lang() -> str:
    return st.session_state.get("lang", i18n.DEFAULT_LANG)


def t(key: str, /, **values: object) -> str:
    return i18n.t(key, lang(), **values)


def account() -> Account | None:
    return st.session_state.get("account")


def refresh_account() -> Account | None:
    """Reload the account (assignments may have changed since login)."""
    acc = account()
    if acc is not None:
        acc = load_account(store(), acc.username)
        st.session_state["account"] = acc
    return acc


def require_account() -> Account:
    acc = account()
    if acc is None:
        st.stop()
    return acc


def entry_waves(acc: Account) -> list[str]:
    """The waves an account may enter interviews into (a pollster: assigned ones); stops the page if none."""
    waves = [w["id"] for w in store().waves() if allowed(acc, "waves.enter", {"wave": w["id"]})]
    if not waves:
        st.warning(t("common.no_wave"))
        st.stop()
    return waves


CHOSEN_WAVE = "chosen_wave"  # the wave last chosen on any page: every page opens on it for the session


def wave_picker(container, waves: list[str], key: str, label: str | None = None) -> str:
    """The wave selector of a page: opens on the session's chosen wave, else the wave in fieldwork."""
    from survey.wave_choice import default_wave
    if st.session_state.get(key) not in waves:
        chosen = st.session_state.get(CHOSEN_WAVE)
        st.session_state[key] = chosen if chosen in waves else default_wave(store(), waves)
    value = container.selectbox(label or t("common.wave"), waves, key=key)
    st.session_state[CHOSEN_WAVE] = value
    return value
