"""Login, lockout and rights enforced in the core."""
from __future__ import annotations

import datetime as dt

import pytest

from survey import auth
from survey.auth import AuthError, PermissionDenied
from survey.responses import read_response, set_excluded, submit_interview, visible_responses
from survey.store import StoreError
from tests.conftest import PASSWORD, complete_answers


def test_login_and_argon2_hash(store, accounts):
    acc = auth.login(store, "p1", PASSWORD)
    assert acc.role == "pollster" and acc.waves == ("2025",)
    assert store.account("p1")["password_hash"].startswith("$argon2")
    with pytest.raises(AuthError):
        auth.login(store, "p1", "wrong-password")
    with pytest.raises(AuthError):
        auth.login(store, "nobody", PASSWORD)


def test_lockout_after_five_failures_for_fifteen_minutes(store, accounts):
    t0 = dt.datetime(2025, 10, 1, 9, 0, 0)
    for _ in range(4):
        with pytest.raises(AuthError, match="用户名或密码错误"):
            auth.login(store, "p2", "bad", clock=lambda: t0)
    with pytest.raises(AuthError, match="锁定"):
        auth.login(store, "p2", "bad", clock=lambda: t0)
    with pytest.raises(AuthError, match="锁定"):  # even the right password while locked
        auth.login(store, "p2", PASSWORD, clock=lambda: t0 + dt.timedelta(minutes=14))
    assert auth.login(store, "p2", PASSWORD, clock=lambda: t0 + dt.timedelta(minutes=16)).username == "p2"
    assert store.account("p2")["failed_logins"] == 0


def test_failures_read_together_on_several_servers_are_all_counted(store, accounts, monkeypatch):
    # five app servers read p2's row before any of them stores its failure: each still counts
    stale = store.account("p2")
    monkeypatch.setattr(store, "account", lambda username: dict(stale))
    t0 = dt.datetime(2025, 10, 1, 9, 0, 0)
    for _ in range(4):
        with pytest.raises(AuthError, match="用户名或密码错误"):
            auth.login(store, "p2", "bad", clock=lambda: t0)
    monkeypatch.undo()
    assert store.account("p2")["failed_logins"] == 4
    with pytest.raises(AuthError, match="锁定"):
        auth.login(store, "p2", "bad", clock=lambda: t0)
    assert store.account("p2")["failed_logins"] == 5
    assert auth.login(store, "p2", PASSWORD, clock=lambda: t0 + dt.timedelta(minutes=16)).username == "p2"
    assert store.account("p2")["failed_logins"] == 0


def test_admin_reset_lifts_lockout(store, accounts):
    t0 = dt.datetime.now()
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.login(store, "p1", "bad", clock=lambda: t0)
    auth.reset_password(store, accounts["admin"], "p1", "brand-new-pass")
    assert auth.login(store, "p1", "brand-new-pass").username == "p1"


def test_pollster_cannot_read_another_pollsters_response(store, accounts):
    mine = submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone",
                            answers=complete_answers(), submit_key="p1-a")
    submit_interview(store, accounts["p2"], "2025", unit="思明区", mode="phone",
                     answers=complete_answers(), submit_key="p2-a")
    with pytest.raises(PermissionDenied):
        read_response(store, accounts["p2"], mine.response_id)
    assert [r["interviewer"] for r in visible_responses(store, accounts["p2"], "2025")] == ["p2"]
    assert len(visible_responses(store, accounts["ana"], "2025")) == 2


def test_supervisor_sees_and_excludes_only_own_firm(store, accounts):
    a = submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone",
                         answers=complete_answers(), submit_key="a")
    b = submit_interview(store, accounts["p3"], "2025", unit="思明区", mode="phone",
                         answers=complete_answers(), submit_key="b")
    assert {r["response_id"] for r in visible_responses(store, accounts["sup"], "2025")} == {a.response_id}
    with pytest.raises(PermissionDenied):
        set_excluded(store, accounts["sup"], b.response_id, True, "not mine")
    assert set_excluded(store, accounts["supb"], b.response_id, True, "复核不合格")


def test_rights_for_account_management_and_entry(store, accounts):
    with pytest.raises(PermissionDenied):
        auth.create_account(store, accounts["ana"], "x1", "pollster", PASSWORD, firm="A")
    with pytest.raises(PermissionDenied):
        submit_interview(store, accounts["ana"], "2025", unit="思明区", mode="phone",
                         answers=complete_answers(), submit_key="z")
    with pytest.raises(PermissionDenied):
        visible_responses(store, auth.Account("r", "resident"), "2025")
    with pytest.raises(StoreError, match="at least 10"):
        auth.create_account(store, accounts["admin"], "x2", "analyst", "short")
    with pytest.raises(StoreError, match="firm"):
        auth.create_account(store, accounts["admin"], "x3", "pollster", PASSWORD)


def test_pollster_needs_assignment_to_the_wave(store, accounts):
    store.add_wave("2026", "default-2025", ["思明区"], "admin")
    with pytest.raises(PermissionDenied, match="not assigned"):
        submit_interview(store, accounts["p1"], "2026", unit="思明区", mode="phone",
                         answers=complete_answers(), submit_key="w26")
    auth.assign(store, accounts["admin"], "p1", wave="2026")
    p1 = auth.load_account(store, "p1")
    assert submit_interview(store, p1, "2026", unit="思明区", mode="phone", answers=complete_answers(),
                            submit_key="w26").created
