"""Setting up a wave from the admin console: create it, its settings, its population and scoring files.

The admin pages are widgets plus calls to these functions; the CLI commands that do the
same (`wave add`, `quotas set`, `qc --set`, `web wave-dates`) call the lower functions these
reuse (store.add_wave, quotas.set_quotas, quality.set_settings). Every function validates
first and writes nothing when a value is refused: `SetupError` (an `Invalid`) holds one
`Problem` per refused value: a Chinese line naming the field as the form labels it, the
setting's name as `field` and the reason as `code`.
"""
from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from common.errors import Invalid, Problem
from survey import i18n, scheduling
from survey.auth import Account, require
from survey.config import MODES
from survey.fieldwork import wave_or_error
from survey.quality import QCSettings
from survey.quotas import QuotaSettings
from survey.store import Store, StoreError
from survey.waves import add_wave

WAVE_ID_RE = re.compile(r"^[\w\-]{1,40}$")
STATUSES = ("open", "closed")
MAX_SEED_CHARS = 64


class SetupError(Invalid):
    """Values refused by an admin form; one Problem per refused value, its message in the UI language."""

    def __init__(self, problems: list[str]):
        super().__init__(problems)


def field_label(name: str, lang: str = i18n.DEFAULT_LANG) -> str:
    """The form label of a setting (`qc.speeder_ratio` -> 过快判定比例); unknown names as they are."""
    key = f"setup.field.{name}"
    text = i18n.t(key, lang)
    return name if text == key else text


def _pydantic_lines(err: ValidationError, prefix: str, lang: str) -> list[Problem]:
    """Pydantic's errors as '字段：原因' lines from the catalog (never pydantic's English)."""
    lines = []
    for e in err.errors():
        parts = [str(p) for p in e["loc"] if not isinstance(p, int)]
        rows = [p + 1 for p in e["loc"] if isinstance(p, int)]
        name = ".".join([prefix, *parts] if prefix else parts)
        ctx = {k: v for k, v in (e.get("ctx") or {}).items() if isinstance(v, (int, float, str))}
        key = f"setup.reason.{e['type']}"
        reason = i18n.t(key, lang, **ctx) if i18n.t(key, lang) != key else i18n.t("setup.reason.invalid", lang)
        where = field_label(name, lang)
        if rows:
            where = i18n.t("setup.row_field", lang, row=rows[0], field=where)
        lines.append(Problem(i18n.t("setup.problem", lang, field=where, reason=reason), field=name, code=e["type"]))
    return lines


def _problem(field: str, reason_key: str, lang: str, **values: Any) -> Problem:
    """One refused value: the line the form shows, the setting's name and the reason's key."""
    return Problem(i18n.t("setup.problem", lang, field=field_label(field, lang),
                          reason=i18n.t(f"setup.reason.{reason_key}", lang, **values)),
                   field=field, code=reason_key)


# ======================================================================================
# Waves
# ======================================================================================
@dataclass(frozen=True)
class WaveForm:
    """What the admin types to open a wave."""
    name: str
    questionnaire_id: str
    units: tuple[str, ...]
    opens_at: str | None = None
    closes_at: str | None = None


def _date_problems(opens_at: str | None, closes_at: str | None, lang: str) -> list[Problem]:
    from survey.webform import _moment  # the one reading of a wave date
    problems, moments = [], {}
    for field, value, end in (("opens_at", opens_at, False), ("closes_at", closes_at, True)):
        if not value:
            continue
        try:
            moments[field] = _moment(value, end)
        except ValueError:
            problems.append(_problem(field, "not_a_date", lang, value=value))
    if len(moments) == 2 and moments["opens_at"] > moments["closes_at"]:
        problems.append(_problem("closes_at", "before_opens", lang))
    return problems


def create_wave(store: Store, actor: Account, form: WaveForm, lang: str = i18n.DEFAULT_LANG) -> None:
    """Open a wave pinned to one registered questionnaire version, with dates."""
    require(actor, "waves.manage")
    problems = []
    name = form.name.strip()
    if not WAVE_ID_RE.fullmatch(name):
        problems.append(_problem("name", "wave_name", lang))
    elif store.wave(name) is not None:
        problems.append(_problem("name", "wave_exists", lang, value=name))
    if store.questionnaire_spec(form.questionnaire_id) is None:
        problems.append(_problem("questionnaire", "unknown_questionnaire", lang, value=form.questionnaire_id))
    units = [u.strip() for u in form.units if u.strip()]
    if not units:
        problems.append(_problem("units", "no_units", lang))
    elif len(set(units)) != len(units):
        problems.append(_problem("units", "duplicate_units", lang))
    problems += _date_problems(form.opens_at, form.closes_at, lang)
    if problems:
        raise SetupError(problems)
    add_wave(store, actor, name, form.questionnaire_id, units, form.opens_at or None, form.closes_at or None)


