"""Back-check list (METHODS §5): a seeded random 10 % of each pollster's completes, plus every flagged one.

Selection is bottom-k by a keyed hash: each complete gets the score
sha256(seed:response_id), and each pollster's k completes with the smallest scores are
drawn, k = ceil(10 % × completes) — so every pollster with at least one complete gets
at least one back-check (a pollster with 3 interviews is checked too). The list is the
same every time for the same data, does not depend on row order, and moves little as
completes arrive (an earlier pick stays unless a new complete scores lower). The seed
is the wave setting `backcheck_seed`, else the wave id. Excluded responses stay in the
draw, so excluding a response after its back-check does not reshuffle the list.

Outcomes are recorded with who, when and a note; each attempt is a row (未接通, then
回访确认), and only a supervisor of the response's firm (or the admin) records them.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from survey.auth import Account, PermissionDenied, allowed
from survey.store import Store, StoreError
from survey.storage.waves import WaveSettings
from survey.supervision import firm_scope
from survey.waves import get_wave

SHARE = 0.10
PROBLEMS: tuple[str, ...] = ("denied", "answers_differ", "wrong_respondent")  # outcomes that put an interview in doubt
# outcome code -> catalog key supervision.outcome.<code>
OUTCOMES: tuple[str, ...] = ("confirmed", "no_contact", "denied", "answers_differ", "wrong_respondent", "refused")


@dataclass(frozen=True)
class BackcheckItem:
    response_id: str
    interviewer: str
    unit: str
    mode: str
    submitted_at: str
    random: bool                 # drawn in the pollster's 10 %
    flagged: bool                # flagged by quality control
    excluded: bool
    outcome: str | None = None   # latest recorded outcome
    outcome_by: str | None = None
    outcome_at: str | None = None
    note: str = ""


def sample_size(completes: int, share: float = SHARE) -> int:
    """Back-checks for a pollster with `completes` completes: ceil(share × n), so at least 1 when n ≥ 1."""
    if completes <= 0:
        return 0
    return min(completes, math.ceil(round(completes * share, 9)))


def backcheck_seed(wave: Mapping[str, Any]) -> str:
    return WaveSettings.parse(wave.get("settings")).backcheck.seed or wave["id"]


def backcheck_share(wave: Mapping[str, Any]) -> float:
    """The wave's back-check rate (`backcheck_rate` setting, validated by survey.wave_setup), else 10 %."""
    return float(wave.get("settings", {}).get("backcheck_rate") or SHARE)


def _score(seed: str, response_id: str) -> str:
    return hashlib.sha256(f"{seed}:{response_id}".encode("utf-8")).hexdigest()


def draw(completes: Iterable[tuple[str, str]], seed: str, share: float = SHARE) -> set[str]:
    """The random part of the list from (response_id, interviewer) pairs: bottom-k per pollster."""
    prefix = hashlib.sha256(f"{seed}:".encode("utf-8"))  # hashed once; each id continues a copy of it
    by_pollster: dict[str, list[tuple[bytes, str]]] = {}
    for rid, interviewer in completes:
        h = prefix.copy()
        h.update(rid.encode("utf-8"))
        by_pollster.setdefault(interviewer, []).append((h.digest(), rid))  # digest order = _score's hex order
    picked: set[str] = set()
    for scored in by_pollster.values():
        scored.sort()
        picked.update(rid for _, rid in scored[:sample_size(len(scored), share)])
    return picked


