"""Accounts, roles and rights.

Rights are checked here, in the core, so a page that forgets to hide a button still
cannot read or write what its user may not. Passwords are argon2 hashes; five failed
logins lock an account for fifteen minutes. New passwords have at least 10 characters, are
not all blank and not on the shipped list of common passwords (data/common-passwords.txt).
An unknown user costs the same argon2 verification as a known one, so the answer and its
timing do not tell which usernames exist.
"""
from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from common.errors import Forbidden, Invalid, NotFound, wave_not_found
from survey.store import Store, StoreError
from survey.waves import get_wave

ROLES = ("admin", "supervisor", "pollster", "analyst")
MAX_FAILED_LOGINS = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[1] / "data" / "common-passwords.txt"

# right -> roles that hold it (admin holds every right)
RIGHTS: dict[str, tuple[str, ...]] = {
    "waves.manage": ("admin",),
    "accounts.manage": ("admin",),
    "responses.enter": ("pollster", "supervisor"),
    "responses.read_own": ("pollster",),
    "responses.read_firm": ("supervisor",),
    "responses.read_all": ("analyst",),
    "responses.exclude": ("supervisor", "analyst"),
    "responses.edit": ("supervisor",),
    "responses.import": ("analyst",),
    "analysis.run": ("analyst",),
    "analysis.publish": ("analyst",),
    "export.responses": ("analyst",),
    "export.contacts": (),
    "fieldwork.enter": ("pollster", "supervisor"),
    "fieldwork.supervise": ("supervisor",),
    "cases.manage": (),  # import contact lists (personal data): admin only
    "tokens.manage": (),
    "qc.run": ("supervisor", "analyst"),
    "qc.configure": ("analyst",),
}

# Actions on one resource (a case, an attempt, a paper form, a wave), declared as data:
# action -> role -> reach. Reach "all": any resource; "firm": the actor's firm's; "own": the
# actor's own (resource's pollster/interviewer); "assigned": waves the actor is assigned to.
# A role not listed may not. Unlike RIGHTS, admin is listed where it may (it never sees a
# contact in clear).
ALL, FIRM, OWN, ASSIGNED = "all", "firm", "own", "assigned"
ACTIONS: dict[str, dict[str, str]] = {
    "waves.enter": {"admin": ALL, "supervisor": ALL, "pollster": ASSIGNED},
    "cases.read": {"admin": ALL, "analyst": ALL, "supervisor": FIRM, "pollster": OWN},
    "cases.contact_clear": {"pollster": OWN},
    "cases.assign": {"admin": ALL, "supervisor": FIRM},
    "attempts.add": {"admin": ALL, "supervisor": FIRM, "pollster": OWN},
    "attempts.read": {"admin": ALL, "analyst": ALL, "supervisor": FIRM, "pollster": OWN},
    "attempts.link_response": {"admin": ALL, "supervisor": ALL, "pollster": OWN},
    "paper.key": {"admin": ALL, "supervisor": FIRM, "pollster": FIRM},
    "responses.exclude": {"analyst": ALL, "supervisor": FIRM, "admin": ALL},
    "fieldwork.supervise": {"admin": ALL, "supervisor": FIRM},
}

_hasher = PasswordHasher()


class AuthError(Forbidden):
    """Login refused; the message is safe to show (it never says which part was wrong)."""

    default_code = "login_refused"


PermissionDenied = Forbidden  # the earlier name, used by many callers


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    firm: str | None = None
    display_name: str | None = None
    waves: tuple[str, ...] = field(default_factory=tuple)

    def can(self, right: str) -> bool:
        return self.role == "admin" or self.role in RIGHTS.get(right, ())


SYSTEM = Account("system", "admin")  # for CLI jobs run by the machine's operator


def require(actor: Account, right: str) -> None:
    if not actor.can(right):
        raise Forbidden(f"{actor.username} ({actor.role}) may not {right}", code="forbidden_right")


def _owner(resource: Mapping[str, Any]) -> Any:
    return resource.get("pollster", resource.get("interviewer"))


def allowed(actor: Account, action: str, resource: Mapping[str, Any] | None = None) -> bool:
    """May `actor` do `action` on `resource` (a case, form, response or {"wave": …})?

    Without a resource: may the actor do the action on some resource at all.
    """
    reach = ACTIONS[action].get(actor.role)
    if reach is None:
        return False
    if resource is None or reach == ALL:
        return True
    if reach == FIRM:
        return bool(actor.firm) and resource.get("firm") == actor.firm
    if reach == OWN:
        return _owner(resource) == actor.username
    if reach == ASSIGNED:
        return resource.get("wave") in actor.waves
    raise AssertionError(f"unknown reach {reach}")


