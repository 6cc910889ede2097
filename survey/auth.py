"""Accounts, roles and rights.

Rights are checked here, in the core, so a page that forgets to hide a button still
cannot read or write what its user may not. Passwords are argon2 hashes; failed logins
are throttled per address, per account and globally in the database (see `login`). New passwords have at least 10 characters, are
not all blank and not on the shipped list of common passwords (data/common-passwords.txt).
An unknown user costs the same argon2 verification as a known one, so the answer and its
timing do not tell which usernames exist.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from common.errors import Forbidden, Invalid, NotFound, wave_not_found
from survey import i18n
from survey.store import Store, StoreError
from survey.waves import get_wave

ROLES = ("admin", "supervisor", "pollster", "analyst", "liaison", "reviewer")
FIRM_ROLES = ("pollster", "supervisor", "reviewer")  # roles that belong to a survey firm
MAX_FAILED_LOGINS = 5  # one account from one address, per LOCKOUT window
MAX_FAILURES_PER_ADDRESS = 20  # any accounts from one address
MAX_FAILURES_PER_ACCOUNT = 50  # one account from all addresses
MAX_FAILURES_GLOBAL = 500  # everything: a wide attack from many addresses
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
# actor's own (resource's pollster/interviewer); "assigned": waves the actor is assigned to;
# "unit": the actor's own unit (district) — a unit liaison (区联络员) sees and contests only its own.
# A role not listed may not. Unlike RIGHTS, admin is listed where it may (it never sees a
# contact in clear).
ALL, FIRM, OWN, ASSIGNED, UNIT = "all", "firm", "own", "assigned", "unit"
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
    # appeals (survey/appeals.py): a publication's results, method sheet and evidence summary
    "published.read": {"admin": ALL, "analyst": ALL, "liaison": UNIT},
    "objections.file": {"liaison": UNIT},
    "objections.read": {"admin": ALL, "analyst": ALL, "liaison": UNIT},
    "objections.decide": {"admin": ALL, "analyst": ALL},
    "appeals.set_deadline": {"admin": ALL, "analyst": ALL},
    # recording review (survey.recordings): import call recordings, attach door files, listen and judge
    "recordings.import": {"admin": ALL, "supervisor": FIRM},
    "recordings.add": {"admin": ALL, "supervisor": FIRM, "pollster": OWN},
    "recordings.review": {"admin": ALL, "supervisor": FIRM, "reviewer": FIRM},  # 复核员 of a firm
    "evidence.map": {"admin": ALL, "analyst": ALL, "supervisor": FIRM},
    # a back-check call shows the respondent's number in clear: only to a supervisor of the firm
    "backcheck.dial": {"supervisor": FIRM},
    # which waves a role sees listed and opened on its pages (a pollster: those assigned)
    "waves.read": {"admin": ALL, "supervisor": ALL, "analyst": ALL, "reviewer": ALL, "liaison": ALL,
                   "pollster": ASSIGNED},
    # the accounts list and the firms of a firm selector: for whoever may pick any firm or manage accounts
    "accounts.read": {"admin": ALL},
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
    home_district: str | None = None  # 异地交叉: the unit whose cases this pollster does not get
    unit: str | None = None  # a unit liaison's unit (district), whose results it sees and contests

    def can(self, right: str) -> bool:
        return self.role == "admin" or self.role in RIGHTS.get(right, ())


@dataclass(frozen=True)
class AccountRecord:
    """One account as the admin's list shows it: no password hash, no failure counts."""
    username: str
    display_name: str | None
    role: str
    firm: str | None
    home_district: str | None
    unit: str | None
    active: bool
    locked_until: str | None
    created_at: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AccountRecord:
        return cls(row["username"], row["display_name"], row["role"], row["firm"], row.get("home_district"),
                   row.get("unit"), bool(row["active"]), row["locked_until"], str(row["created_at"]))


SYSTEM = Account("system", "admin")  # for CLI jobs run by the machine's operator


def require(actor: Account, right: str) -> None:
    if not actor.can(right):
        raise Forbidden(f"{actor.username} ({actor.role}) may not {right}", code="forbidden_right")


def _owner(resource: Mapping[str, Any]) -> Any:
    return resource.get("pollster", resource.get("interviewer"))


def reach(actor: Account, action: str) -> str | None:
    """How far `actor` reaches for `action` (ALL, FIRM, OWN, ASSIGNED, UNIT), None when not at all.

    For code that words a refusal or chooses a filter by reach; rights are still decided by
    `allowed` and `scope`, never by comparing roles.
    """
    return ACTIONS[action].get(actor.role)


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
    if reach == UNIT:
        return bool(actor.unit) and resource.get("unit") == actor.unit
    raise AssertionError(f"unknown reach {reach}")


