"""Quotas per wave: targets by unit (optionally × sex × age group), progress, warn or stop at screening."""
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
    target: int = Field(gt=0)


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
        key = (cell.unit, cell.sex, cell.age_group)
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


def quota_status(store: Store, wave: str, unit: str, answers: Mapping[str, Any]) -> QuotaStatus:
    """Is the respondent's quota cell full? Checked at screening, before the interview.

    Cells are matched on unit and, where the cell names them, the sex / age_group in
    `answers`; a cell whose sex or age group is not answered yet is not checked. The
    fullest matching cell decides. `stop` is True when the wave's action is stop.
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
        count = store.count_quota_cell(wave, unit, cell.sex, cell.age_group)
        described = cell.model_dump(exclude_none=True)
        if count >= cell.target and (worst is None or not worst.full):
            name = " × ".join(str(v) for k, v in described.items() if k != "target")
            key = "fieldwork.quota_full_stop" if qs.quota_action == "stop" else "fieldwork.quota_full_warn"
            worst = QuotaStatus(True, qs.quota_action, t(key, cell=name, count=count, target=cell.target),
                                described, count, cell.target)
        elif worst is None:
            worst = QuotaStatus(False, qs.quota_action, "", described, count, cell.target)
    return worst or QuotaStatus(False, qs.quota_action, "")


def quota_progress(store: Store, wave: str) -> pd.DataFrame:
    """Every quota cell with its completes so far: unit, sex, age_group, target, n, share."""
    rows = []
    for cell in quota_settings(store, wave).quotas:
        n = store.count_quota_cell(wave, cell.unit, cell.sex, cell.age_group)
        rows.append({"unit": cell.unit, "sex": cell.sex, "age_group": cell.age_group, "target": cell.target,
                     "n": n, "share": n / cell.target})
    return pd.DataFrame(rows, columns=["unit", "sex", "age_group", "target", "n", "share"])
