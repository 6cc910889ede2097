"""Paper questionnaires keyed in by their paper ID, optionally twice (double entry).

A paper form (纸质问卷) carries a printed ID, unique within a wave. Keyer 1 types it in;
with double entry a different keyer of the same firm types it again, and the two
entries are compared field by field: equal entries store the response, differing ones
wait in a queue until a supervisor of the firm picks entry 1, entry 2 or the value read
from the paper. Either way the response is stored once, under a submit key derived
from wave and paper ID, with mode `paper`.

Double entry: the wave setting `double_entry: true` makes it compulsory for every form;
otherwise a keyer may ask for it per batch (`double_entry=True` on the first entry).
The paper ID format is the wave setting `paper_id_pattern` (a regular expression),
by default 3-24 letters, digits or hyphens (letters upper-cased).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from survey.auth import Account, PermissionDenied, allowed, require, scope
from survey.bootstrap import questionnaire_for_wave
from survey.questionnaire import Questionnaire
from survey.responses import SubmitError, Submitted, build_record, read_response, wave_open_for_entry
from survey.store import Store, StoreError
from survey.storage.waves import WaveSettings
from survey.supervision import firm_scope
from survey.waves import get_wave

MODE = "paper"
DEFAULT_PAPER_ID_PATTERN = r"[A-Z0-9][A-Z0-9-]{2,23}"
META_FIELDS = ("unit", "interviewer")  # compared like answers: both are read off the paper


class PaperError(SubmitError):
    """A keying refused; `code` names the reason for the page's catalog text."""

    def __init__(self, code: str, problem: str):
        super().__init__([problem], code=code)


@dataclass(frozen=True)
class Mismatch:
    field: str
    entry1: Any
    entry2: Any


@dataclass(frozen=True)
class Keyed:
    paper_id: str
    entry_no: int
    status: Literal["awaiting_second", "mismatch", "stored"]
    response_id: str | None   # set once the response is stored
    created: bool             # False when this entry key (or response) was stored before
    mismatches: tuple[Mismatch, ...] = ()


@dataclass(frozen=True)
class Pick:
    """A supervisor's choice for one mismatched field: entry 1, entry 2 or the value on the paper."""
    source: Literal["entry1", "entry2", "paper"]
    value: Any = None  # the value read from the paper (source "paper" only)


@dataclass(frozen=True)
class PaperForm:
    wave: str
    paper_id: str
    firm: str | None
    status: str
    double_entry: bool
    response_id: str | None
    entries: tuple[dict[str, Any], ...]
    mismatches: tuple[Mismatch, ...] = field(default_factory=tuple)


def submit_key(wave: str, paper_id: str) -> str:
    """The one submit key of a paper form: its response is stored once however often it is keyed."""
    return f"paper:{wave}:{paper_id}"


def normalise_paper_id(raw: str, wave: Mapping[str, Any]) -> str:
    """The paper ID as stored (trimmed, upper-case), refused when it does not match the wave's format."""
    paper_id = (raw or "").strip().upper()
    pattern = WaveSettings.parse(wave.get("settings")).paper.id_pattern or DEFAULT_PAPER_ID_PATTERN
    if not re.fullmatch(pattern, paper_id):
        raise PaperError("paper_id", f"paper_id: `{raw}` does not match the paper ID format {pattern}")
    return paper_id


def double_entry_required(wave: Mapping[str, Any]) -> bool:
    return WaveSettings.parse(wave.get("settings")).paper.double_entry


def _blank(value: Any) -> Any:
    return None if value in (None, "") else value


def compare_entries(first: Mapping[str, Any], second: Mapping[str, Any],
                    qn: Questionnaire | None = None) -> list[Mismatch]:
    """Fields on which two entries differ: unit, interviewer, then answers in questionnaire order."""
    a, b = first["answers"], second["answers"]
    order = [q.id for q in qn.questions] if qn else []
    keys = [k for k in order if k in a or k in b] + sorted((set(a) | set(b)) - set(order))
    out = [Mismatch(f, _blank(first.get(f)), _blank(second.get(f))) for f in META_FIELDS
           if _blank(first.get(f)) != _blank(second.get(f))]
    out += [Mismatch(k, _blank(a.get(k)), _blank(b.get(k))) for k in keys if _blank(a.get(k)) != _blank(b.get(k))]
    return out


def _check_interviewer(store: Store, interviewer: str | None, firm: str | None) -> list[str]:
    if not interviewer:
        return []
    row = store.account(interviewer)
    if row is None or row["role"] != "pollster":
        return [f"interviewer: `{interviewer}` is not a pollster account"]
    if firm is not None and row["firm"] != firm:
        return [f"interviewer: `{interviewer}` works for another firm"]
    return []


