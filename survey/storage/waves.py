"""Questionnaires and waves: registration, settings, status; `Wave` and its typed `WaveSettings`.

A wave's settings are one JSON document with a section per feature. `WaveSettings.parse`
is the one place that reads it: each section comes out typed, with its defaults, so
features stop digging in dicts. The stricter checks of a section (QC thresholds, quota
cells) stay with the feature that owns it and are applied when the settings are written.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from survey.storage.engine import (Database, IntegrityError, StoreError, audit, decoded, from_json, now,
                                   placeholders, to_json, where)

@dataclass(frozen=True)
class WebSection:
    """Abuse limits of the web survey (see survey.webform.WebSettings) and its sponsor line."""
    starts_per_ip_hour: int = 30
    flag_ip_per_hour: int = 10
    min_seconds: float = 60.0
    sponsor: str | None = None


@dataclass(frozen=True)
class QuotaSection:
    """Quota cells ({unit, sex?, age_group?, target}) and what screening does when one is full."""
    cells: tuple[Mapping[str, Any], ...] = ()
    action: str = "warn"


@dataclass(frozen=True)
class PaperSection:
    id_pattern: str | None = None  # None: survey.paper's default format
    double_entry: bool = False


@dataclass(frozen=True)
class BackcheckSection:
    seed: str | None = None  # None: the wave id


@dataclass(frozen=True)
class WaveSettings:
    """A wave's settings by section; `raw` keeps the stored document for writing it back."""
    qc: Mapping[str, Any] = field(default_factory=dict)
    web: WebSection = WebSection()
    quotas: QuotaSection = QuotaSection()
    paper: PaperSection = PaperSection()
    backcheck: BackcheckSection = BackcheckSection()
    schedule: Mapping[str, Any] = field(default_factory=dict)  # read by survey.scheduling.rules_from_settings
    cross_district: bool = False  # 异地交叉: no pollster gets a case of their home district
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> WaveSettings:
        raw = dict(raw or {})
        web = raw.get("web") or {}
        known = {k: web[k] for k in ("starts_per_ip_hour", "flag_ip_per_hour", "min_seconds", "sponsor") if k in web}
        quotas = raw.get("quotas")
        return cls(
            qc=dict(raw.get("qc") or {}),
            web=WebSection(**known),
            quotas=QuotaSection(tuple(quotas) if isinstance(quotas, list) else (), str(raw.get("quota_action") or "warn")),
            paper=PaperSection(str(raw["paper_id_pattern"]) if raw.get("paper_id_pattern") else None,
                               bool(raw.get("double_entry", False))),
            backcheck=BackcheckSection(str(raw["backcheck_seed"]) if raw.get("backcheck_seed") else None),
            schedule=dict(raw.get("schedule") or {}), cross_district=bool(raw.get("cross_district", False)),
            raw=raw)


@dataclass(frozen=True)
class Wave:
    """One survey round as stored."""
    id: str
    questionnaire_id: str
    units: tuple[str, ...]
    status: str
    opens_at: str | None
    closes_at: str | None
    settings: WaveSettings
    created_at: str
    created_by: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Wave:
        return cls(row["id"], row["questionnaire_id"], tuple(row["units"]), row["status"], row["opens_at"],
                   row["closes_at"], WaveSettings.parse(row["settings"]), row["created_at"], row["created_by"])

    @property
    def backcheck_seed(self) -> str:
        return self.settings.backcheck.seed or self.id


class WavesStore(Database):
    def add_questionnaire(self, qid: str, version: int, title: str, spec: str, sha256: str,
                          actor: str | None = None) -> bool:
        """Register a questionnaire version; refuse a changed spec under a used id."""
        with self.tx() as db:
            row = db.execute("SELECT sha256 FROM questionnaires WHERE id = ?", [qid]).fetchone()
            if row is not None:
                if row[0] != sha256:
                    raise StoreError(f"questionnaire `{qid}` is already registered with other content; "
                                     "a questionnaire in use is never edited in place: save it under a new id")
                return False
            db.execute("INSERT INTO questionnaires VALUES (?, ?, ?, ?, ?, ?)",
                       [qid, version, title, spec, sha256, now()])
            audit(db, actor, "create", "questionnaire", qid, {"sha256": sha256})
        return True

    def questionnaire_spec(self, qid: str) -> str | None:
        row = self.db.execute("SELECT spec FROM questionnaires WHERE id = ?", [qid]).fetchone()
        return row[0] if row else None

    def questionnaires(self) -> list[dict[str, Any]]:
        return self.query("SELECT id, version, title, sha256, created_at FROM questionnaires ORDER BY id")

    def add_wave(self, wave: str, questionnaire_id: str, units: list[str], actor: str | None,
                 opens_at: str | None = None, closes_at: str | None = None,
                 settings: dict[str, Any] | None = None) -> None:
        with self.tx() as db:
            if db.execute("SELECT 1 FROM waves WHERE id = ?", [wave]).fetchone():
                raise StoreError(f"wave `{wave}` exists already")
            if not db.execute("SELECT 1 FROM questionnaires WHERE id = ?", [questionnaire_id]).fetchone():
                raise StoreError(f"questionnaire `{questionnaire_id}` is not registered")
            db.execute("INSERT INTO waves (id, questionnaire_id, units, status, opens_at, closes_at, settings, "
                       "created_at, created_by) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)",
                       [wave, questionnaire_id, to_json(units), opens_at, closes_at,
                        to_json(settings or {}), now(), actor])
            audit(db, actor, "create", "wave", wave, {"questionnaire_id": questionnaire_id, "units": units})

    def update_wave(self, wave: str, actor: str, **fields: Any) -> None:
        """Change status, dates or settings of a wave (never its questionnaire)."""
        allowed = {"status", "opens_at", "closes_at", "settings", "units"}
        bad = set(fields) - allowed
        if bad:
            raise StoreError(f"cannot change {', '.join(sorted(bad))} of a wave")
        values = {k: to_json(v) if k in ("settings", "units") else v
                  for k, v in fields.items()}
        with self.tx() as db:
            sets = ", ".join(f"{k} = ?" for k in values)
            db.execute(f"UPDATE waves SET {sets} WHERE id = ?", [*values.values(), wave])
            audit(db, actor, "update", "wave", wave, fields)

    def wave(self, wave: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM waves WHERE id = ?", [wave])
        return decoded(rows[0], "units", "settings") if rows else None

    def wave_record(self, wave: str) -> Wave | None:
        """The wave as a typed record (settings parsed by section), None when there is none."""
        row = self.wave(wave)
        return Wave.from_row(row) if row else None

    def waves(self) -> list[dict[str, Any]]:
        return [self.wave(r["id"]) for r in self.query("SELECT id FROM waves ORDER BY id")]  # type: ignore[misc]
