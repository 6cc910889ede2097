"""`python -m survey verify`: do the records still hold?

Three checks, in this order:
- each hash chain (audit, exclusions, published scores) is walked from its first row:
  the first row whose content no longer matches its hash, or whose link to the row
  before is broken (a row deleted or slipped in), is named;
- each publication's pinned chain heads (the audit and exclusion rows that were last
  when it was published) are still in their chains with the same hash, so the past of
  a publication cannot be rewritten and re-hashed from there on unnoticed;
- each publication is recomputed from the responses it scored, with its stored config
  and population, and every figure compared with the published one
  (survey.publishing.verify_publication).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from survey.auth import Account
from survey.i18n import t
from survey.publishing import PublicationCheck, verify_publication
from survey.storage.chain import ChainCheck
from survey.store import Store


@dataclass(frozen=True)
class PinCheck:
    """A publication's pinned chain head that is no longer in its chain as it was."""
    publication: int
    table: str
    row_id: int


@dataclass
class IntegrityReport:
    chains: list[ChainCheck]
    pins: list[PinCheck] = field(default_factory=list)
    publications: list[PublicationCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.intact for c in self.chains) and not self.pins and all(p.ok for p in self.publications)


def _pins(store: Store, pub: dict[str, Any]) -> list[PinCheck]:
    """The publication's pinned chain heads that are no longer in their chains as they were."""
    return [PinCheck(int(pub["id"]), table, int(head["id"]))
            for table, head in ((pub.get("snapshot") or {}).get("chains") or {}).items()
            if head["id"] and store.chain_row_hash(table, head["id"]) != head["hash"]]


def verify_store(store: Store, actor: Account, wave: str | None = None) -> IntegrityReport:
    """Walk the chains, check the publications' pins and recompute the publications (of `wave`, or all)."""
    report = IntegrityReport(store.chain_checks())
    published = sorted(store.published_scores(wave), key=lambda p: p["id"])
    for pub in published:
        report.pins.extend(_pins(store, pub))
    report.publications = [verify_publication(store, actor, pub) for pub in published]
    return report


def verify_one(store: Store, actor: Account, pub: dict[str, Any]) -> IntegrityReport:
    """`survey verify` for one publication (the analysis page's button): every chain, this
    publication's pins, and its recomputation from its own snapshot, config and population."""
    return IntegrityReport(store.chain_checks(), _pins(store, pub), [verify_publication(store, actor, pub)])


def _both(key: str, /, **values: Any) -> str:
    """A line in Chinese and English (the CLI is read by operators of either)."""
    return f"{t(key, 'zh', **values)} / {t(key, 'en', **values)}"


def describe(report: IntegrityReport, lang: str | None = None) -> tuple[list[str], list[str]]:
    """(lines that hold, lines that do not): in Chinese and English for the CLI, or in `lang` only."""
    def line(key: str, /, **values: Any) -> str:
        return t(key, lang, **values) if lang else _both(key, **values)
    good: list[str] = []
    bad: list[str] = []
    for chain in report.chains:
        table = chain.table
        if chain.intact:
            good.append(line("integrity.chain_ok", table=table, rows=chain.rows, head=chain.head[:12]))
        else:
            bad.append(line(f"integrity.chain_{chain.problem}", table=table, id=chain.broken_id))
    for pin in report.pins:
        bad.append(line("integrity.pin_broken", id=pin.publication, table=pin.table, row=pin.row_id))
    for pub in report.publications:
        names = {"id": pub.id, "wave": pub.wave, "config": pub.config_name}
        if pub.ok:
            good.append(line("integrity.publication_ok" if pub.snapshot else "integrity.publication_ok_current",
                             **names))
            continue
        d = pub.detail
        bad.append(line(f"integrity.publication_{pub.problem}", **names, unit=d.get("unit", ""),
                        field=d.get("field", ""), published=d.get("published"), recomputed=d.get("recomputed"),
                        missing=d.get("missing", 0)))
    return good, bad
