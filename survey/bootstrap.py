"""First use of a store: schema, shipped questionnaires, a default wave, an admin.

Run by `python -m survey init` and by the app on start, so a fresh clone works with
either. Idempotent: a second run changes nothing.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import Invalid
from survey import questionnaire as qmod
from survey.auth import SYSTEM, create_account, generate_password
from survey.contacts import store_secret
from survey.config import DEFAULT_QUESTIONNAIRE, DEFAULT_WAVE, QUESTIONNAIRE_DIR, XIAMEN_UNITS
from survey.store import Store, StoreError, get_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreSummary:
    """What `python -m survey init` reports of a store."""
    label: str
    schema_version: int
    waves: int
    responses: int


@dataclass
class InitResult:
    store: Store
    created_admin_password: str | None  # set only when this call created the admin
    registered: list[str]
    skipped: list[str] = field(default_factory=list)  # one line per questionnaire file left out


def register_questionnaire(store: Store, path: Path, actor: str = "system") -> bool:
    """Validate a questionnaire file and register it (refused if its id holds other content)."""
    qn = qmod.load(path)
    return store.add_questionnaire(qn.id, qn.version, qn.title, qn.model_dump_json(by_alias=True),
                                   qn.content_hash(), actor)


def register_shipped(store: Store) -> tuple[list[str], list[str]]:
    """Register every file of data/questionnaires/, each on its own.

    A bad file (invalid, GBK-encoded, or changed after registration) is named and left
    out; it never blocks the other questionnaires, the waves that use them, or /survey.
    """
    registered, skipped = [], []
    for path in sorted(QUESTIONNAIRE_DIR.glob("*.yaml")):
        try:
            if register_questionnaire(store, path):
                registered.append(path.stem)
        except qmod.QuestionnaireError as err:
            skipped.append(f"questionnaire file {path} left out: {err.problems[0]}")
        except StoreError as err:
            skipped.append(f"questionnaire file {path} left out: {str(err).splitlines()[0]}")
    for line in skipped:
        log.warning(line)
    return registered, skipped


def open_store(path: str | Path | None = None) -> Store:
    """The store of `SURVEY_DB` (or `path`) as it is, for a caller outside the pages' session
    (the login cookie route): pages and ui/ open no store module themselves."""
    return get_store(path)


def init_store(path: str | Path | None = None) -> InitResult:
    store = get_store(path)
    # the contact-data key first, outside the database: created once with a warning on a store
    # without contacts; a missing or wrong key on a store with contacts stops here (KeyProblem)
    store_secret(store)
    registered, skipped = register_shipped(store)
    if not store.waves() and store.questionnaire_spec(DEFAULT_QUESTIONNAIRE) is not None:
        store.add_wave(DEFAULT_WAVE, DEFAULT_QUESTIONNAIRE, list(XIAMEN_UNITS), "system")
    password = None
    if store.count_accounts() == 0:
        password = os.environ.get("SURVEY_ADMIN_PASSWORD") or generate_password()
        create_account(store, SYSTEM, "admin", "admin", password, display_name="系统管理员")
        if os.environ.get("SURVEY_ADMIN_PASSWORD"):
            password = None  # the operator chose it; do not echo it back
    return InitResult(store, password, registered, skipped)


def questionnaire_for_wave(store: Store, wave: str) -> qmod.Questionnaire:
    w = store.wave(wave)
    if w is None:
        raise KeyError(wave)
    spec = store.questionnaire_spec(w["questionnaire_id"])
    assert spec is not None
    return qmod.from_json(spec)


def store_summary(store: Store) -> StoreSummary:
    return StoreSummary(store.target.label, store.schema_version(), len(store.waves()), store.count_responses())


def backup_store(store: Store, path: str | Path) -> None:
    """An online copy of the whole store into `path` (a SQLite file), consistent while others write."""
    store.backup(path)


def copy_between(source: str | None, dest: str) -> Mapping[str, int]:
    """Copy every table of the store at `source` (default SURVEY_DB) into the empty store at `dest`,
    a path or URL of either engine; returns the rows per table, verified on both sides."""
    from survey.storage.copy import copy_store
    from survey.storage.engine import resolve
    src, dst = resolve(source), resolve(dest)
    if src.url == dst.url:
        raise Invalid("the destination is the source store itself", field="to", code="copy_onto_itself")
    if not src.url.startswith("postgresql") and not src.path.exists():
        raise Invalid(f"no store at {src.path}", field="from", code="store_not_found")
    return copy_store(Store(src), Store(dst))
