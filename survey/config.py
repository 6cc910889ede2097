"""Where things live: the store file, shipped data and the secret-key file.

Paths are resolved at call time (not import time) so tests and benchmarks can point
`SURVEY_DB` at a fresh file per run.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
QUESTIONNAIRE_DIR = DATA_DIR / "questionnaires"
POPULATION_DIR = DATA_DIR / "population"
SCORING_DIR = DATA_DIR / "scoring"

DEFAULT_QUESTIONNAIRE = "default-2025"
DEFAULT_WAVE = "2025"
XIAMEN_UNITS: tuple[str, ...] = ("思明区", "湖里区", "集美区", "海沧区", "同安区", "翔安区")
MODES: tuple[str, ...] = ("phone", "door", "paper", "web")


def db_path() -> Path:
    """The store file: `SURVEY_DB`, else data/survey.db.

    `SURVEY_DB` may also be a URL (`sqlite:///…`, `postgresql://…`); `db_target()` keeps
    it whole, while this path names where side files such as the contact key sit.
    """
    from survey.storage.engine import resolve
    return resolve(db_target()).path


def db_target() -> str:
    """`SURVEY_DB` as given (a path or a URL), else data/survey.db."""
    return os.environ.get("SURVEY_DB") or str(DATA_DIR / "survey.db")


IDLE_ENV = "SURVEY_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 30.0


def idle_timeout_minutes() -> float:
    """Minutes without an action after which a staff login ends (`SURVEY_IDLE_MINUTES`, default 30).

    An app setting: every app server of one store should get the same value. Refused
    (Invalid, naming the variable) unless a finite number above 0 and at most 1440 (a day).
    """
    import math

    from common.errors import Invalid
    raw = os.environ.get(IDLE_ENV, "").strip()
    if not raw:
        return DEFAULT_IDLE_MINUTES
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= 1440:
        raise Invalid(f"{IDLE_ENV}={raw[:40]}: 空闲超时须为 0 到 1440 之间的分钟数 / idle timeout must be "
                      "minutes above 0 and at most 1440", field="idle_timeout_minutes", code="bad_setting")
    return value