def _response(qn: Questionnaire, wave: dict[str, Any], form_firm: str | None, paper_id: str,
              unit: str, interviewer: str | None, answers: dict[str, Any], actor: Account,
              paradata: dict[str, Any]) -> dict[str, Any]:
    return build_record(qn, wave, unit=unit, mode=MODE, answers=answers, submit_key=submit_key(wave["id"], paper_id),
                        source="paper", interviewer=interviewer, firm=form_firm, created_by=actor.username,
                        paradata={"paper_id": paper_id, **paradata})


def key_paper(store: Store, actor: Account, wave: str, paper_id: str, *, unit: str, answers: dict[str, Any],
              entry_key: str, interviewer: str | None = None, double_entry: bool | None = None,
              started_at: str | None = None) -> Keyed:
    """Key one paper questionnaire: first entry, or the second one of a double-entered form.

    `interviewer` is the pollster written on the form; left blank, the response is
    credited to keyer 1. `double_entry` (first entry only) asks for a second keying when
    the wave does not require it anyway. Repeating the same `entry_key` stores nothing.
    """
    w = wave_open_for_entry(store, actor, wave)
    pid = normalise_paper_id(paper_id, w)
    seen = store.paper_entry_by_key(entry_key)
    if seen is not None:
        if (seen["wave"], seen["paper_id"]) != (wave, pid):
            raise PaperError("entry_key", f"entry key {entry_key} belongs to paper questionnaire {seen['paper_id']}")
        form = store.paper_form(wave, pid)
        assert form is not None
        return Keyed(pid, seen["entry_no"], form["status"], form["response_id"], False)
    qn = questionnaire_for_wave(store, wave)
    interviewer = (interviewer or "").strip() or None
    form = store.paper_form(wave, pid)
    firm = form["firm"] if form else actor.firm
    problems = _check_interviewer(store, interviewer, firm)
    try:  # the same checks as an interview, before anything is stored
        build_record(qn, w, unit=unit, mode=MODE, answers=answers, submit_key=submit_key(wave, pid), source="paper")
    except SubmitError as err:
        problems += err.problems
    if problems:
        raise SubmitError(problems)
    kept = {q.id: answers[q.id] for q in qn.questions if _blank(answers.get(q.id)) is not None}
    entry = {"wave": wave, "paper_id": pid, "entry_key": entry_key, "keyer": actor.username, "unit": unit,
             "interviewer": interviewer, "answers": kept, "started_at": started_at}
    if form is None:
        de = double_entry_required(w) or bool(double_entry)
        entry["entry_no"] = 1
        if de:
            store.add_paper_entry(entry, firm=firm, double_entry=True, status="awaiting_second", response=None,
                                  actor=actor.username)
            return Keyed(pid, 1, "awaiting_second", None, True)
        record = _response(qn, w, firm, pid, unit, interviewer or actor.username, kept, actor,
                           {"keyers": [actor.username], "double_entry": False})
        rid, created = store.add_paper_entry(entry, firm=firm, double_entry=False, status="stored",
                                             response=record, actor=actor.username)
        return Keyed(pid, 1, "stored", rid, created)
    if not allowed(actor, "paper.key", form):
        raise PaperError("other_firm", f"paper questionnaire {pid} belongs to another firm")
    if form["status"] != "awaiting_second":
        raise PaperError("already_keyed", f"paper questionnaire {pid} has been keyed already ({form['status']})")
    first = form["entries"][0]
    if first["keyer"] == actor.username:
        raise PaperError("same_keyer", f"paper questionnaire {pid}: the second entry needs a different keyer "
                                       f"than {first['keyer']}")
    entry["entry_no"] = 2
    mismatches = compare_entries(first, entry, qn)
    if mismatches:
        store.add_paper_entry(entry, firm=firm, double_entry=True, status="mismatch", response=None,
                              actor=actor.username)
        return Keyed(pid, 2, "mismatch", None, True, tuple(mismatches))
    record = _response(qn, w, firm, pid, unit, interviewer or first["keyer"], kept, actor,
                       {"keyers": [first["keyer"], actor.username], "double_entry": True})
    rid, created = store.add_paper_entry(entry, firm=firm, double_entry=True, status="stored", response=record,
                                         actor=actor.username)
    return Keyed(pid, 2, "stored", rid, created)


def form_status(store: Store, actor: Account, wave: str, paper_id: str) -> tuple[str, str | None]:
    """What keying a paper ID asks of the actor, with keyer 1 when there is one.

    `new` (first entry), `second` (the actor may key the second entry), `own` (the actor
    keyed entry 1 and may not key entry 2), `done` (stored or waiting for a supervisor),
    `other_firm`. Raises PaperError for an ID of the wrong format.
    """
    require(actor, "responses.enter")
    w = get_wave(store, wave)
    row = store.paper_form(wave, normalise_paper_id(paper_id, w))
    if row is None:
        return "new", None
    first = row["entries"][0]["keyer"] if row["entries"] else None
    if not allowed(actor, "paper.key", row):
        return "other_firm", None
    if row["status"] != "awaiting_second":
        return "done", first
    return ("own" if first == actor.username else "second"), first


