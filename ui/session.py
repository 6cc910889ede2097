"""Who is logged in, which store, which language: per browser session state."""
from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from survey import i18n, sessions
from survey.auth import Account, allowed, firms, load_account, scope
from survey.waves import wave_ids
from survey.bootstrap import init_store

if TYPE_CHECKING:  # the type only: pages and ui/ reach the store through survey's services
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


LOGIN_SESSION, LAST_ACTION, NOTICE = "login_session", "last_action", "login_notice"
HANDOFF, CLEAR_COOKIE = "login_handoff", "login_clear_cookie"


def _cookie() -> str | None:
    try:
        return st.context.cookies.get(sessions.SESSION_COOKIE)
    except Exception:  # AppTest has no browser
        return None


def _ended(reason: str) -> None:
    for key in ("account", LOGIN_SESSION, LAST_ACTION):
        st.session_state.pop(key, None)
    if reason in ("idle", "expired"):
        st.session_state[NOTICE] = reason


def current_login(clock=None) -> Account | None:
    """The logged-in account of this run, after the idle timeout and the session row had their say.

    Called once per run by streamlit_app.py. A running session is checked against its row
    in `login_sessions` (idle, revoked, expired); a fresh one — a reload (F5) — resumes
    the login its HttpOnly cookie carries (survey.sessions).
    """
    import datetime as dt

    from survey.config import idle_timeout_minutes
    clock = clock or dt.datetime.now
    idle = idle_timeout_minutes()
    acc = account()
    if acc is not None:
        sid = st.session_state.get(LOGIN_SESSION)
        if sid:
            checked = sessions.touch(store(), sid, idle, clock)
            if checked.account is None:
                _ended(checked.ended)
                return None
        else:  # a login held only in this session's memory: the same timeout, on its clock
            last = st.session_state.get(LAST_ACTION)
            if last is not None and clock() - last >= dt.timedelta(minutes=idle):
                _ended("idle")
                return None
        st.session_state[LAST_ACTION] = clock()
        return acc
    cookie = _cookie()
    if cookie:
        resumed = sessions.resume(store(), cookie, idle, clock)
        if resumed.account is not None:
            st.session_state.update({"account": resumed.account, LOGIN_SESSION: resumed.session_id,
                                     LAST_ACTION: clock()})
            return resumed.account
        if resumed.ended in ("idle", "expired"):
            st.session_state[NOTICE] = resumed.ended
    return None


def signed_in(acc: Account) -> None:
    """After a successful login: open its session; the next run hands the cookie code to the browser."""
    started = sessions.start(store(), acc)
    st.session_state.update({"account": acc, LOGIN_SESSION: started.session_id, HANDOFF: started.handoff})


def sign_out() -> None:
    """Logout: revoke the session; the next run asks the browser's route to clear the cookie."""
    sid = st.session_state.get(LOGIN_SESSION)
    if sid:
        sessions.end(store(), session_id=sid)
    _ended("logout")
    st.session_state[CLEAR_COOKIE] = True


def cookie_script() -> None:
    """Send the pending handoff code to the cookie route (or ask it to clear the cookie): a one-line fetch.

    `st.html` with JavaScript runs in the page itself, so the request goes to this origin
    and its `Set-Cookie` lands in the app's own cookie jar, HttpOnly.
    """
    import json

    from ui.cookie_routes import ROUTE
    code = st.session_state.pop(HANDOFF, None)
    clear = st.session_state.pop(CLEAR_COOKIE, None)
    if code:
        st.html(f"<script>fetch({json.dumps(ROUTE)}, {{method: 'POST', credentials: 'same-origin', "
                f"body: {json.dumps(code)}}});</script>", unsafe_allow_javascript=True)
    elif clear:
        st.html(f"<script>fetch({json.dumps(ROUTE)}, {{method: 'DELETE', credentials: 'same-origin'}});</script>",
                unsafe_allow_javascript=True)


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


def page_account(page_file: str, *, refresh: bool = False) -> Account:
    """The account of a page, checked against the page's roles (ui.registry) at its top.

    Navigation only lists allowed pages, but a page must not rely on that: each page calls
    this first, so a page reached another way still refuses a role it is not for.
    """
    from ui.registry import roles_for_page
    acc = (refresh_account() if refresh else None) or require_account()
    if acc.role not in roles_for_page(page_file):
        st.error(t("security.forbidden_page"))
        st.stop()
    return acc


def entry_waves(acc: Account) -> list[str]:
    """The waves an account may enter interviews into (a pollster: assigned ones); stops the page if none."""
    waves = [w for w in wave_ids(store(), acc) if allowed(acc, "waves.enter", {"wave": w})]
    if not waves:
        st.warning(t("common.no_wave"))
        st.stop()
    return waves


CHOSEN_WAVE = "chosen_wave"  # the wave last chosen on any page: every page opens on it for the session


def firm_picker(container, account: Account, action: str, key: str, label: str, all_label: str) -> str | None:
    """The firm selector of a supervising page for an actor whose `action` reaches every firm
    (admin): None means all firms. Others get None here; their firm comes from their account."""
    if not scope(account, action).everything:
        return None
    return container.selectbox(label, [None, *firms(store(), account)], key=key, format_func=lambda f: f or all_label)


def wave_picker(container, waves: list[str], key: str, label: str | None = None) -> str:
    """The wave selector of a page: opens on the session's chosen wave, else the wave in fieldwork."""
    from survey.wave_choice import default_wave
    if st.session_state.get(key) not in waves:
        chosen = st.session_state.get(CHOSEN_WAVE)
        st.session_state[key] = chosen if chosen in waves else default_wave(store(), waves)
    value = container.selectbox(label or t("common.wave"), waves, key=key)
    st.session_state[CHOSEN_WAVE] = value
    return value
