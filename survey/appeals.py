"""Districts' view of a publication and their appeals (申诉).

Scores feed the districts' assessment, so districts contest them; a recorded way to object
makes a score hold up. The steps, each an audit row:

1. an analyst (or the admin) publishes a score run (`survey.publishing`) and sets the
   publication's appeal deadline (`set_deadline`);
2. a unit liaison (区联络员, role `liaison`, one unit) sees its own unit's row of the
   publication, the method sheet and the evidence summary — counts only, no personal data
   (`unit_view`) — and, until the deadline, files objections (`file_objection`): about
   specific responses of its unit by id (e.g. 受访者不是本区常住居民) or about a point of method;
3. the analyst or admin decides each objection with a reason (`decide`). An upheld
   objection about responses excludes them with that reason (the exclusion mechanism of
   `survey.responses.set_excluded`) and produces a new publication, computed with the
   config and population of the one appealed, whose record (`record["appeal"]`) lists the
   appeals it settles (this one and those rejected since the last appeal publication) and
   the difference in points per unit. A rejected objection, or an upheld one about method,
   changes no score by itself (a change of method is a new scoring config, published anew).

The deadline is kept beside the publication (published scores are immutable). Rights are
`survey.auth.ACTIONS` `published.read`, `objections.*`, `appeals.set_deadline`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.score_run import METHOD_TEXT
from analysis.scoring import ScoringConfig
from common.errors import Forbidden, Invalid, NotFound
from survey import publishing
from survey.auth import Account, allowed, scope
from survey.i18n import t, when
from survey.importing import id_problem
from survey.questionnaire import clean_text
from survey.responses import set_excluded
from survey.store import Store

KINDS = ("responses", "method")
MAX_REASON = 1000
MIN_REASON = 4
MAX_RESPONSES = 200


@dataclass(frozen=True)
class Publication:
    """A publication as the appeals pages list it (no other unit's figures for a liaison)."""
    id: int
    wave: str
    published_at: str
    published_by: str
    config_name: str
    deadline: str | None
    appeal_of: int | None          # the publication this one revised after an appeal
    settled: tuple[int, ...]       # objections this publication settled


@dataclass(frozen=True)
class UnitView:
    """What a liaison sees of one publication: its unit's row, the method sheet, the evidence counts."""
    publication: Publication
    unit: str
    result: dict[str, Any]
    method: list[tuple[str, str]]
    evidence: dict[str, int]
    window_open: bool
    difference: dict[str, Any] | None = None  # on a revised publication: this unit's change in points
    method_text: str = METHOD_TEXT            # the report's method sheet, as published


@dataclass(frozen=True)
class Decision:
    objection_id: int
    status: str
    new_publication_id: int | None
    differences: list[dict[str, Any]] = field(default_factory=list)
    excluded: int = 0


def _publication(row: dict[str, Any], deadline: str | None) -> Publication:
    appeal = row["record"].get("appeal") or {}
    return Publication(int(row["id"]), row["wave"], row["published_at"], row["published_by"], row["config_name"],
                       deadline, appeal.get("base"), tuple(s["objection"] for s in appeal.get("settled", [])))


def _get(store: Store, publication_id: int) -> dict[str, Any]:
    row = store.publication(int(publication_id))
    if row is None:
        raise NotFound(t("appeals.err.no_publication", id=publication_id), field="publication",
                       code="publication_not_found")
    return row


def _units(store: Store, row: dict[str, Any]) -> list[str]:
    wave = store.wave(row["wave"]) if row["wave"] else None
    return list(wave["units"]) if wave else [r["unit"] for r in row["result"]]


def _reach(actor: Account, action: str) -> str | None:
    """The one unit an action is limited to for this actor (a liaison's), None for every unit; Forbidden if none."""
    try:
        return scope(actor, action).unit
    except Forbidden:
        raise Forbidden(t("appeals.err.forbidden"), code="forbidden_action") from None


def _may_read(actor: Account, store: Store, row: dict[str, Any], unit: str | None = None) -> str | None:
    """The unit whose view the actor may read (None: every unit), or Forbidden."""
    own = _reach(actor, "published.read")
    unit = unit or own
    if unit is not None and (unit not in _units(store, row) or not allowed(actor, "published.read", {"unit": unit})):
        raise Forbidden(t("appeals.err.other_unit"), field="unit", code="other_unit")
    return unit


def publications(store: Store, actor: Account, wave: str | None = None) -> list[Publication]:
    """The publications the actor may read (a liaison: those of waves holding its unit), newest first."""
    own = _reach(actor, "published.read")
    return [_publication(row, store.appeal_deadline(int(row["id"]))) for row in store.published_scores(wave)
            if own is None or own in _units(store, row)]


def window_open(deadline: str | None, now: dt.datetime) -> bool:
    return deadline is not None and now.isoformat(timespec="seconds") <= deadline


def _variable_label(store: Store, wave: str | None, variable: str) -> str:
    """A weighting variable as the questionnaire names it (性别, 年龄), else its id."""
    from survey.bootstrap import questionnaire_for_wave
    try:
        qn = questionnaire_for_wave(store, wave) if wave else None
        return qn.label(qn.question(variable)) if qn else variable
    except KeyError:
        return variable


def _method_sheet(store: Store, row: dict[str, Any], unit: str | None) -> list[tuple[str, str]]:
    """The method sheet: the report's method text and the facts of the record (nothing of other units)."""
    rec = row["record"]
    config = rec.get("config") or {}
    weighting = [_variable_label(store, row["wave"], v) for v in (config.get("weighting") or {}).get("variables") or []]
    excluded_ids = [e["response_id"] for e in rec.get("exclusions", [])]
    if unit is not None and excluded_ids:
        units = {rid: r["unit"] for rid, r in store.responses_by_ids(excluded_ids).items()}
        excluded_ids = [rid for rid in excluded_ids if units.get(rid) == unit]
    modes = rec.get("modes")
    modes = (t("appeals.method.all_modes") if not modes or modes == "all" else
             "、".join(t(f"mode.{m}") for m in ([modes] if isinstance(modes, str) else modes)))
    design = rec.get("design") or {}
    psu = design.get("psu", "respondent")
    facts = [
        (t("appeals.method.published"), f"#{row['id']} · {when(row['published_at'])} · {row['published_by']}"),
        (t("appeals.method.config"), f"{rec.get('config_name')} · {str(rec.get('config_hash'))[:12]}"),
        (t("appeals.method.scoring"), t(f"appeals.method.kind_{config.get('method', 'proportional')}")
         + " · " + t("appeals.method.full_points", points=f"{config.get('full_points', '')}")),
        (t("appeals.method.weighting"), "、".join(map(str, weighting))),
        (t("appeals.method.modes"), modes),
        (t("appeals.method.design"), t("appeals.method.design_value",
                                       psu=t("appeals.method.psu_respondent") if psu == "respondent" else psu)),
        (t("appeals.method.threshold"), "" if rec.get("threshold") is None else f"{rec['threshold']:.0%}"),
        (t("appeals.method.exclusions"), str(len(excluded_ids))),
        (t("appeals.method.result_hash"), str(rec.get("result_hash", ""))[:16]),
        (t("appeals.method.code_version"), str(rec.get("code_version", ""))),
    ]
    return facts


def unit_view(store: Store, actor: Account, publication_id: int, unit: str | None = None,
              clock: Callable[[], dt.datetime] = dt.datetime.now) -> UnitView:
    """One unit's view of a publication (a liaison: its own unit only; analyst/admin: any `unit`)."""
    row = _get(store, publication_id)
    unit = _may_read(actor, store, row, unit)
    if unit is None:
        raise Invalid(t("appeals.err.unit_needed"), field="unit", code="unit_needed")
    result = next((r for r in row["result"] if r["unit"] == unit), {"unit": unit})
    appeal = row["record"].get("appeal") or {}
    diff = next((d for d in appeal.get("differences", []) if d["unit"] == unit), None)
    deadline = store.appeal_deadline(int(row["id"]))
    return UnitView(_publication(row, deadline), unit, result, _method_sheet(store, row, unit),
                    store.unit_evidence_counts(row["wave"], unit), window_open(deadline, clock()), diff)


def parse_deadline(text: str) -> str:
    """`2025-11-30` (the end of that day) or `2025-11-30 17:00` as ISO seconds; Invalid otherwise."""
    raw = (text or "").strip()
    try:
        if len(raw) == 10:
            value = dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(23, 59, 59))
        else:
            value = dt.datetime.fromisoformat(raw.replace("/", "-"))
    except ValueError:
        raise Invalid(t("appeals.err.bad_deadline", value=raw[:40]), field="deadline", code="bad_deadline") from None
    return value.replace(tzinfo=None).isoformat(timespec="seconds")


