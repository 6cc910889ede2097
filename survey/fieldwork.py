"""Fieldwork core: cases, encrypted contacts, calling and contact attempts.

The CATI / door-to-door pages and the `cases`, `rates` and `import --kind attempts`
commands call these functions; rights are checked here, not by hiding buttons:
a pollster reads and writes only the cases assigned to them, a supervisor only the
cases of their own firm, and only the assigned pollster ever sees a number in clear.

Dispositions, final codes and rates live in survey/aapor.py, quotas in survey/quotas.py.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from survey import i18n, scheduling
from survey.aapor import DISPOSITIONS, find_disposition, is_final, valid_code
from survey.auth import OWN, Account, PermissionDenied, SYSTEM, allowed, load_account, reach, require, scope
from survey.config import MODES
from survey.contacts import ContactCipher, ContactError, check_number_strata, line_type_of, normalize_phone
from survey.errors import ImportRejected, Invalid, file_problem, row_problem
from survey.importing import read_file
from survey.store import Store, StoreError, now
from survey.waves import get_wave

MAX_ATTEMPTS = scheduling.DEFAULT_MAX_ATTEMPTS  # unless the wave's schedule sets max_attempts
CASE_MODES = ("phone", "door", "paper")
ATTEMPT_COLUMNS = ("case_id", "wave", "unit", "mode", "interviewer", "attempted_at", "disposition", "response_id")


# ======================================================================================
# Cases: import, assignment, who may see what
# ======================================================================================
def _read_rows(path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """A contact list or attempts file as stripped text cells, read like every import
    (CSV in UTF-8 or GBK, or .xlsx; an unreadable file is an ImportRejected line)."""
    frame, _ = read_file(path)
    rows = [{k: str(v).strip() for k, v in r.items()} for r in frame.fillna("").to_dict("records")]
    return list(frame.columns), rows


wave_or_error = get_wave  # the earlier name


def import_cases(store: Store, actor: Account, path: str | Path, wave: str) -> int:
    """Import a wave's contact list; returns how many new cases were stored.

    CSV columns: `case_id, unit, mode` and `phone` and/or `address`; every other column is a
    stratum kept with the case. A phone case needs a phone number, a door case an address
    (the contact of the case's mode is the one kept). Every row is checked first; one bad
    row rejects the file (ImportRejected, one line per problem) and stores nothing. A case
    already stored with the same content is skipped, so a re-import stores nothing new.
    The same number under two case ids of a wave is refused (keyed-hash match).
    """
    require(actor, "cases.manage")
    w = wave_or_error(store, wave)
    fields, rows = _read_rows(path)
    missing = [c for c in ("case_id", "unit", "mode") if c not in fields]
    if "phone" not in fields and "address" not in fields:
        missing.append("phone or address")
    if missing:
        raise ImportRejected([file_problem(Path(path).name, f"column {c} missing (columns: case_id, unit, mode, phone or "
                                           "address, optional strata)", "case_column_missing", c) for c in missing])
    cipher = ContactCipher.for_store(store)
    strata_cols = [c for c in fields if c not in ("case_id", "unit", "mode", "phone", "address", "wave")]
    existing = {c["case_id"]: c for c in store.cases(wave)}
    hashes = store.case_hashes(wave)
    problems: list[str] = []
    seen: dict[str, int] = {}
    new: list[dict[str, Any]] = []
    for n, row in enumerate(rows, start=2):
        before = len(problems)
        case_id, unit, mode = row.get("case_id", ""), row.get("unit", ""), row.get("mode", "")
        if not case_id:
            problems.append(row_problem(n, "case_id", case_id, "empty", "required"))
        elif case_id in seen:
            problems.append(row_problem(n, "case_id", case_id, f"repeats row {seen[case_id]}", "duplicate_row",
                                        first=seen[case_id]))
        else:
            seen[case_id] = n
        if unit not in w["units"]:
            problems.append(row_problem(n, "unit", unit, f"not a unit of wave {wave} ({'、'.join(w['units'])})",
                                        "unknown_unit", wave=wave, units="、".join(w["units"])))
        if mode not in CASE_MODES:
            problems.append(row_problem(n, "mode", mode, f"one of {', '.join(CASE_MODES)}", "unknown_mode",
                                        modes=", ".join(CASE_MODES)))
        kind = "address" if mode == "door" or (mode == "paper" and not row.get("phone")) else "phone"
        raw = row.get(kind, "")
        digits = _digits_or_none(row.get("phone", ""))
        number_strata, strata_problems = check_number_strata(row.get("line_type", ""), row.get("prefix", ""), digits)
        for item in strata_problems:
            column, key = item.split(":")
            actual = i18n.t(f"strata.line_type.{line_type_of(digits)}") if digits else ""
            problems.append(row_problem(n, column, row.get(column, ""), i18n.t(f"strata.{key}", expected=actual)))
        sealed: dict[str, str] | None = None
        if not raw:
            problems.append(row_problem(n, kind, "", f"empty: a {mode or 'phone'} case needs a {kind}",
                                        f"case_needs_{kind}", mode=mode or "phone"))
        else:
            try:
                sealed = cipher.seal(kind, raw)
            except ContactError as err:
                # never echo a personal value back in full
                problems.append(row_problem(n, kind, _mask_raw(kind, raw), str(err), err.code))
        if len(problems) > before or sealed is None:
            continue
        old = existing.get(case_id)
        if old is not None:
            if (old["contact_hash"], old["unit"], old["mode"]) != (sealed["contact_hash"], unit, mode):
                problems.append(row_problem(n, "case_id", case_id, "already stored with another unit, mode or "
                                            "contact; a case is never changed by an import", "case_changed"))
            continue
        other = hashes.get(sealed["contact_hash"])
        if other is not None and other != case_id:
            problems.append(row_problem(n, kind, sealed["contact_mask"], f"same {kind} as case {other}",
                                        f"same_{kind}", other=other))
            continue
        hashes[sealed["contact_hash"]] = case_id
        strata = {**{c: row[c] for c in strata_cols if row.get(c)}, **number_strata}
        new.append({"wave": wave, "case_id": case_id, "unit": unit, "mode": mode, "strata": strata,
                    "firm": None, **sealed})
    if problems:
        raise ImportRejected(problems)
    return store.add_cases(new, actor.username) if new else 0


def _digits_or_none(raw: str) -> str | None:
    """A contact-list phone cell as a normalised number, None when blank or not a number."""
    try:
        return normalize_phone(raw) if raw else None
    except ContactError:
        return None


def _mask_raw(kind: str, raw: str) -> str:
    """A refused value shown in an error without echoing personal data."""
    from survey.contacts import mask_address, mask_phone
    digits = re.sub(r"\D", "", raw)
    return mask_phone(digits) if kind == "phone" else mask_address(raw)


def assign_cases(store: Store, actor: Account, wave: str, pollster: str, *, unit: str | None = None,
                 case_ids: Iterable[str] | None = None) -> int:
    """Give cases to a pollster: the listed ones, or the unassigned ones of a unit.

    Admin: any case to any pollster. Supervisor: only to a pollster of their own firm, and
    only cases unassigned or already of that firm. Returns how many cases changed hands.
    """
    scope(actor, "cases.assign")  # admin: any firm; a supervisor: its own (none: Forbidden); others: Forbidden
    wave_or_error(store, wave)
    target = load_account(store, pollster)
    if target is None or target.role != "pollster":
        raise StoreError(f"--pollster: no pollster account `{pollster}`")
    if wave not in target.waves:
        raise StoreError(f"pollster {pollster} is not assigned to wave {wave} (python -m survey user assign "
                         f"{pollster} --wave {wave})")
    if not allowed(actor, "cases.assign", {"firm": target.firm}):
        raise PermissionDenied(f"{actor.username} supervises firm {actor.firm}; {pollster} works for {target.firm}")
    if (unit is None) == (case_ids is None):
        raise StoreError("give either a unit or a list of case ids")
    if case_ids is not None:
        ids = [c.strip() for c in case_ids if c.strip()]
        cases = store.cases(wave, case_ids=ids)
        unknown = sorted(set(ids) - {c["case_id"] for c in cases})
        if unknown:
            raise StoreError(f"--cases: no case {', '.join(unknown[:20])} in wave {wave}")
    else:
        cases = [c for c in store.cases(wave, unit=unit) if c["pollster"] is None]
    foreign = [c["case_id"] for c in cases if c["firm"] is not None and not allowed(actor, "cases.assign", c)]
    if foreign:  # unassigned cases (no firm yet) may go to any firm's pollster
        raise PermissionDenied(f"cases of another firm: {', '.join(foreign[:20])}")
    home = home_district_barred(store, wave, target)
    if home is not None:
        own = [c["case_id"] for c in cases if c["unit"] == home]
        if own:
            raise Invalid(i18n.t("cross_district.refused_assign", pollster=pollster, unit=home,
                                 cases="、".join(own[:20]) + ("…" if len(own) > 20 else "")),
                          field="pollster", code="own_district")
    return store.assign_cases(wave, [c["case_id"] for c in cases], pollster, target.firm, actor.username)


def home_district_barred(store: Store, wave: str, pollster: Account | None) -> str | None:
    """The unit a pollster may not work in (异地交叉 on and a home district set), else None."""
    if pollster is None or not pollster.home_district:
        return None
    record = store.wave_record(wave)
    return pollster.home_district if record is not None and record.settings.cross_district else None


def assign_evenly(store: Store, actor: Account, wave: str, pollsters: list[str], *,
                  unit: str | None = None) -> dict[str, int]:
    """Share the unassigned cases (of one unit, or all) among pollsters in turn, in case-id order.

    With 异地交叉 on, a case goes to the next pollster in turn who does not live in its unit;
    a case of a unit every listed pollster lives in stays unassigned.
    One transaction: a refused pollster leaves every case as it was. Returns cases per pollster.
    """
    if not pollsters:
        raise StoreError("give at least one pollster")
    if len(set(pollsters)) != len(pollsters):
        raise StoreError("a pollster is listed twice")
    wave_or_error(store, wave)
    free = sorted((c["case_id"], c["unit"]) for c in store.cases(wave, unit=unit) if c["pollster"] is None)
    barred = {p: home_district_barred(store, wave, load_account(store, p)) for p in pollsters}
    shares: dict[str, list[str]] = {p: [] for p in pollsters}
    turn = 0
    for case_id, case_unit in free:
        for step in range(len(pollsters)):
            who = pollsters[(turn + step) % len(pollsters)]
            if barred[who] != case_unit:
                shares[who].append(case_id)
                turn = (turn + step + 1) % len(pollsters)
                break
    with store.tx():
        return {p: assign_cases(store, actor, wave, p, case_ids=ids) if ids else 0 for p, ids in shares.items()}


def _find_case(store: Store, case_id: str, wave: str | None) -> dict[str, Any]:
    waves = [wave] if wave is not None else store.case_waves(case_id)
    if len(waves) > 1:
        raise StoreError(f"case {case_id} exists in waves {', '.join(waves)}: give the wave")
    found = store.cases(waves[0], case_ids=[case_id]) if waves else []
    if not found:
        raise StoreError(f"no case `{case_id}`" + (f" in wave {wave}" if wave else ""))
    return found[0]


def _check_case_access(actor: Account, case: dict[str, Any]) -> None:
    """Pollster: own cases; supervisor: own firm's; admin and analyst: all (masked). See auth.ACTIONS."""
    if allowed(actor, "cases.read", case):
        return
    raise PermissionDenied(f"{actor.username} may not open case {case['case_id']}")


def _public_case(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k not in ("contact_enc", "contact_hash")}


def count_cases(store: Store, wave: str) -> int:
    return len(store.cases(wave))


def assigned_cases(store: Store, actor: Account, wave: str, mode: str | None = None) -> list[dict[str, Any]]:
    """The cases assigned to the actor itself (its calling list), contact sealed; of one mode if given."""
    require(actor, "fieldwork.enter")
    return [_public_case(c) for c in store.cases(wave, pollster=actor.username) if mode is None or c["mode"] == mode]


def read_case(store: Store, actor: Account, case_id: str, wave: str | None = None) -> dict[str, Any]:
    """A case with its masked contact and its attempts so far (rights checked)."""
    case = _find_case(store, case_id, wave)
    _check_case_access(actor, case)
    out = _public_case(case)
    out["attempts"] = store.attempts(case["wave"], case_ids=[case_id])
    return out


def case_contact(store: Store, actor: Account, case_id: str, wave: str | None = None) -> dict[str, Any]:
    """The contact to dial or visit: in clear only for the pollster the case is assigned to.

    Returns {case_id, kind, value, masked}; a supervisor of the case's firm or an admin gets
    the mask; anyone else is refused (PermissionDenied).
    """
    case = _find_case(store, case_id, wave)
    _check_case_access(actor, case)
    out = {"case_id": case_id, "kind": case["contact_kind"], "value": case["contact_mask"], "masked": True}
    if allowed(actor, "cases.contact_clear", case):
        out.update(value=ContactCipher.for_store(store, create=False).decrypt(case["contact_enc"]), masked=False)
    return out


def contacts_for_wave(store: Store, actor: Account, wave: str) -> list[dict[str, Any]]:
    """Every case of a wave with its contact in clear, for `export --with-contacts` (admin only, audited)."""
    require(actor, "export.contacts")
    wave_or_error(store, wave)
    cipher = ContactCipher.for_store(store, create=False)
    # the response a case produced: the export joins contacts to responses by it
    answered = {case_id: rid for case_id, rid in store.attempt_rows(wave, ("case_id", "response_id")) if rid}
    out = []
    for case in store.cases(wave):
        value = cipher.decrypt(case["contact_enc"])
        out.append({"case_id": case["case_id"], "response_id": answered.get(case["case_id"]),
                    "wave": wave, "unit": case["unit"], "mode": case["mode"],
                    "phone": value if case["contact_kind"] == "phone" else "",
                    "address": value if case["contact_kind"] == "address" else "",
                    "pollster": case["pollster"], "firm": case["firm"], **case["strata"]})
    store.log_contact_export(wave, actor.username, len(out))
    return out


# ======================================================================================
# Calling: the next case, recording attempts
# ======================================================================================
def _moment(value: str | dt.datetime | None) -> str:
    if value is None:
        return now()
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return dt.datetime.fromisoformat(str(value)).isoformat(timespec="seconds")


def _case_state(attempts: list[dict[str, Any]]) -> dict[str, Any]:
    """Attempts so far, whether the case is closed, and a pending callback time."""
    last = attempts[-1] if attempts else None
    return {"n": len(attempts), "final": any(is_final(a["disposition"]) for a in attempts),
            "callback_at": last["callback_at"] if last else None,
            "last_at": last["attempted_at"] if last else None}


def _parse(value: str | dt.datetime) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return moment.replace(tzinfo=None) if moment.tzinfo is not None else moment


def _history(rows: list[dict[str, Any]]) -> list[scheduling.Attempt]:
    """Stored attempts (in the order made) as scheduling records."""
    return [scheduling.Attempt(_parse(a["attempted_at"]), str(a["disposition"]),
                               _parse(a["callback_at"]) if a.get("callback_at") else None) for a in rows]


def call_rules(store: Store, wave: str) -> scheduling.CallRules:
    """The wave's scheduling rules (survey.scheduling; the defaults when it sets none)."""
    return scheduling.rules_from_settings(wave_or_error(store, wave)["settings"])


def _now(at: str | dt.datetime | None, clock: scheduling.Clock | None) -> dt.datetime:
    if at is not None:
        return _parse(_moment(at))
    return (clock or dt.datetime.now)().replace(microsecond=0)


def calling_closed_message(store: Store, wave: str, *, at: str | dt.datetime | None = None,
                           clock: scheduling.Clock | None = None, lang: str = i18n.DEFAULT_LANG) -> str | None:
    """What the calling screen says when the wave's call window is shut now (None when open)."""
    return scheduling.closed_message(call_rules(store, wave), _now(at, clock), lang)


def next_case(store: Store, actor: Account, wave: str, *, at: str | dt.datetime | None = None,
              mode: str | None = None, pool: bool = False,
              clock: scheduling.Clock | None = None) -> dict[str, Any] | None:
    """The pollster's next case under the wave's scheduling rules (survey.scheduling), or None.

    Outside the day's call window nothing is offered. Otherwise: due appointments first
    (earliest), then busy lines whose redial wait is over, then cases never tried, then
    open cases to retry (fewest tries, longest ago first; with named slots only in a slot the
    case has been tried in least). An appointment not yet due holds its case back; a case
    tried `max_attempts` times is exhausted. With 异地交叉 on, cases of the pollster's home
    district are never offered. The moment is `at`, else `clock()`, else the wall clock.

    Returns the case (contact masked) with `reason` (callback / busy / new / retry), `tries`,
    `callback_at`. `mode` keeps to the cases of one mode (the phone screen calls phone cases only).
    With `pool`, a pollster with nothing left of their own claims the next unassigned case
    of the wave (a call centre's shared queue): the store hands each case to one pollster.
    """
    require(actor, "fieldwork.enter")
    moment = _now(at, clock)
    rules = call_rules(store, wave)
    if not rules.callable_at(moment):
        return None
    barred = home_district_barred(store, wave, actor)
    ids, rows = store.call_queue(wave, actor.username, mode=mode, not_unit=barred)
    by_case: dict[str, list[scheduling.Attempt]] = {case_id: [] for case_id in ids}
    for case_id, attempted_at, code, callback_at in rows:
        by_case[case_id].append(scheduling.Attempt(_parse(attempted_at), str(code),
                                                   _parse(callback_at) if callback_at else None))
    chosen = scheduling.choose(rules, by_case.items(), moment)
    if chosen is not None:
        [case] = store.cases(wave, case_ids=[chosen.case_id])
        return {**_public_case(case), "tries": chosen.tries, "reason": chosen.reason,
                "callback_at": chosen.callback_at.isoformat(timespec="seconds") if chosen.callback_at else None}
    if pool:
        claimed = store.claim_case(wave, actor.username, actor.firm, actor.username, mode=mode, not_unit=barred)
        if claimed is not None:
            [case] = store.cases(wave, case_ids=[claimed])
            return {**_public_case(case), "tries": 0, "callback_at": None, "reason": "new"}
    return None


def record_attempt(store: Store, actor: Account, case_id: str, disposition: str, *, wave: str | None = None,
                   callback_at: str | dt.datetime | None = None, response_id: str | None = None, note: str = "",
                   attempt_key: str | None = None, at: str | dt.datetime | None = None) -> bool:
    """Record one contact attempt of the actor's own case; True if stored, False if the key was seen.

    `disposition` is a Chinese label of DISPOSITIONS (or its code). 约定回访 needs
    `callback_at`; 完成 needs the `response_id` of the stored interview. Pass the same
    `attempt_key` when resending (double click, reconnect): it stores once. A closed
    case (final code reached) takes no more attempts.
    """
    require(actor, "fieldwork.enter")
    if attempt_key is not None and store.attempt_by_key(attempt_key) is not None:
        return False
    case = _find_case(store, case_id, wave)
    if not allowed(actor, "attempts.add", case):
        raise PermissionDenied(f"case {case_id} is not assigned to {actor.username}"
                               if reach(actor, "attempts.add") == OWN else f"case {case_id} is not of firm {actor.firm}")
    d = find_disposition(disposition)
    if case["mode"] not in d.modes:
        raise StoreError(f"disposition: {d.label} is not an outcome of a {case['mode']} case")
    when = _moment(at)
    rules = call_rules(store, case["wave"])
    cb = None
    if d.callback:
        if callback_at is None:
            raise StoreError("callback_at: 约定回访 needs the agreed time")
        try:
            cb = _moment(callback_at)
        except ValueError:
            raise StoreError(f"callback_at: not a date and time: {callback_at}") from None
        if cb < when:
            raise StoreError(f"callback_at: 约定回访时间 {cb} 早于本次拨打时间 {when}")
        outside = scheduling.appointment_problem(rules, _parse(cb))
        if outside:
            raise Invalid(outside, field="callback_at", code="appointment_outside_window")
    if d.code == "1.1":
        if not response_id:
            raise StoreError("response_id: 完成 needs the stored interview")
        resp = store.response(response_id)
        if resp is None or resp["wave"] != case["wave"]:
            raise StoreError(f"response_id: no response `{response_id}` in wave {case['wave']}")
        if not allowed(actor, "attempts.link_response", resp):
            raise PermissionDenied(f"response {response_id} is not {actor.username}'s")
    attempts = store.attempts(case["wave"], case_ids=[case_id])
    if _case_state(attempts)["final"]:
        raise StoreError(f"case {case_id} is closed (final code reached)")
    if d.code != "1.1" and scheduling.exhausted(rules, _history(attempts)):
        # the interview of a case already on screen still counts; another call does not
        raise Invalid(i18n.t("schedule.exhausted", case_id=case_id, n=len(attempts), max=rules.max_attempts),
                      field="case_id", code="attempts_exhausted")
    return store.add_attempts([{
        "attempt_key": attempt_key or f"entry:{uuid.uuid4().hex}", "wave": case["wave"], "case_id": case_id,
        "unit": case["unit"], "mode": case["mode"], "interviewer": actor.username, "firm": actor.firm,
        "attempted_at": when, "disposition": d.code, "label": d.label, "callback_at": cb,
        "response_id": response_id, "note": note.strip(), "source": "entry"}], actor.username) == 1


def attempts_frame(store: Store, actor: Account, wave: str, firm: str | None = None) -> pd.DataFrame:
    """The wave's attempts visible to `actor`, in the DESIGN attempts format.

    Pollster: own attempts; supervisor: own firm's; admin: all or one `firm`'s; analyst: all.
    """
    reach = scope(actor, "attempts.read", firm)
    where: dict[str, str | None] = {}
    if reach.pollster is not None:
        where["interviewer"] = reach.pollster
    else:
        where["firm"] = reach.firm
    rows = store.attempt_rows(wave, ATTEMPT_COLUMNS, **where)
    return pd.DataFrame.from_records(rows, columns=list(ATTEMPT_COLUMNS))


@dataclass(frozen=True)
class _AttemptContext:
    """What an attempts file is checked against: the wave's cases, accounts and responses."""
    cases: dict[str, str]       # case id -> mode, of the wave's stored contact list (may be empty)
    pollsters: set[str]
    responses: set[str]         # response ids of the file that are stored in the wave
    latest: dt.datetime         # attempts after this are a typo (the year 9999)


EARLIEST_ATTEMPT = dt.datetime(2000, 1, 1)


def _store_problems(n: int, row: dict[str, str], when: str, known: _AttemptContext) -> list[str]:
    """An attempt row checked against the store (issue 16: the import had checked nothing)."""
    out = []
    case_id = row["case_id"]
    if known.cases and case_id not in known.cases:
        out.append(row_problem(n, "case_id", case_id, "not a case of this wave's contact list", "unknown_case"))
    elif known.cases and known.cases[case_id] != row["mode"]:
        out.append(row_problem(n, "mode", row["mode"], f"case {case_id} is a {known.cases[case_id]} case",
                               "case_mode", case_id=case_id, mode=known.cases[case_id]))
    if row["interviewer"] and row["interviewer"] not in known.pollsters:
        out.append(row_problem(n, "interviewer", row["interviewer"], "no such account", "unknown_account"))
    if row["disposition"] == "1.1" and row["response_id"] not in known.responses:
        out.append(row_problem(n, "response_id", row["response_id"], "a complete (1.1) needs the response "
                               "stored in this wave; import the responses first", "complete_needs_response"))
    at = dt.datetime.fromisoformat(when)
    if at.tzinfo is not None:
        at = at.replace(tzinfo=None)
    if not EARLIEST_ATTEMPT <= at <= known.latest:
        out.append(row_problem(n, "attempted_at", row["attempted_at"], "not a plausible date (2000 until tomorrow)",
                               "implausible_date"))
    return out


def import_attempts(store: Store, path: str | Path, wave: str, actor: str) -> int:
    """Import a DESIGN attempts file for a wave; returns the number of new attempt rows.

    Columns `case_id, wave, unit, mode, interviewer, attempted_at, disposition, response_id`.
    Every row is checked (wave matches, unit of the wave, known mode, ISO time, AAPOR code,
    one unit per case); any problem rejects the whole file (ImportRejected, one line per
    problem, nothing stored). Each row's key is a hash of its content, so a re-import of the
    same file stores nothing new. `actor`: the username (or "system") doing the import.
    """
    account = SYSTEM if actor == "system" else load_account(store, actor)
    if account is None:
        raise PermissionDenied(f"no account `{actor}`")
    require(account, "responses.import")
    w = wave_or_error(store, wave)
    fields, rows = _read_rows(path)
    missing = [c for c in ATTEMPT_COLUMNS if c not in fields]
    if missing:
        raise ImportRejected([file_problem(Path(path).name, f"column {c} missing (attempts file: "
                                           f"{', '.join(ATTEMPT_COLUMNS)})", "attempt_column_missing", c,
                                           columns=", ".join(ATTEMPT_COLUMNS)) for c in missing])
    firms = {a["username"]: a["firm"] for a in store.accounts()}
    known = _AttemptContext(
        cases={c["case_id"]: c["mode"] for c in store.cases(wave)}, pollsters=set(firms),
        responses={r["response_id"] for r in store.responses_by_ids(r["response_id"] for r in rows
                                                                     if r["response_id"]).values()
                   if r["wave"] == wave},
        latest=dt.datetime.now() + dt.timedelta(days=1))
    problems: list[str] = []
    unit_of: dict[str, tuple[str, int]] = {}
    mode_of: dict[str, tuple[str, int]] = {}
    out: list[dict[str, Any]] = []
    for n, row in enumerate(rows, start=2):
        before = len(problems)
        case_id = row["case_id"]
        if not case_id:
            problems.append(row_problem(n, "case_id", "", "empty", "required"))
        if row["wave"] != wave:
            problems.append(row_problem(n, "wave", row["wave"], f"does not match --wave {wave}", "other_wave",
                                        wave=wave))
        if row["unit"] not in w["units"]:
            problems.append(row_problem(n, "unit", row["unit"], f"not a unit of wave {wave}", "unknown_unit",
                                        wave=wave, units="、".join(w["units"])))
        elif case_id:
            first = unit_of.setdefault(case_id, (row["unit"], n))
            if first[0] != row["unit"]:
                problems.append(row_problem(n, "unit", row["unit"], f"case {case_id} has unit {first[0]} in "
                                            f"row {first[1]}", "case_unit_differs", case_id=case_id, unit=first[0],
                                            first=first[1]))
        if row["mode"] not in MODES:
            problems.append(row_problem(n, "mode", row["mode"], f"one of {', '.join(MODES)}", "unknown_mode",
                                        modes=", ".join(MODES)))
        try:
            when = dt.datetime.fromisoformat(row["attempted_at"]).isoformat(timespec="seconds")
        except ValueError:
            when = ""
            problems.append(row_problem(n, "attempted_at", row["attempted_at"],
                                        "not an ISO date and time (2025-06-01 14:30)", "not_datetime"))
        if not valid_code(row["disposition"]):
            problems.append(row_problem(n, "disposition", row["disposition"], "not an AAPOR code (1.1, 1.2, 2.1x, "
                                        "2.2x, 2.3x, 3.1x, 3.2x, 4.x)", "not_aapor"))
        if len(problems) > before:
            continue
        problems += _store_problems(n, row, when, known)
        first_mode = mode_of.setdefault(case_id, (row["mode"], n))
        if first_mode[0] != row["mode"]:
            problems.append(row_problem(n, "mode", row["mode"], f"case {case_id} has mode {first_mode[0]} in "
                                        f"row {first_mode[1]} (one case, one mode)", "case_mode_differs",
                                        case_id=case_id, mode=first_mode[0], first=first_mode[1]))
        if len(problems) > before:
            continue
        content = "\x1f".join([wave, case_id, when, row["disposition"], row["interviewer"], row["response_id"]])
        out.append({"attempt_key": "import:" + hashlib.sha256(content.encode("utf-8")).hexdigest(),
                    "wave": wave, "case_id": case_id, "unit": row["unit"], "mode": row["mode"],
                    "interviewer": row["interviewer"] or None, "firm": firms.get(row["interviewer"]),
                    "attempted_at": when, "disposition": row["disposition"], "label": None, "callback_at": None,
                    "response_id": row["response_id"] or None, "note": "", "source": "import"})
    if problems:
        raise ImportRejected(problems)
    return store.add_attempts(out, account.username) if out else 0