def _form(store: Store, row: dict[str, Any], qn: Questionnaire) -> PaperForm:
    entries = tuple(row["entries"])
    mismatches = tuple(compare_entries(entries[0], entries[1], qn)) if len(entries) == 2 else ()
    return PaperForm(row["wave"], row["paper_id"], row["firm"], row["status"], bool(row["double_entry"]),
                     row["response_id"], entries, mismatches)


def mismatch_queue(store: Store, actor: Account, wave: str, firm: str | None = None) -> list[PaperForm]:
    """Double-entered forms whose entries differ, waiting for a supervisor of the firm."""
    scope = firm_scope(actor, firm)
    qn = questionnaire_for_wave(store, wave)
    return [_form(store, r, qn) for r in store.paper_forms(wave, firm=scope, status="mismatch")]


def awaiting_second_entry(store: Store, actor: Account, wave: str) -> list[PaperForm]:
    """Forms of the actor's firm that wait for a second entry the actor may make (not their own)."""
    require(actor, "responses.enter")
    try:
        firm = scope(actor, "paper.key").firm  # admin: every firm; a keyer: its own firm
    except PermissionDenied:  # a keyer of no firm has no forms waiting
        return []
    qn = questionnaire_for_wave(store, wave)
    return [_form(store, r, qn) for r in store.paper_forms(wave, firm=firm, status="awaiting_second")
            if r["entries"] and r["entries"][0]["keyer"] != actor.username]


def resolve_paper(store: Store, actor: Account, wave: str, paper_id: str, picks: Mapping[str, Pick]) -> Submitted:
    """Settle every mismatched field of a form and store its response (once; repeated calls store nothing)."""
    scope = firm_scope(actor)
    w = get_wave(store, wave)
    pid = normalise_paper_id(paper_id, w)
    row = store.paper_form(wave, pid)
    if row is None:
        raise StoreError(f"no paper questionnaire {pid} in wave {wave}")
    if scope is not None and row["firm"] != scope:
        raise PermissionDenied(f"{actor.username} may not resolve paper questionnaire {pid} of another firm")
    if row["status"] == "stored":
        return Submitted(row["response_id"], False)
    if row["status"] != "mismatch":
        raise PaperError("not_ready", f"paper questionnaire {pid} awaits its second entry")
    qn = questionnaire_for_wave(store, wave)
    form = _form(store, row, qn)
    missing = [m.field for m in form.mismatches if m.field not in picks]
    if missing:
        raise PaperError("unresolved", f"paper questionnaire {pid}: choose a value for {', '.join(missing)}")
    first, second = form.entries
    merged: dict[str, Any] = {"unit": first["unit"], "interviewer": first["interviewer"], **first["answers"]}
    chosen: dict[str, Any] = {}
    for m in form.mismatches:
        pick = picks[m.field]
        if pick.source not in ("entry1", "entry2", "paper"):
            raise PaperError("pick", f"{m.field}: choose entry1, entry2 or paper, not {pick.source}")
        value = {"entry1": m.entry1, "entry2": m.entry2, "paper": _blank(pick.value)}[pick.source]
        merged[m.field] = value
        chosen[m.field] = {"source": pick.source, "value": value, "entry1": m.entry1, "entry2": m.entry2}
    unit, interviewer = merged.pop("unit"), merged.pop("interviewer")
    answers = {k: v for k, v in merged.items() if v is not None}
    problems = _check_interviewer(store, interviewer, row["firm"])
    if problems:
        raise SubmitError(problems)
    record = _response(qn, w, row["firm"], pid, unit, interviewer or first["keyer"], answers, actor,
                       {"keyers": [first["keyer"], second["keyer"]], "double_entry": True,
                        "resolved_by": actor.username, "resolved": sorted(chosen)})
    rid, created = store.resolve_paper_form(wave, pid, record, actor.username, chosen)
    return Submitted(rid, created)


def paper_response(store: Store, actor: Account, wave: str, paper_id: str) -> dict[str, Any] | None:
    """The stored response of a paper form, read with the actor's rights (None until stored)."""
    w = store.wave(wave)
    row = store.paper_form(wave, normalise_paper_id(paper_id, w or {"settings": {}}))
    if row is None or row["response_id"] is None:
        return None
    return read_response(store, actor, row["response_id"])


def keying_status(store: Store, actor: Account, wave: str, firm: str | None = None) -> dict[str, int]:
    """How many paper forms of the firm await a second entry, differ, or are stored."""
    scope = firm_scope(actor, firm)
    counts = {"awaiting_second": 0, "mismatch": 0, "stored": 0}
    for row in store.paper_forms(wave, firm=scope):
        counts[row["status"]] += 1
    return counts