def set_deadline(store: Store, actor: Account, publication_id: int, deadline: str) -> str:
    """Set the end of a publication's appeal window (after its publication); returns it as stored."""
    if not allowed(actor, "appeals.set_deadline"):
        raise Forbidden(t("appeals.err.forbidden"), code="forbidden_action")
    row = _get(store, publication_id)
    value = parse_deadline(deadline)
    if value <= row["published_at"]:
        raise Invalid(t("appeals.err.deadline_before", value=value, published=row["published_at"]),
                      field="deadline", code="deadline_before_publication")
    store.set_appeal_deadline(int(row["id"]), value, actor.username)
    return value


def _ids(response_ids: list[str] | str) -> list[str]:
    if isinstance(response_ids, str):
        response_ids = response_ids.replace("，", ",").replace("、", ",").replace("\n", ",").replace(" ", ",").split(",")
    return list(dict.fromkeys(r.strip() for r in response_ids if r and r.strip()))


def file_objection(store: Store, actor: Account, publication_id: int, kind: str, reason: str,
                   response_ids: list[str] | str = (), clock: Callable[[], dt.datetime] = dt.datetime.now) -> int:
    """A liaison's objection to a publication, within its deadline; returns the objection's id.

    `kind` `responses` names responses of the liaison's own unit in the publication's wave
    (ids as on the method sheet or the firm's list); `method` a point of method (no ids).
    Every problem is reported at once, and nothing is stored when there is one.
    """
    row = _get(store, publication_id)
    unit = actor.unit
    if not allowed(actor, "objections.file", {"unit": unit}) or unit not in _units(store, row):
        raise Forbidden(t("appeals.err.not_liaison"), code="forbidden_action")
    deadline = store.appeal_deadline(int(row["id"]))
    if deadline is None:
        raise Invalid(t("appeals.err.no_window"), field="deadline", code="no_window")
    if not window_open(deadline, clock()):
        raise Invalid(t("appeals.err.closed", deadline=deadline.replace("T", " ")), field="deadline",
                      code="window_closed")
    problems: list[Invalid] = []
    if kind not in KINDS:
        problems.append(Invalid(t("appeals.err.kind", kind=kind), field="kind", code="bad_kind"))
    text = clean_text(reason or "").strip()
    if len(text) < MIN_REASON:
        problems.append(Invalid(t("appeals.err.reason_short", n=MIN_REASON), field="reason", code="reason_short"))
    elif len(text) > MAX_REASON:
        problems.append(Invalid(t("appeals.err.reason_long", n=MAX_REASON, length=len(text)), field="reason",
                                code="reason_long"))
    ids = _ids(response_ids)
    if kind == "responses":
        if not ids:
            problems.append(Invalid(t("appeals.err.no_ids"), field="response_ids", code="no_ids"))
        elif len(ids) > MAX_RESPONSES:
            problems.append(Invalid(t("appeals.err.too_many", n=MAX_RESPONSES), field="response_ids", code="too_many"))
        else:
            stored = store.responses_by_ids(ids)
            for rid in ids:
                found = stored.get(rid)
                if id_problem(rid) or len(rid) > 64 or found is None or found["wave"] != row["wave"] \
                        or found["unit"] != unit:  # another unit's response is not told apart from none
                    problems.append(Invalid(t("appeals.err.not_own", id=rid[:64], unit=unit, wave=row["wave"]),
                                            field="response_ids", code="not_own_response"))
    elif kind == "method" and ids:
        problems.append(Invalid(t("appeals.err.method_ids"), field="response_ids", code="method_ids"))
    if problems:
        raise Invalid([p.problems[0] for p in problems])
    return store.add_objection(int(row["id"]), row["wave"], unit, kind, ids if kind == "responses" else [], text,
                               actor.username)