@dataclass(frozen=True)
class Scope:
    """Which rows a query may return for an action: all (every field None), one firm's, one
    pollster's, or those of the listed waves."""
    firm: str | None = None
    pollster: str | None = None
    waves: tuple[str, ...] | None = None
    unit: str | None = None

    @property
    def everything(self) -> bool:
        return self.firm is None and self.pollster is None and self.waves is None and self.unit is None


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
    if reach == UNIT:
        if not actor.unit:
            raise Forbidden(f"{actor.username} belongs to no unit", code="no_unit")
        return Scope(unit=actor.unit)
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
                   firm: str | None = None, display_name: str | None = None, *, policy: bool = True,
                   home_district: str | None = None, unit: str | None = None) -> Account:
    """Create an account; `policy=False` only for the demo's published password (demo-only stores).

    A unit liaison needs its `unit`: a unit of at least one wave of the store.
    """
    require(actor, "accounts.manage")
    problem = home_district_problem(home_district)
    if problem:
        raise Invalid(problem, field="home_district", code="bad_home_district")
    home_district = (home_district or "").strip() or None
    if role not in ROLES:
        raise StoreError(f"unknown role `{role}` (one of {', '.join(ROLES)})")
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise StoreError(f"username `{username}`: use letters, digits, - _ . only")
    if role in FIRM_ROLES and not firm:
        raise StoreError(f"a {role} belongs to a firm: give --firm")
    unit = (unit or "").strip() or None
    if role == "liaison":
        known = sorted({u for w in store.waves() for u in w["units"]})
        if not unit:
            raise Invalid("a unit liaison belongs to a unit (district)", field="unit", code="unit_needed")
        if unit not in known:
            raise Invalid(f"unit `{unit}` is not a unit of any wave ({', '.join(known)})", field="unit",
                          code="unknown_unit")
    elif unit:
        raise Invalid(f"only a unit liaison has a unit, not a {role}", field="unit", code="unit_not_for_role")
    if policy:
        _check_new_password(password, username)
    store.add_account(username, role, hash_password(password), actor.username, firm=firm,
                      display_name=display_name, home_district=home_district, unit=unit)
    return Account(username, role, firm, display_name, home_district=home_district, unit=unit)


def reset_password(store: Store, actor: Account, username: str, password: str) -> None:
    """Admin sets a new password; also lifts a lockout."""
    require(actor, "accounts.manage")
    _check_new_password(password, username)
    store.update_account(username, actor.username, "reset_password", password_hash=hash_password(password),
                         failed_logins=0, locked_until=None)
    user = _name_hash(username)
    store.clear_login_failures([f"acct:{user}"], prefix=f"acct:{user}@")
    store.revoke_login_sessions(dt.datetime.now().isoformat(timespec="seconds"), "password_reset",
                                username=username)


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


MAX_DISTRICT_CHARS = 40


def home_district_problem(value: str | None, lang: str = "zh") -> str | None:
    """A Chinese refusal of a home district name (blank clears it), else None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > MAX_DISTRICT_CHARS or any(not ch.isprintable() for ch in text):
        return i18n.t("cross_district.bad_home_district", lang)
    return None


def set_home_district(store: Store, actor: Account, username: str, district: str | None) -> None:
    """Record the district an account lives in (异地交叉), or clear it with None / blank; audited."""
    require(actor, "accounts.manage")
    problem = home_district_problem(district)
    if problem:
        raise Invalid(problem, field="home_district", code="bad_home_district")
    if store.account(username) is None:
        raise NotFound(f"no account `{username}`", field="username", code="account_not_found")
    store.update_account(username, actor.username, "set_home_district",
                         home_district=(district or "").strip() or None)


def list_accounts(store: Store, actor: Account) -> list[AccountRecord]:
    """Every account (no password hashes), by role and username, for the admin's accounts page."""
    if not allowed(actor, "accounts.read"):
        raise Forbidden(f"{actor.username} ({actor.role}) may not list accounts", code="forbidden_action")
    return [AccountRecord.from_row(row) for row in store.accounts()]


def firms(store: Store, actor: Account) -> list[str]:
    """The firms that have an account, sorted: the choices of an admin's firm selector."""
    return sorted({a.firm for a in list_accounts(store, actor) if a.firm})


def load_account(store: Store, username: str) -> Account | None:
    row = store.account(username)
    if row is None:
        return None
    return Account(row["username"], row["role"], row["firm"], row["display_name"],
                   tuple(store.assigned_waves(username)), row.get("home_district"), row.get("unit"))


