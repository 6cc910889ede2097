"""Published score runs: stored once, never changed, and checked by recomputation.

The analysis package computes a run from plain data; this module ties it to a wave of
the store: which responses (with the exclusions applied), who published, and whether
a recomputation from today's data and the stored config and population gives the same
result hash.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.score_run import ScoreRun, compute_score_run
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
    return store.publish_score(rec.get("wave"), actor.username, rec["config_name"], rec["config_hash"],
                               rec["data_hash"], rec["result_hash"], rec, run.to_json())


@dataclass(frozen=True)
class Verification:
    identical: bool
    published_hash: str
    recomputed_hash: str
    data_changed: bool


def verify(store: Store, actor: Account, published: dict[str, Any]) -> Verification:
    """Recompute a published run from the wave's current data with its stored config and population."""
    rec = published["record"]
    config = ScoringConfig.model_validate(rec["config"])
    population = pd.DataFrame(rec["population"]) if rec.get("population") is not None else None  # unweighted run
    again = compute_for_wave(store, actor, rec["wave"], population, config,
                             exclude_flagged=rec.get("exclude_flagged", False))
    return Verification(again.result_hash == published["result_hash"], published["result_hash"],
                        again.result_hash, again.record["data_hash"] != published["data_hash"])
