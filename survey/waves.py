"""Waves as services see them: the one lookup that finds a wave or says it does not exist,
and the waves an actor may see (action `waves.read`), as typed `Wave` records for pages."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from common.errors import Forbidden, wave_not_found
from survey.store import Store, Wave

if TYPE_CHECKING:
    from survey.auth import Account


def get_wave(store: Store, wave: str) -> dict[str, Any]:
    """The wave named, or NotFound (code `wave_not_found`, field `wave`) when it does not exist."""
    found = store.wave(wave)
    if found is None:
        raise wave_not_found(wave)
    return found


def has_wave(store: Store, wave: str) -> bool:
    return store.wave(wave) is not None


def add_wave(store: Store, actor: Account, wave: str, questionnaire_id: str, units: list[str],
             opens_at: str | None = None, closes_at: str | None = None) -> None:
    """Open a wave (action `waves.manage`); refused when it exists or the questionnaire is unknown."""
    from survey.auth import require
    require(actor, "waves.manage")
    store.add_wave(wave, questionnaire_id, units, actor.username, opens_at, closes_at)


def visible_waves(store: Store, actor: Account) -> list[Wave]:
    """The waves `actor` may see listed, by id: every wave, for a pollster the assigned ones."""
    from survey.auth import allowed  # survey.auth looks waves up through this module
    return [Wave.from_row(w) for w in store.waves() if allowed(actor, "waves.read", {"wave": w["id"]})]


def wave_ids(store: Store, actor: Account) -> list[str]:
    """The ids of `visible_waves`, for a page's wave selector."""
    return [w.id for w in visible_waves(store, actor)]


def read_wave(store: Store, actor: Account, wave: str) -> Wave:
    """One wave for a page: NotFound when there is none, Forbidden when the actor may not see it."""
    from survey.auth import allowed
    found = store.wave_record(wave)
    if found is None:
        raise wave_not_found(wave)
    if not allowed(actor, "waves.read", {"wave": wave}):
        raise Forbidden(f"{actor.username} is not assigned to wave {wave}", field="wave", code="wave_not_assigned")
    return found


def wave_settings(wave: Wave | Mapping[str, Any]) -> Mapping[str, Any]:
    """The stored settings document of a wave, given as a `Wave` record or a stored row."""
    if isinstance(wave, Wave):
        return wave.settings.raw
    return wave.get("settings") or {}
