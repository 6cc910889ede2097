"""Staff login sessions that survive a browser reload, with an idle timeout.

Streamlit forgets its session state when the page reloads (F5), so a login must live
in the browser too. It lives in an HttpOnly cookie the server sets — JavaScript on the
page can never read it — holding a random token signed with a key derived from the
store's secret key (outside the database). The store keeps only the token's hash, in
`login_sessions`, with the account, last activity and an absolute expiry.

The cookie is set by an HTTP route (ui/cookie_routes.py, mounted by server.py), not by
the WebSocket that runs the app. So a login hands over through a one-time code: the
login creates the session row with the hash of a short-lived code, the page posts that
code to the route, and the route binds a fresh token to the row and answers with the
cookie. The code is useless once redeemed or after HANDOFF_SECONDS.

Each action of the running session touches the row; one after the idle timeout
(`survey.config.idle_timeout_minutes`, default 30) ends the session instead, and the
next reload finds it ended too. Logout, a password reset or a deactivation revoke it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from survey.auth import Account, load_account
from survey.store import Store

SESSION_COOKIE = "survey_session"
SESSION_HOURS = 12  # absolute lifetime of a login, whatever the activity
HANDOFF_SECONDS = 120
TOUCH_EVERY = dt.timedelta(seconds=15)  # last activity is written at most this often

Clock = Callable[[], dt.datetime]


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _signing_key(store: Store) -> bytes:
    from survey.contacts import store_secret
    return hmac.new(store_secret(store), b"survey-session-cookie", hashlib.sha256).digest()


def sign(store: Store, token: str) -> str:
    """The cookie value: token and its HMAC, so a forged or truncated cookie is refused before any lookup."""
    mac = hmac.new(_signing_key(store), token.encode("ascii"), hashlib.sha256).hexdigest()
    return f"{token}.{mac}"


def unsign(store: Store, value: str | None) -> str | None:
    """The token of a cookie value whose signature holds, else None."""
    if not value or value.count(".") != 1 or len(value) > 200:
        return None
    token, mac = value.split(".")
    try:
        good = hmac.new(_signing_key(store), token.encode("ascii"), hashlib.sha256).hexdigest()
    except UnicodeEncodeError:
        return None
    return token if hmac.compare_digest(good, mac) else None


@dataclass(frozen=True)
class Started:
    """A new login session: its id (server side only) and the one-time code that sets the cookie."""
    session_id: str
    handoff: str


def start(store: Store, account: Account, clock: Clock = dt.datetime.now) -> Started:
    """Open a session for an account that has just logged in."""
    now = clock()
    session_id, code = secrets.token_urlsafe(18), secrets.token_urlsafe(24)
    store.add_login_session(session_id, account.username, _digest(code),
                            _iso(now + dt.timedelta(seconds=HANDOFF_SECONDS)), _iso(now),
                            _iso(now + dt.timedelta(hours=SESSION_HOURS)))
    return Started(session_id, code)


def redeem(store: Store, code: str, clock: Clock = dt.datetime.now) -> str | None:
    """The signed cookie value for a handoff code (once; None when used, expired or unknown)."""
    if not code or len(code) > 100:
        return None
    token = secrets.token_urlsafe(32)
    if store.redeem_login_handoff(_digest(code), _digest(token), _iso(clock())) is None:
        return None
    return sign(store, token)


@dataclass(frozen=True)
class Resumed:
    """What a session check found: the account (None when the session is over) and why it ended."""
    account: Account | None
    session_id: str | None = None
    ended: str = ""  # "", "idle", "expired", "revoked", "unknown"


def _check(store: Store, row: dict | None, idle_minutes: float, clock: Clock) -> Resumed:
    if row is None:
        return Resumed(None, ended="unknown")
    now = clock()
    if row["revoked_at"]:
        return Resumed(None, row["id"], "revoked")
    if row["expires_at"] <= _iso(now):
        store.revoke_login_sessions(_iso(now), "expired", session_id=row["id"])
        return Resumed(None, row["id"], "expired")
    if dt.datetime.fromisoformat(row["last_seen"]) + dt.timedelta(minutes=idle_minutes) <= now:
        store.revoke_login_sessions(_iso(now), "idle", session_id=row["id"])
        return Resumed(None, row["id"], "idle")
    account = load_account(store, row["username"])
    if account is None or not (store.account(row["username"]) or {}).get("active", 1):
        store.revoke_login_sessions(_iso(now), "inactive", session_id=row["id"])
        return Resumed(None, row["id"], "revoked")
    if now - dt.datetime.fromisoformat(row["last_seen"]) >= TOUCH_EVERY:
        store.touch_login_session(row["id"], _iso(now))
    return Resumed(account, row["id"])


def resume(store: Store, cookie: str | None, idle_minutes: float, clock: Clock = dt.datetime.now) -> Resumed:
    """The login a browser's cookie carries (a reload), if its session is still open and not idle."""
    token = unsign(store, cookie)
    if token is None:
        return Resumed(None, ended="unknown" if cookie else "")
    return _check(store, store.login_session(token_hash=_digest(token)), idle_minutes, clock)


def touch(store: Store, session_id: str, idle_minutes: float, clock: Clock = dt.datetime.now) -> Resumed:
    """An action in a running session: still open and not idle? (and note the activity)."""
    return _check(store, store.login_session(session_id=session_id), idle_minutes, clock)


def end(store: Store, *, session_id: str | None = None, cookie: str | None = None,
        clock: Clock = dt.datetime.now) -> None:
    """Logout: revoke the session (by its id, or by the browser's cookie)."""
    if session_id is None and cookie is not None:
        token = unsign(store, cookie)
        row = store.login_session(token_hash=_digest(token)) if token else None
        session_id = row["id"] if row else None
    if session_id is not None:
        store.revoke_login_sessions(_iso(clock()), "logout", session_id=session_id)