def update_wave_dates_status(store: Store, actor: Account, wave: str, *, opens_at: str | None,
                             closes_at: str | None, status: str, lang: str = i18n.DEFAULT_LANG) -> None:
    """Change a wave's dates and status (open / closed) together, validated."""
    require(actor, "waves.manage")
    wave_or_error(store, wave)
    problems = _date_problems(opens_at, closes_at, lang)
    if status not in STATUSES:
        problems.append(_problem("status", "literal_error", lang, expected="、".join(STATUSES)))
    if problems:
        raise SetupError(problems)
    store.update_wave(wave, actor.username, opens_at=opens_at or None, closes_at=closes_at or None, status=status)


# ======================================================================================
# Settings
# ======================================================================================
class WebLimits(BaseModel):
    """The `web` block of a wave's settings (survey.webform.WebSettings reads it)."""
    model_config = ConfigDict(extra="forbid")
    starts_per_ip_hour: int = Field(30, ge=1, le=100_000)
    flag_ip_per_hour: int = Field(10, ge=1, le=100_000)
    min_seconds: float = Field(60.0, ge=0, le=86_400, allow_inf_nan=False)


class FieldworkOptions(BaseModel):
    """Double entry and back-check settings of a wave."""
    model_config = ConfigDict(extra="forbid")
    double_entry: bool = False
    backcheck_rate: float = Field(0.10, gt=0, le=1, allow_inf_nan=False)
    backcheck_seed: str = Field("", max_length=MAX_SEED_CHARS)

    @field_validator("backcheck_seed")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(c) < 32 for c in value):
            raise ValueError("control characters")
        return value.strip()


@dataclass(frozen=True)
class WaveSettingsForm:
    """Everything the settings page edits at once; raw values as typed, validated by save_settings."""
    quotas: list[Mapping[str, Any]]
    quota_action: str
    qc: Mapping[str, Any]
    web: Mapping[str, Any]
    double_entry: bool
    backcheck_rate: Any
    backcheck_seed: str
    # call scheduling (survey.scheduling.parse_schedule's keys) and 异地交叉; None keeps what is stored
    schedule: Mapping[str, Any] | None = None
    cross_district: bool | None = None


def current_settings(store: Store, wave: str) -> WaveSettingsForm:
    """A wave's settings with every default filled in: what the settings page starts from."""
    s = wave_or_error(store, wave)["settings"]
    quotas = QuotaSettings.model_validate({k: s[k] for k in ("quotas", "quota_action") if k in s})
    opts = FieldworkOptions.model_validate({k: s[k] for k in ("double_entry", "backcheck_rate", "backcheck_seed")
                                            if k in s})
    return WaveSettingsForm(
        quotas=[c.model_dump(exclude_none=True) for c in quotas.quotas], quota_action=quotas.quota_action,
        qc=QCSettings.model_validate(s.get("qc") or {}).model_dump(),
        web=WebLimits.model_validate(s.get("web") or {}).model_dump(),
        double_entry=opts.double_entry, backcheck_rate=opts.backcheck_rate, backcheck_seed=opts.backcheck_seed,
        schedule=scheduling.rules_from_settings(s).to_settings(), cross_district=bool(s.get("cross_district", False)))


