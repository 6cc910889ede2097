"""Quotas per wave: targets by unit (optionally × sex × age group × line type × number prefix), progress,
warn or stop at screening.

Sex and age group come from the respondent's answers; line type (mobile / landline) and prefix
(号段 / 局向号) from the case's contact-list strata (survey.contacts.check_number_strata), so
those cells count the responses of cases only.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from survey.auth import Account, require
from survey.errors import ImportRejected
from survey.fieldwork import wave_or_error
from survey.i18n import t
from survey.store import Store

class QuotaCell(BaseModel):
    """A target of completes for a unit, optionally one sex and/or one age group within it."""
    model_config = ConfigDict(extra="forbid")
    unit: str = Field(min_length=1)
    sex: Literal["男", "女"] | None = None
    age_group: Literal["18-29", "30-39", "40-49", "50-59", "60+"] | None = None
    line_type: Literal["mobile", "landline"] | None = None
    prefix: str | None = Field(None, pattern=r"^\d{2,8}$")
    target: int = Field(gt=0)

    @property
    def key(self) -> tuple[Any, ...]:
        """What makes two cells the same cell."""
        return (self.unit, self.sex, self.age_group, self.line_type, self.prefix)

    @property
    def number_strata(self) -> dict[str, str]:
        return {k: v for k, v in (("line_type", self.line_type), ("prefix", self.prefix)) if v is not None}


class QuotaSettings(BaseModel):
    """The quota part of a wave's settings: cells and what screening does when one is full."""
    model_config = ConfigDict(extra="ignore")
    quotas: list[QuotaCell] = Field(default_factory=list)
    quota_action: Literal["warn", "stop"] = "warn"


class QuotaError(ImportRejected):
    """Quota settings refused; one line per problem, naming the field (quotas[2].target)."""


def validate_quotas(settings: Mapping[str, Any], units: Iterable[str] | None = None) -> QuotaSettings:
    """Check the `quotas` / `quota_action` of wave settings; messages name the field."""
    try:
        parsed = QuotaSettings.model_validate(dict(settings))
    except ValidationError as err:
        raise QuotaError([f"{'.'.join(f'[{p}]' if isinstance(p, int) else str(p) for p in e['loc'])}: {e['msg']}"
                          .replace(".[", "[") for e in err.errors()]) from None
    problems = []
    known = set(units) if units is not None else None
    seen: dict[tuple[Any, ...], int] = {}
    for i, cell in enumerate(parsed.quotas):
        if known is not None and cell.unit not in known:
            problems.append(f"quotas[{i}].unit: {cell.unit} is not a unit of the wave")
        key = cell.key
        if key in seen:
            problems.append(f"quotas[{i}]: same cell as quotas[{seen[key]}]")
        seen.setdefault(key, i)
    if problems:
        raise QuotaError(problems)
    return parsed


def set_quotas(store: Store, actor: Account, wave: str, quotas: list[Mapping[str, Any]],
               action: str = "warn") -> QuotaSettings:
    """Validate and store a wave's quota cells and quota action (admin)."""
    require(actor, "waves.manage")
    w = wave_or_error(store, wave)
    parsed = validate_quotas({"quotas": quotas, "quota_action": action}, w["units"])
    settings = {**w["settings"], **parsed.model_dump(mode="json", exclude_none=False)}
    settings["quotas"] = [{k: v for k, v in c.items() if v is not None} for c in settings["quotas"]]
    store.update_wave(wave, actor.username, settings=settings)
    return parsed


def quota_settings(store: Store, wave: str) -> QuotaSettings:
    w = wave_or_error(store, wave)
    return validate_quotas(w["settings"], w["units"])


@dataclass(frozen=True)
class QuotaStatus:
    full: bool
    action: str  # warn | stop
    message: str  # empty when the cell is open
    cell: dict[str, Any] | None = None
    count: int | None = None
    target: int | None = None

    @property
    def stop(self) -> bool:
        return self.full and self.action == "stop"


def quota_status(store: Store, wave: str, unit: str, answers: Mapping[str, Any],
                 strata: Mapping[str, Any] | None = None) -> QuotaStatus:
    """Is the respondent's quota cell full? Checked at screening, before the interview.

    Cells are matched on unit and, where the cell names them, the sex / age_group in
    `answers` and the line_type / prefix in the case's `strata`; a cell whose sex or age group
    is not answered yet, or whose number strata the interview has no case for, is not checked.
    The fullest matching cell decides. `stop` is True when the wave's action is stop.
    """
    qs = quota_settings(store, wave)
    worst: QuotaStatus | None = None
    for cell in qs.quotas:
        if cell.unit != unit:
            continue
        if cell.sex is not None and answers.get("sex") != cell.sex:
            continue
        if cell.age_group is not None and answers.get("age_group") != cell.age_group:
            continue
        if any((strata or {}).get(k) != v for k, v in cell.number_strata.items()):
            continue
        count = store.count_quota_cell(wave, unit, cell.sex, cell.age_group, **cell.number_strata)
        described = cell.model_dump(exclude_none=True)
        if count >= cell.target and (worst is None or not worst.full):
            name = " × ".join(x for x in (cell.unit, cell_name(described)) if x)
            key = "fieldwork.quota_full_stop" if qs.quota_action == "stop" else "fieldwork.quota_full_warn"
            worst = QuotaStatus(True, qs.quota_action, t(key, cell=name, count=count, target=cell.target),
                                described, count, cell.target)
        elif worst is None:
            worst = QuotaStatus(False, qs.quota_action, "", described, count, cell.target)
    return worst or QuotaStatus(False, qs.quota_action, "")


def quota_progress(store: Store, wave: str) -> pd.DataFrame:
    """Every quota cell with its completes so far: unit, sex, age_group, line_type, prefix, target, n, share."""
    rows = []
    for cell in quota_settings(store, wave).quotas:
        n = store.count_quota_cell(wave, cell.unit, cell.sex, cell.age_group, **cell.number_strata)
        rows.append({"unit": cell.unit, "sex": cell.sex, "age_group": cell.age_group, "line_type": cell.line_type,
                     "prefix": cell.prefix, "target": cell.target, "n": n, "share": n / cell.target})
    return pd.DataFrame(rows, columns=list(PROGRESS_COLUMNS))


PROGRESS_COLUMNS = ("unit", "sex", "age_group", "line_type", "prefix", "target", "n", "share")


def cell_name(cell: Mapping[str, Any], lang: str = "zh") -> str:
    """A cell as people read it: 男 × 40-49 × 手机 × 138 (empty for a unit-wide cell)."""
    from survey import i18n
    parts = []
    for key in ("sex", "age_group", "line_type", "prefix"):
        value = cell.get(key)
        if value is None or (isinstance(value, float) and value != value) or value == "":
            continue
        parts.append(i18n.t(f"strata.line_type.{value}", lang) if key == "line_type" else str(value))
    return " × ".join(parts)