def objections(store: Store, actor: Account, publication_id: int | None = None,
               wave: str | None = None) -> list[dict[str, Any]]:
    """Objections the actor may read: a liaison its own unit's, analyst and admin all."""
    return store.objections(publication_id=publication_id, wave=wave, unit=_reach(actor, "objections.read"))


def _chain(store: Store, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The publication appealed and the ones revised from it after appeals, oldest first."""
    root = (row["record"].get("appeal") or {}).get("root", int(row["id"]))
    return sorted([p for p in store.published_scores(row["wave"])
                   if int(p["id"]) == root or (p["record"].get("appeal") or {}).get("root") == root],
                  key=lambda p: int(p["id"]))


def points_differences(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per unit: points and rate before and after, and the change in points (None where either is missing)."""
    old = {r["unit"]: r for r in before}
    new = {r["unit"]: r for r in after}
    out = []
    for unit in [*old, *(u for u in new if u not in old)]:
        a, b = old.get(unit, {}), new.get(unit, {})
        pa, pb = a.get("points"), b.get("points")
        out.append({"unit": unit, "points_before": pa, "points_after": pb,
                    "difference": None if pa is None or pb is None else round(pb - pa, 6),
                    "rate_before": a.get("rate"), "rate_after": b.get("rate"),
                    "n_valid_before": a.get("n_valid"), "n_valid_after": b.get("n_valid")})
    return out


def _settled_entry(o: dict[str, Any], status: str | None = None, reason: str | None = None) -> dict[str, Any]:
    return {"objection": int(o["id"]), "unit": o["unit"], "kind": o["kind"], "responses": o["response_ids"],
            "reason": o["reason"], "status": status or o["status"],
            "decision_reason": reason if reason is not None else o["decision_reason"]}


def decide(store: Store, actor: Account, objection_id: int, upheld: bool, reason: str) -> Decision:
    """Decide an objection with a reason; an upheld one about responses excludes them and republishes.

    One transaction: the exclusions, the new publication and the decision are stored
    together or not at all.
    """
    if not allowed(actor, "objections.decide"):
        raise Forbidden(t("appeals.err.forbidden"), code="forbidden_action")
    text = clean_text(reason or "").strip()
    if len(text) < MIN_REASON:
        raise Invalid(t("appeals.err.reason_short", n=MIN_REASON), field="reason", code="reason_short")
    if len(text) > MAX_REASON:
        raise Invalid(t("appeals.err.reason_long", n=MAX_REASON, length=len(text)), field="reason",
                      code="reason_long")
    with store.tx():
        o = store.objection(int(objection_id))
        if o is None:
            raise NotFound(t("appeals.err.no_objection", id=objection_id), field="objection",
                           code="objection_not_found")
        if o["status"] != "open":
            raise Invalid(t("appeals.err.decided", id=objection_id, status=t(f"appeals.status.{o['status']}")),
                          field="objection", code="decided")
        if not (upheld and o["kind"] == "responses"):
            store.decide_objection(int(o["id"]), upheld, text, actor.username)
            return Decision(int(o["id"]), "upheld" if upheld else "rejected", None)
        label = t("appeals.exclusion_reason", id=o["id"], reason=text)
        excluded = sum(set_excluded(store, actor, rid, True, label) for rid in o["response_ids"])
        chain = _chain(store, _get(store, o["publication_id"]))
        base = chain[-1]  # the latest revision: its scores are the ones in force
        rec = base["record"]
        run = publishing.compute_for_wave(store, actor, base["wave"], pd.DataFrame(rec["population"]),
                                          ScoringConfig.model_validate(rec["config"]),
                                          exclude_flagged=rec.get("exclude_flagged", False))
        differences = points_differences(base["result"], run.to_json())
        listed = {s["objection"] for p in chain for s in (p["record"].get("appeal") or {}).get("settled", [])}
        chain_ids = {int(p["id"]) for p in chain}
        settled = [_settled_entry(x) for x in store.objections(wave=base["wave"])
                   if x["publication_id"] in chain_ids and x["status"] != "open" and int(x["id"]) not in listed]
        settled.append(_settled_entry(o, "upheld", text))
        new_id = None
        if publishing.existing_publication(store, run) is None:  # else: the result did not change (nothing new)
            root = (rec.get("appeal") or {}).get("root", int(base["id"]))
            run.record["appeal"] = {"root": root, "base": int(base["id"]), "settled": settled,
                                    "differences": differences}
            new_id = publishing.publish(store, actor, run)
        store.decide_objection(int(o["id"]), True, text, actor.username, new_publication_id=new_id)
    return Decision(int(o["id"]), "upheld", new_id, differences, excluded)
