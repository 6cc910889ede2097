"""Published score runs: stored once, never changed, and checked by recomputation.

The analysis package computes a run from plain data; this module ties it to a wave of
the store: which responses (with the exclusions applied), who published, and whether
a recomputation from today's data and the stored config and population gives the same
result hash.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.score_run import HASH_DIGITS, ScoreRun, compute_score_run, result_hash
from analysis.scoring import ScoringConfig
from survey.auth import Account, require
from survey.responses import exclusions_applied, responses_frame
from survey.store import Store


def compute_for_wave(store: Store, actor: Account, wave: str, population: pd.DataFrame,
                     config: ScoringConfig, exclude_flagged: bool | list[str] = False) -> ScoreRun:
    """A score run on the wave's included responses, recording the exclusions it applied.

    `exclude_flagged` also leaves out responses with current QC flags (all, or the named
    flags); the record lists them among its exclusions and keeps the choice for `verify`.
    """
    require(actor, "analysis.run")
    frame = responses_frame(store, actor, wave, exclude_flagged=exclude_flagged)
    run = compute_score_run(frame, population, config, wave=wave,
                            exclusions=exclusions_applied(store, wave, exclude_flagged=exclude_flagged),
                            source=f"store wave {wave}")
    if exclude_flagged:
        run.record["exclude_flagged"] = True if exclude_flagged is True else sorted(exclude_flagged)
    return run


def published(store: Store, actor: Account, wave: str) -> list[dict[str, Any]]:
    """The wave's published score runs, newest first, for listing and verifying."""
    require(actor, "analysis.run")
    return store.published_scores(wave)


def existing_publication(store: Store, run: ScoreRun) -> int | None:
    """The id of the publication of this very result (same wave and result hash), if any."""
    rec = run.record
    return next((p["id"] for p in store.published_scores(rec.get("wave"))
                 if p["result_hash"] == rec["result_hash"]), None)


def publish(store: Store, actor: Account, run: ScoreRun) -> int:
    """Publish a run once: the same result hash is the same publication (a second press returns its id)."""
    require(actor, "analysis.publish")
    rec = run.record
    already = existing_publication(store, run)
    if already is not None:
        return already
    data = run.extra.get("data")
    ids = [str(i) for i in data["response_id"]] if data is not None and "response_id" in data else None
    return store.publish_score(rec.get("wave"), actor.username, rec["config_name"], rec["config_hash"],
                               rec["data_hash"], rec["result_hash"], rec, run.to_json(), response_ids=ids)


@dataclass(frozen=True)
class Verification:
    identical: bool
    published_hash: str
    recomputed_hash: str
    data_changed: bool


def _recompute_today(store: Store, actor: Account, published: dict[str, Any]) -> ScoreRun:
    """The publication's config and population applied to the wave's data as they are today."""
    rec = published["record"]
    config = ScoringConfig.model_validate(rec["config"])
    population = pd.DataFrame(rec["population"]) if rec.get("population") is not None else None  # unweighted run
    return compute_for_wave(store, actor, rec["wave"], population, config,
                            exclude_flagged=rec.get("exclude_flagged", False))


def verify(store: Store, actor: Account, published: dict[str, Any]) -> Verification:
    """Recompute a published run from the wave's current data with its stored config and population."""
    again = _recompute_today(store, actor, published)
    return Verification(again.result_hash == published["result_hash"], published["result_hash"],
                        again.result_hash, again.record["data_hash"] != published["data_hash"])


@dataclass(frozen=True)
class SincePublication:
    """How today's data differ from a publication's snapshot (what the page reports besides `verify`).

    `identical`: today's data with the stored config and population give the published
    result. `added`/`dropped`: responses scored today and not then, or then and not today
    (excluded or gone since); None for a publication without a snapshot. `edited`: ids of
    its responses whose answers were edited since (from the audit, after its pinned head).
    """
    identical: bool
    recomputed_hash: str
    added: int | None
    dropped: int | None
    edited: list[str]