@dataclass(frozen=True)
class Scope:
    """Which rows a query may return for an action: all (every field None), one firm's, one
    pollster's, or those of the listed waves."""
    firm: str | None = None
    pollster: str | None = None
    waves: tuple[str, ...] | None = None

    @property
    def everything(self) -> bool:
        return self.firm is None and self.pollster is None and self.waves is None


def scope(actor: Account, action: str, firm: str | None = None) -> Scope:
    """The rows of `action` the actor may see (Forbidden if none); `firm` narrows an "all" reach."""
    reach = ACTIONS[action].get(actor.role)
    if reach is None:
        raise Forbidden(f"{actor.username} ({actor.role}) may not {action}", code="forbidden_action")
    if reach == ALL:
        return Scope(firm=firm)
    if reach == OWN:
        return Scope(pollster=actor.username)
    if reach == ASSIGNED:
        return Scope(waves=tuple(actor.waves))
    if reach == FIRM:
        if not actor.firm:
            raise Forbidden(f"{actor.username} belongs to no firm", code="no_firm")
        if firm is not None and firm != actor.firm:
            raise Forbidden(f"{actor.username} works for firm {actor.firm}, not {firm}", code="other_firm")
        return Scope(firm=actor.firm)
    raise Forbidden(f"{action} has no row scope for {actor.role}")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@functools.lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is refused, or None: too short, blank, common, one repeated character, the username."""
    if not password.strip():
        return "password: all blank; choose at least 10 characters"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password too short: at least {MIN_PASSWORD_LENGTH} characters"
    if password.strip().lower() in common_passwords() or len(set(password)) == 1:
        return "password: a common password that is tried first; choose another"
    if username and password.strip().lower() == username.strip().lower():
        return "password: the same as the username; choose another"
    return None


def _check_new_password(password: str, username: str = "") -> None:
    problem = password_problem(password, username)
    if problem:
        raise StoreError(problem)


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the user is unknown: the same cost, so the same timing."""
    return _hasher.hash(secrets.token_urlsafe(16))


def create_account(store: Store, actor: Account, username: str, role: str, password: str,
                   firm: str | None = None, display_name: str | None = None, *, policy: bool = True) -> Account:
    """Create an account; `policy=False` only for the demo's published password (demo-only stores)."""
    require(actor, "accounts.manage")
    if role not in ROLES:
        raise StoreError(f"unknown role `{role}` (one of {', '.join(ROLES)})")
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise StoreError(f"username `{username}`: use letters, digits, - _ . only")
    if role in ("pollster", "supervisor") and not firm:
        raise StoreError(f"a {role} belongs to a firm: give --firm")
    if policy:
        _check_new_password(password, username)
    store.add_account(username, role, hash_password(password), actor.username, firm=firm,
                      display_name=display_name)
    return Account(username, role, firm, display_name)


def reset_password(store: Store, actor: Account, username: str, password: str) -> None:
    """Admin sets a new password; also lifts a lockout."""
    require(actor, "accounts.manage")
    _check_new_password(password, username)
    store.update_account(username, actor.username, "reset_password", password_hash=hash_password(password),
                         failed_logins=0, locked_until=None)


def assign(store: Store, actor: Account, username: str, wave: str | None = None, firm: str | None = None) -> None:
    """Assign a pollster or supervisor to a wave and/or a firm."""
    require(actor, "accounts.manage")
    row = store.account(username)
    if row is None:
        raise StoreError(f"no account `{username}`")
    if wave is not None:
        get_wave(store, wave)
        store.assign(username, wave, actor.username)
    if firm is not None:
        store.update_account(username, actor.username, "assign_firm", firm=firm)


def load_account(store: Store, username: str) -> Account | None:
    row = store.account(username)
    if row is None:
        return None
    return Account(row["username"], row["role"], row["firm"], row["display_name"],
                   tuple(store.assigned_waves(username)))


def login(store: Store, username: str, password: str,
          clock: Callable[[], dt.datetime] = dt.datetime.now) -> Account:
    """Check a password; count failures and lock after MAX_FAILED_LOGINS."""
    row = store.account(username)
    if row is None or not row["active"]:
        _verifies(_dummy_hash(), password)  # same work as a known user: timing reveals nothing
        raise AuthError("用户名或密码错误")
    now = clock()
    if row["locked_until"] and dt.datetime.fromisoformat(row["locked_until"]) > now:
        _verifies(_dummy_hash(), password)
        raise AuthError(f"账号已锁定，请于 {row['locked_until'][11:16]} 后再试或联系管理员")
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        locked = store.record_failed_login(username, MAX_FAILED_LOGINS,
                                           (now + LOCKOUT).isoformat(timespec="seconds"))
        if locked:
            raise AuthError(f"连续 {MAX_FAILED_LOGINS} 次密码错误，账号锁定 15 分钟") from None
        raise AuthError("用户名或密码错误") from None
    store.record_login(username)
    account = load_account(store, username)
    assert account is not None
    return account


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
