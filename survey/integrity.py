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


def verify_store(store: Store, actor: Account, wave: str | None = None) -> IntegrityReport:
    """Walk the chains, check the publications' pins and recompute the publications (of `wave`, or all)."""
    report = IntegrityReport(store.chain_checks())
    published = sorted(store.published_scores(wave), key=lambda p: p["id"])
    for pub in published:
        for table, head in ((pub.get("snapshot") or {}).get("chains") or {}).items():
            if head["id"] and store.chain_row_hash(table, head["id"]) != head["hash"]:
                report.pins.append(PinCheck(int(pub["id"]), table, int(head["id"])))
    report.publications = [verify_publication(store, actor, pub) for pub in published]
    return report


def _both(key: str, /, **values: Any) -> str:
    """A line in Chinese and English (the CLI is read by operators of either)."""
    return f"{t(key, 'zh', **values)} / {t(key, 'en', **values)}"


def describe(report: IntegrityReport) -> tuple[list[str], list[str]]:
    """(lines that hold, lines that do not) for the CLI, each in Chinese and English."""
    good: list[str] = []
    bad: list[str] = []
    for chain in report.chains:
        table = chain.table
        if chain.intact:
            good.append(_both("integrity.chain_ok", table=table, rows=chain.rows, head=chain.head[:12]))
        else:
            bad.append(_both(f"integrity.chain_{chain.problem}", table=table, id=chain.broken_id))
    for pin in report.pins:
        bad.append(_both("integrity.pin_broken", id=pin.publication, table=pin.table, row=pin.row_id))
    for pub in report.publications:
        names = {"id": pub.id, "wave": pub.wave, "config": pub.config_name}
        if pub.ok:
            good.append(_both("integrity.publication_ok" if pub.snapshot else "integrity.publication_ok_current",
                              **names))
            continue
        d = pub.detail
        bad.append(_both(f"integrity.publication_{pub.problem}", **names, unit=d.get("unit", ""),
                         field=d.get("field", ""), published=d.get("published"), recomputed=d.get("recomputed"),
                         missing=d.get("missing", 0)))
    return good, bad