def since_publication(store: Store, actor: Account, published: dict[str, Any]) -> SincePublication:
    """Recompute from today's data (stored config and population) and say which inputs moved since."""
    run = _recompute_today(store, actor, published)
    snapshot = published.get("snapshot") or {}
    ids = snapshot.get("response_ids")
    added = dropped = None
    data = run.extra.get("data")
    if ids is not None and data is not None and "response_id" in data:
        now_ids, then_ids = {str(i) for i in data["response_id"]}, set(ids)
        added, dropped = len(now_ids - then_ids), len(then_ids - now_ids)
    pin = ((snapshot.get("chains") or {}).get("audit") or {}).get("id") or 0
    scored = set(ids or [])
    edited = sorted({row["entity_id"] for row in store.audit_after(int(pin), "response", "edit")
                     if ids is None or row["entity_id"] in scored})
    return SincePublication(run.result_hash == published["result_hash"], run.result_hash, added, dropped, edited)


@dataclass(frozen=True)
class PublicationCheck:
    """Does a publication still recompute to its published figures from the rows it was computed from?

    `problem` is "" when it does, else "figures_altered" (the stored figures no longer match
    their own result hash), "data_changed" (the snapshot's responses now hash differently:
    edited or altered since), "figures_differ" (same data, other figures) or "rows_missing"
    (responses of the snapshot are gone). `detail` names the unit, field and both values.
    """
    id: int
    wave: str | None
    config_name: str
    problem: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    snapshot: bool = True

    @property
    def ok(self) -> bool:
        return not self.problem


def _canonical_number(value: Any) -> Any:
    return format(value, f".{HASH_DIGITS}g") if isinstance(value, float) else value


def first_difference(published: list[dict[str, Any]], recomputed: list[dict[str, Any]]) -> dict[str, Any]:
    """The first unit and field whose published figure differs from the recomputed one ({} if none)."""
    again = {row.get("unit"): row for row in recomputed}
    for row in published:
        other = again.get(row.get("unit"))
        if other is None:
            return {"unit": row.get("unit"), "field": "unit", "published": row.get("unit"), "recomputed": None}
        for key in sorted(set(row) | set(other)):
            if _canonical_number(row.get(key)) != _canonical_number(other.get(key)):
                return {"unit": row.get("unit"), "field": key, "published": row.get(key),
                        "recomputed": other.get(key)}
    extra = sorted(set(again) - {row.get("unit") for row in published}, key=str)
    return {"unit": extra[0], "field": "unit", "published": None, "recomputed": extra[0]} if extra else {}


def verify_publication(store: Store, actor: Account, published: dict[str, Any]) -> PublicationCheck:
    """Recompute a publication from its snapshot (the responses it scored) and compare every figure.

    Not only the hash: the stored figures are checked against their own result hash and
    against the recomputation, so a figure edited in the table (with its hash left or
    forged) is named. A publication from before snapshots were kept is recomputed from the
    wave's current data (`snapshot=False`).
    """
    require(actor, "analysis.run")
    rec = published["record"]
    base = {"id": int(published["id"]), "wave": rec.get("wave"), "config_name": published["config_name"]}
    stored = published["result"]
    if result_hash(rec["config_hash"], published["data_hash"], rec["population_hash"], stored) \
            != published["result_hash"]:
        return PublicationCheck(**base, problem="figures_altered")
    config = ScoringConfig.model_validate(rec["config"])
    population = pd.DataFrame(rec["population"])
    ids = (published.get("snapshot") or {}).get("response_ids")
    if ids is None:
        again = compute_for_wave(store, actor, rec["wave"], population, config,
                                 exclude_flagged=rec.get("exclude_flagged", False))
    else:
        frame = responses_frame(store, actor, rec["wave"], include_excluded=True).drop(columns="excluded_reason")
        frame = frame[frame["response_id"].astype(str).isin(set(ids))].reset_index(drop=True)
        if len(frame) != len(ids):
            return PublicationCheck(**base, problem="rows_missing",
                                    detail={"missing": len(ids) - len(frame)})
        again = compute_score_run(frame, population, config, wave=rec["wave"], exclusions=rec.get("exclusions"),
                                  source=rec.get("source", ""))
    snapshot = ids is not None
    diff = first_difference(stored, again.to_json())
    if again.record["data_hash"] != published["data_hash"]:
        return PublicationCheck(**base, problem="data_changed", detail=diff, snapshot=snapshot)
    if diff or again.result_hash != published["result_hash"]:
        return PublicationCheck(**base, problem="figures_differ", detail=diff, snapshot=snapshot)
    return PublicationCheck(**base, snapshot=snapshot)
