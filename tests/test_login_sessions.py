"""Login throttle held in the database across app servers, login sessions with an idle timeout (issues 15, 16)."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from survey import auth, sessions
from survey.auth import AuthError
from tests.conftest import PASSWORD

T0 = dt.datetime(2025, 10, 1, 9, 0, 0)


def at(minutes: float = 0):
    return lambda: T0 + dt.timedelta(minutes=minutes)


def test_throttle_holds_across_two_servers_and_counts_every_failure(store, accounts, db_file):
    """Two store handles on one database (two app servers) share the counters; concurrent failures all count."""
    from survey.store import Store
    other = Store(db_file)  # a second server's handle
    scopes = auth.throttle_scopes(store, "nobody", "203.0.113.9")
    since = (T0 - auth.LOCKOUT).isoformat()

    def fail(handle, n):
        for _ in range(n):
            handle.count_login_failure({scopes["address"]: 999}, T0.isoformat(), since)
            handle.close()
    threads = [threading.Thread(target=fail, args=(h, 15)) for h in (store, other, store, other)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert store.login_failures([scopes["address"]], since)[scopes["address"]]["failures"] == 60
    store.clear_login_failures([scopes["address"]])
    # one password tried across many accounts from one address: the address limit stops it, on either server
    names = ["p1", "p2", "p3", "sup", "supb", "ana", "admin"] + [f"ghost{i}" for i in range(20)]
    refused_at = None
    for i, name in enumerate(names):
        handle = store if i % 2 else other
        with pytest.raises(AuthError) as err:
            auth.login(handle, name, "Summer2025!", clock=at(1), address="203.0.113.9")
        if "本机登录失败次数过多" in str(err.value):
            refused_at = i
            break
    assert refused_at == auth.MAX_FAILURES_PER_ADDRESS
    with pytest.raises(AuthError, match="本机登录失败次数过多"):  # even the right password, from that address
        auth.login(other, "p1", PASSWORD, clock=at(2), address="203.0.113.9")
    assert auth.login(store, "p1", PASSWORD, clock=at(2), address="198.51.100.7").username == "p1"
    assert auth.login(other, "p1", PASSWORD, clock=at(17), address="203.0.113.9").username == "p1"


def test_nobody_locks_admin_out_from_elsewhere_and_unknown_users_lock_alike(store, accounts):
    for _ in range(auth.MAX_FAILED_LOGINS):
        with pytest.raises(AuthError):
            auth.login(store, "admin", "guess-guess-1", clock=at(0), address="203.0.113.5")
    with pytest.raises(AuthError, match="锁定"):
        auth.login(store, "admin", PASSWORD, clock=at(1), address="203.0.113.5")
    assert auth.login(store, "admin", PASSWORD, clock=at(1), address="192.0.2.10").username == "admin"
    answers = []
    for name in ("p2", "no-such-user"):
        got = []
        for _ in range(auth.MAX_FAILED_LOGINS + 1):
            with pytest.raises(AuthError) as err:
                auth.login(store, name, "guess-guess-1", clock=at(2), address="203.0.113.6")
            got.append(str(err.value))
        answers.append(got)
    assert answers[0] == answers[1]  # a known and an unknown user get the same answers, in the same order


def test_global_limit_holds_back_failing_addresses_but_not_clean_ones(store, accounts, monkeypatch):
    monkeypatch.setitem(auth.LIMITS, "global", 6)
    for i in range(6):
        with pytest.raises(AuthError):
            auth.login(store, f"ghost{i}", "x-x-x-x-x-x", clock=at(0), address=f"203.0.113.{i}")
    with pytest.raises(AuthError, match="暂停登录"):
        auth.login(store, "p1", PASSWORD, clock=at(1), address="203.0.113.0")
    assert auth.login(store, "p1", PASSWORD, clock=at(1), address="192.0.2.99").username == "p1"


def test_a_session_resumes_from_its_cookie_until_idle_and_ends_on_logout(store, accounts):
    acc = accounts["p1"]
    started = sessions.start(store, acc, clock=at(0))
    cookie = sessions.redeem(store, started.handoff, clock=at(0.5))
    assert cookie and sessions.redeem(store, started.handoff, clock=at(0.5)) is None  # the code works once
    resumed = sessions.resume(store, cookie, 30, clock=at(10))  # F5 ten minutes later
    assert resumed.account.username == "p1" and resumed.session_id == started.session_id
    assert sessions.touch(store, started.session_id, 30, clock=at(39)).account is not None  # active at 39'
    idle = sessions.resume(store, cookie, 30, clock=at(70))  # 31 minutes without an action
    assert idle.account is None and idle.ended == "idle"
    assert sessions.resume(store, cookie, 30, clock=at(71)).ended == "revoked"
    # a forged or altered cookie is refused before any lookup; an expired handoff code is useless
    assert sessions.resume(store, cookie[:-1] + ("0" if cookie[-1] != "0" else "1"), 30, clock=at(1)).account is None
    late = sessions.start(store, acc, clock=at(0))
    assert sessions.redeem(store, late.handoff, clock=at(sessions.HANDOFF_SECONDS / 60 + 1)) is None
    # logout revokes; so does an admin's password reset
    again = sessions.start(store, acc, clock=at(0))
    cookie = sessions.redeem(store, again.handoff, clock=at(0))
    sessions.end(store, cookie=cookie, clock=at(1))
    assert sessions.resume(store, cookie, 30, clock=at(2)).ended == "revoked"
    third = sessions.start(store, acc)
    cookie = sessions.redeem(store, third.handoff)
    auth.reset_password(store, accounts["admin"], "p1", "brand-new-pass")
    assert sessions.resume(store, cookie, 30).account is None
    # the cookie holds a token whose hash alone is stored
    assert cookie.split(".")[0] not in str(store.db.query("SELECT * FROM login_sessions"))


def test_idle_timeout_setting_is_validated(monkeypatch):
    from common.errors import Invalid
    from survey.config import idle_timeout_minutes
    monkeypatch.delenv("SURVEY_IDLE_MINUTES", raising=False)
    assert idle_timeout_minutes() == 30
    monkeypatch.setenv("SURVEY_IDLE_MINUTES", "5")
    assert idle_timeout_minutes() == 5
    for bad in ("0", "-1", "inf", "nan", "abc", "1441"):
        monkeypatch.setenv("SURVEY_IDLE_MINUTES", bad)
        with pytest.raises(Invalid, match="SURVEY_IDLE_MINUTES"):
            idle_timeout_minutes()


def test_in_app_the_next_action_after_the_idle_timeout_asks_to_log_in(store, accounts):
    from streamlit.testing.v1 import AppTest
    from tests.conftest import ROOT
    at_ = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at_.session_state["account"] = accounts["ana"]
    at_.run()
    assert not at_.exception and "login_notice" not in at_.session_state
    at_.session_state["last_action"] = dt.datetime.now() - dt.timedelta(minutes=31)
    at_.run()
    assert not at_.exception
    assert any("分钟未操作" in i.value for i in at_.info) and "登录" in [b.label for b in at_.button]
    assert "account" not in at_.session_state
