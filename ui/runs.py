"""Score runs cached per browser session, keyed by a cheap fingerprint of their inputs."""
from __future__ import annotations

import hashlib
from collections.abc import Callable

import streamlit as st

from analysis.score_run import ScoreRun

MAX_CACHED = 8


def fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()


def cached_run(key: str, compute: Callable[[], ScoreRun]) -> ScoreRun:
    """Compute once per input fingerprint; reruns of the page reuse the result."""
    cache: dict[str, ScoreRun] = st.session_state.setdefault("_score_runs", {})
    if key not in cache:
        if len(cache) >= MAX_CACHED:
            cache.pop(next(iter(cache)))
        cache[key] = compute()
    return cache[key]