def address_hash(store: Store, address: str | None) -> str:
    """A client address as the throttle keeps it: keyed with the store's secret, so the file alone hides it."""
    from survey.contacts import store_secret
    key = hmac.new(store_secret(store), b"survey-login-address", hashlib.sha256).digest()
    return hmac.new(key, (address or "local").encode("utf-8"), hashlib.sha256).hexdigest()[:24]


def _name_hash(username: str) -> str:
    # usernames tried may be anything (long, odd): the throttle keys them by a short hash
    return hashlib.sha256(username.encode("utf-8")).hexdigest()[:16]


def throttle_scopes(store: Store, username: str, address: str | None) -> dict[str, str]:
    """The counters one login attempt touches: address, account from that address, account, everything."""
    addr = address_hash(store, address)
    user = _name_hash(username)
    return {"address": f"addr:{addr}", "pair": f"acct:{user}@{addr}", "account": f"acct:{user}",
            "global": "global"}


LIMITS = {"pair": MAX_FAILED_LOGINS, "address": MAX_FAILURES_PER_ADDRESS, "account": MAX_FAILURES_PER_ACCOUNT,
          "global": MAX_FAILURES_GLOBAL}


def _until(window_start: str) -> str:
    return (dt.datetime.fromisoformat(window_start) + LOCKOUT).isoformat(timespec="seconds")[11:16]


def _throttled(counts: Mapping[str, Mapping[str, Any]], scopes: Mapping[str, str]) -> str | None:
    """Why this attempt is refused before its password is checked (None: it is not)."""
    def over(kind: str) -> Mapping[str, Any] | None:
        row = counts.get(scopes[kind])
        return row if row is not None and row["failures"] >= LIMITS[kind] else None
    for kind in ("pair", "account"):
        row = over(kind)
        if row:
            return f"账号已锁定，请于 {_until(row['window_start'])} 后再试或联系管理员"
    row = over("address")
    if row:
        return f"本机登录失败次数过多，请于 {_until(row['window_start'])} 后再试"
    row = over("global")
    if row and scopes["address"] in counts:  # under a wide attack, addresses that failed wait; clean ones pass
        return f"登录失败次数异常，暂停登录，请于 {_until(row['window_start'])} 后再试或联系管理员"
    return None


def login(store: Store, username: str, password: str,
          clock: Callable[[], dt.datetime] = dt.datetime.now, address: str | None = None) -> Account:
    """Check a password against the throttle and the account; count failures in the database.

    Failures are counted per client address (MAX_FAILURES_PER_ADDRESS), per account from one
    address (MAX_FAILED_LOGINS: the lockout a user sees), per account from all addresses
    (MAX_FAILURES_PER_ACCOUNT) and globally (MAX_FAILURES_GLOBAL: past it, addresses that
    have failed in the window wait it out), each in a LOCKOUT window. So nobody can lock
    `admin` out from elsewhere with five tries, and one password tried across all accounts
    runs into the address limit. Unknown users are counted and answered exactly like
    known ones. The counters live in the store, so they hold across app servers.
    """
    now = clock()
    at, since = now.isoformat(timespec="seconds"), (now - LOCKOUT).isoformat(timespec="seconds")
    scopes = throttle_scopes(store, username, address)
    refused = _throttled(store.login_failures(scopes.values(), since), scopes)
    if refused:
        raise AuthError(refused)
    row = store.account(username)
    known = row is not None and bool(row["active"])
    if known and row["locked_until"] and dt.datetime.fromisoformat(row["locked_until"]) > now:
        _verifies(_dummy_hash(), password)
        raise AuthError(f"账号已锁定，请于 {row['locked_until'][11:16]} 后再试或联系管理员")
    if known and _verifies(row["password_hash"], password):
        store.clear_login_failures([scopes["pair"]])
        store.record_login(username)
        account = load_account(store, username)
        assert account is not None
        return account
    if not known:
        _verifies(_dummy_hash(), password)  # same work as a known user: timing reveals nothing
    counts = store.count_login_failure({scopes[k]: LIMITS[k] for k in LIMITS}, at, since)
    pair = counts[scopes["pair"]]
    if known:
        store.record_failed_login(username, detail={"address": scopes["address"][5:13], "failures": pair["failures"]})
    if pair["failures"] >= MAX_FAILED_LOGINS or counts[scopes["account"]]["failures"] >= MAX_FAILURES_PER_ACCOUNT:
        raise AuthError(f"连续 {MAX_FAILED_LOGINS} 次密码错误，账号锁定 15 分钟")
    raise AuthError("用户名或密码错误")


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