def _clean_number(value: Any) -> Any:
    """A blank cell is missing; NaN from an empty table cell too."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value.strip()):
        return None
    return value


def save_settings(store: Store, actor: Account, wave: str, form: WaveSettingsForm,
                  lang: str = i18n.DEFAULT_LANG) -> dict[str, Any]:
    """Validate every part of a wave's settings; store them in one write, or nothing.

    Other keys of the settings (paper ID format, population, scoring, …) are kept.
    """
    require(actor, "waves.manage")
    w = wave_or_error(store, wave)
    problems: list[Problem] = []
    cells = [{k: v for k, v in ((k, _clean_number(v)) for k, v in dict(c).items()) if v is not None}
             for c in form.quotas]
    cells = [c for c in cells if c]  # a blank row of the editor is no cell
    quotas = None
    try:
        quotas = QuotaSettings.model_validate({"quotas": cells, "quota_action": form.quota_action})
    except ValidationError as err:
        problems += _pydantic_lines(err, "", lang)
    if quotas is not None:
        seen: dict[tuple[Any, ...], int] = {}
        for i, cell in enumerate(quotas.quotas, start=1):
            if cell.unit not in w["units"]:
                problems.append(Problem(i18n.t("setup.problem", lang, field=i18n.t(
                    "setup.row_field", lang, row=i, field=field_label("quotas.unit", lang)),
                    reason=i18n.t("setup.reason.not_a_unit", lang, value=cell.unit)), field="quotas.unit",
                    code="not_a_unit"))
            key = cell.key
            if key in seen:
                problems.append(Problem(i18n.t("setup.problem", lang, field=i18n.t(
                    "setup.row_field", lang, row=i, field=field_label("quotas", lang)),
                    reason=i18n.t("setup.reason.same_cell", lang, other=seen[key])), field="quotas",
                    code="same_cell"))
            seen.setdefault(key, i)
    parsed: dict[str, BaseModel] = {}
    for prefix, model, raw in (("qc", QCSettings, form.qc), ("web", WebLimits, form.web),
                               ("", FieldworkOptions, {"double_entry": form.double_entry,
                                                       "backcheck_rate": form.backcheck_rate,
                                                       "backcheck_seed": form.backcheck_seed or ""})):
        try:
            parsed[prefix] = model.model_validate({k: v for k, v in dict(raw).items() if _clean_number(v) is not None
                                                   or isinstance(v, bool)})
        except ValidationError as err:
            problems += _pydantic_lines(err, prefix, lang)
    rules = None
    if form.schedule is not None:
        try:
            rules = scheduling.parse_schedule(form.schedule, lang)
        except Invalid as err:
            problems += list(err.problems)
    if form.cross_district is not None and not isinstance(form.cross_district, bool):
        problems.append(_problem("cross_district", "bool_type", lang))
    if problems:
        raise SetupError(problems)
    assert quotas is not None
    settings = {**w["settings"],
                "quotas": [c.model_dump(exclude_none=True) for c in quotas.quotas],
                "quota_action": quotas.quota_action,
                "qc": parsed["qc"].model_dump(), "web": parsed["web"].model_dump(),
                **parsed[""].model_dump()}
    if rules is not None:
        settings["schedule"] = rules.to_settings()
    if form.cross_district is not None:
        settings["cross_district"] = form.cross_district
    if not settings["backcheck_seed"]:
        settings.pop("backcheck_seed")  # the wave id is the default seed (survey.backcheck)
    store.update_wave(wave, actor.username, settings=settings)
    return settings


def save_schedule(store: Store, actor: Account, wave: str, changes: Mapping[str, Any],
                  lang: str = i18n.DEFAULT_LANG) -> scheduling.CallRules:
    """Change some keys of a wave's call scheduling rules (the others kept), validated as the
    settings page validates them; stores nothing when a problem is found (SetupError, one
    Chinese line each). What `python -m survey schedule --wave W --…` calls."""
    require(actor, "waves.manage")
    w = wave_or_error(store, wave)
    current = scheduling.rules_from_settings(w["settings"]).to_settings()
    try:
        rules = scheduling.parse_schedule({**current, **dict(changes)}, lang)
    except Invalid as err:
        raise SetupError(list(err.problems)) from None
    if rules.to_settings() != (w["settings"].get("schedule") or None):
        store.update_wave(wave, actor.username, settings={**w["settings"], "schedule": rules.to_settings()})
    return rules


# ======================================================================================
# Population and scoring files chosen per wave
# ======================================================================================
@dataclass(frozen=True)
class ChosenFile:
    """A file chosen for a wave, kept in its settings so a later edit of the file changes nothing."""
    name: str
    sha256: str
    text: str


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_population(data: bytes, name: str, units: Iterable[str] | None = None,
                     lang: str = i18n.DEFAULT_LANG) -> pd.DataFrame:
    """A population margins file checked by analysis' reader, plus: does it cover the wave's units?"""
    from analysis.errors import InputError
    from analysis.io import read_population
    source = io.BytesIO(data)
    source.name = name
    try:
        frame = read_population(source, name)
    except InputError as err:
        raise SetupError(list(err.problems)) from None
    if units is not None:
        missing = [u for u in units if u not in set(frame["unit"])]
        if missing:
            raise SetupError([_problem("population", "units_missing", lang, units="、".join(missing))])
    return frame


def choose_population(store: Store, actor: Account, wave: str, data: bytes, name: str,
                      lang: str = i18n.DEFAULT_LANG) -> ChosenFile:
    """Validate a population file and make it the wave's (kept as canonical CSV text and its hash)."""
    require(actor, "waves.manage")
    w = wave_or_error(store, wave)
    frame = check_population(data, name, w["units"], lang)
    text = frame.to_csv(index=False)
    chosen = ChosenFile(name, _sha(text), text)
    store.update_wave(wave, actor.username, settings={**w["settings"], "population": chosen.__dict__})
    return chosen


def check_scoring(data: bytes, name: str, lang: str = i18n.DEFAULT_LANG):
    """A scoring config checked by analysis.scoring.parse_config (YAML first)."""
    from analysis.scoring import ConfigError, parse_config
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise SetupError([_problem("scoring", "not_utf8", lang)]) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise SetupError([Problem(i18n.t("setup.yaml_error", lang, name=name, line=line), field="scoring",
                                  code="yaml_error")]) from None
    try:
        return parse_config(raw, name)
    except ConfigError as err:
        raise SetupError(list(err.problems)) from None