def backcheck_list(store: Store, actor: Account, wave: str, flagged: Iterable[str] = (), *,
                   firm: str | None = None, share: float | None = None) -> list[BackcheckItem]:
    """The wave's back-check list for the actor's firm with the latest outcome of each item.

    `flagged` are response ids flagged by quality control (survey.quality); those outside
    the actor's firm or without a pollster are ignored.
    """
    scope = firm_scope(actor, firm)
    w = get_wave(store, wave)
    rows = store.backcheck_candidates(wave, scope)
    drawn = draw(((r["response_id"], r["interviewer"]) for r in rows), backcheck_seed(w),
                 backcheck_share(w) if share is None else share)
    flags = set(flagged)
    latest = store.latest_backchecks(wave, scope)
    out = []
    for r in rows:
        rid = r["response_id"]
        if rid not in drawn and rid not in flags:
            continue
        last = latest.get(rid, {})
        out.append(BackcheckItem(rid, r["interviewer"], r["unit"], r["mode"], r["submitted_at"], rid in drawn,
                                 rid in flags, r["excluded_reason"] is not None, last.get("outcome"),
                                 last.get("actor"), last.get("at"), last.get("note") or ""))
    return sorted(out, key=lambda i: (i.interviewer, i.submitted_at, i.response_id))


def _check_scope(store: Store, actor: Account, response_id: str) -> dict[str, Any]:
    scope = firm_scope(actor)
    row = store.response(response_id)
    if row is None:
        raise StoreError(f"no response `{response_id}`")
    if scope is not None and row["firm"] != scope:
        raise PermissionDenied(f"{actor.username} may not back-check response {response_id} of another firm")
    return row


def record_backcheck(store: Store, actor: Account, response_id: str, outcome: str, note: str = "") -> bool:
    """Record a back-check outcome; returns False when it repeats the latest one (nothing stored)."""
    if outcome not in OUTCOMES:
        raise StoreError(f"outcome: `{outcome}` is not one of {', '.join(OUTCOMES)}")
    _check_scope(store, actor, response_id)
    return store.add_backcheck(response_id, outcome, note.strip(), actor.username)


@dataclass(frozen=True)
class BackcheckContact:
    case_id: str
    kind: str
    masked: str
    value: str | None  # in clear only when dialled by a supervisor of the response's firm


def backcheck_contact(store: Store, actor: Account, response_id: str, dial: bool = False) -> BackcheckContact | None:
    """The respondent's contact for a back-check call: masked, or in clear when the supervisor dials.

    Only a supervisor of the response's firm gets the number in clear, and each time it is
    shown the audit log records who, when and for which response. None when the response
    came from no case (a free interview or the web).
    """
    row = _check_scope(store, actor, response_id)
    if not row.get("case_id"):
        return None
    from survey.fieldwork import _find_case  # the case lookup lives with the cases
    case = _find_case(store, row["case_id"], row["wave"])
    value = None
    if dial:
        if not allowed(actor, "backcheck.dial", row):
            raise PermissionDenied(f"{actor.username} ({actor.role}) may not dial back-check numbers")
        from survey.contacts import ContactCipher
        value = ContactCipher.for_store(store, create=False).decrypt(case["contact_enc"])
        store.log_contact_view(case["case_id"], actor.username, {"response_id": response_id, "purpose": "backcheck"})
    return BackcheckContact(case["case_id"], case["contact_kind"], case["contact_mask"], value)


def backcheck_history(store: Store, actor: Account, response_id: str) -> list[dict[str, Any]]:
    """Every recorded back-check attempt of a response, oldest first."""
    _check_scope(store, actor, response_id)
    return store.backcheck_history(response_id)


def outcome_summary(items: Iterable[BackcheckItem]) -> dict[str, int]:
    """Items by latest outcome ('pending' when none yet), for the dashboard's counters."""
    out: dict[str, int] = {"pending": 0, **{o: 0 for o in OUTCOMES}}
    for item in items:
        out[item.outcome or "pending"] += 1
    return out


def per_pollster(items: Iterable[BackcheckItem]) -> dict[str, dict[str, int]]:
    """Per pollster: items on the list, items back-checked (reached or not), items that found a problem."""
    out: dict[str, dict[str, int]] = {}
    for item in items:
        row = out.setdefault(item.interviewer, {"listed": 0, "checked": 0, "problems": 0})
        row["listed"] += 1
        row["checked"] += item.outcome is not None
        row["problems"] += item.outcome in PROBLEMS
    return out
