"""Waves as services see them: the one lookup that finds a wave or says it does not exist."""
from __future__ import annotations

from typing import Any

from common.errors import wave_not_found
from survey.store import Store


def get_wave(store: Store, wave: str) -> dict[str, Any]:
    """The wave named, or NotFound (code `wave_not_found`, field `wave`) when it does not exist."""
    found = store.wave(wave)
    if found is None:
        raise wave_not_found(wave)
    return found