def choose_scoring(store: Store, actor: Account, wave: str, data: bytes, name: str,
                   lang: str = i18n.DEFAULT_LANG) -> ChosenFile:
    """Validate a scoring config and make it the wave's (its YAML text and hash in the settings)."""
    require(actor, "waves.manage")
    w = wave_or_error(store, wave)
    check_scoring(data, name, lang)
    text = data.decode("utf-8")
    chosen = ChosenFile(name, _sha(text), text)
    store.update_wave(wave, actor.username, settings={**w["settings"], "scoring": chosen.__dict__})
    return chosen


def chosen_file(store: Store, wave: str, kind: str) -> ChosenFile | None:
    """The population (`kind="population"`) or scoring config chosen for a wave, if any."""
    raw = wave_or_error(store, wave)["settings"].get(kind)
    if not isinstance(raw, dict) or not {"name", "sha256", "text"} <= set(raw):
        return None
    return ChosenFile(str(raw["name"]), str(raw["sha256"]), str(raw["text"]))


def chosen_population(store: Store, wave: str) -> pd.DataFrame | None:
    """The wave's chosen population margins, read back like the file they came from."""
    chosen = chosen_file(store, wave, "population")
    if chosen is None:
        return None
    return check_population(chosen.text.encode("utf-8"), chosen.name)



# ======================================================================================
# Listings, contact lists and questionnaires for the admin pages
# ======================================================================================
def waves(store: Store) -> list[dict[str, Any]]:
    """Every wave with its case and response counts (the waves page's table)."""
    return [{**w, "cases": len(store.cases(w["id"])), "responses": store.count_responses(w["id"])}
            for w in store.waves()]


def wave(store: Store, wave_id: str) -> dict[str, Any]:
    return wave_or_error(store, wave_id)


def questionnaires(store: Store) -> list[dict[str, Any]]:
    return store.questionnaires()


def questionnaire(store: Store, qid: str):
    from survey.questionnaire import from_json
    spec = store.questionnaire_spec(qid)
    if spec is None:
        raise StoreError(f"no questionnaire `{qid}`")
    return from_json(spec)


def pollsters(store: Store, wave_id: str | None = None) -> list[str]:
    """Pollster accounts (only those assigned to `wave_id` when given)."""
    names = [a["username"] for a in store.accounts() if a["role"] == "pollster" and a["active"]]
    if wave_id is None:
        return names
    return [n for n in names if wave_id in store.assigned_waves(n)]


def case_summary(store: Store, wave_id: str) -> pd.DataFrame:
    """Cases of a wave by unit, mode and pollster (blank: not yet assigned)."""
    rows = [{"unit": c["unit"], "mode": c["mode"], "pollster": c["pollster"] or ""} for c in store.cases(wave_id)]
    frame = pd.DataFrame(rows, columns=["unit", "mode", "pollster"])
    return frame.groupby(["unit", "mode", "pollster"], as_index=False).size().rename(columns={"size": "cases"})


def import_contact_list(store: Store, actor: Account, wave_id: str, data: bytes, name: str) -> int:
    """An uploaded contact list (CSV or .xlsx) through survey.fieldwork.import_cases, the CLI's import."""
    import tempfile
    from pathlib import Path

    from survey.fieldwork import import_cases
    suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in (".csv", ".xlsx") else ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"contacts{suffix}"  # the server path never reaches a message
        path.write_bytes(data)
        try:
            return import_cases(store, actor, path, wave_id)
        except Exception as err:
            problems = getattr(err, "problems", None)
            if problems:
                from common.errors import renamed
                err.problems = [renamed(renamed(line, str(path), name), path.name, name)  # type: ignore[attr-defined]
                                for line in problems]
            raise


def register_questionnaire_upload(store: Store, actor: Account, data: bytes, name: str):
    """Validate an uploaded questionnaire (problems with file line numbers) and register it as a new version."""
    from survey.questionnaire import QuestionnaireError, parse_text
    require(actor, "waves.manage")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise QuestionnaireError([f"{name}:1: (file): not UTF-8 text"]) from None
    qn = parse_text(text, name)
    created = store.add_questionnaire(qn.id, qn.version, qn.title, qn.model_dump_json(by_alias=True),
                                      qn.content_hash(), actor.username)
    return qn, created

__all__ = ["MODES", "STATUSES", "SetupError", "WaveForm", "WaveSettingsForm", "ChosenFile", "create_wave",
           "update_wave_dates_status", "current_settings", "save_settings", "check_population",
           "choose_population", "check_scoring", "choose_scoring", "chosen_file", "chosen_population",
           "field_label", "StoreError"]
