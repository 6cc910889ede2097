"""Which wave a page opens on when the user has not chosen one yet.

The wave in fieldwork, not the newest id: a wave set up for next year (empty) or an old
one would show zeros to a supervisor and "no data" to an analyst. Open waves with
responses first, then any wave with responses, then open waves, newest id first within each.
"""
from __future__ import annotations

from survey.store import Store


def default_wave(store: Store, wave_ids: list[str]) -> str | None:
    """The wave a page should open on, among `wave_ids` (None when there are none)."""
    if not wave_ids:
        return None
    status = {w["id"]: w.get("status") for w in store.waves()}

    def rank(wave: str) -> tuple[bool, bool, bool, str]:
        has_data = store.count_responses(wave) > 0
        return has_data and status.get(wave) == "open", has_data, status.get(wave) == "open", wave

    return max(wave_ids, key=rank)
