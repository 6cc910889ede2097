"""A shared case queue: concurrent pollsters each get distinct cases (FOR UPDATE SKIP LOCKED on PostgreSQL)."""
from __future__ import annotations

import multiprocessing as mp

from survey.bootstrap import init_store
from survey.store import Store

POLLSTERS, CASES = 16, 500


def _cases(n: int) -> list[dict]:
    return [{"wave": "2025", "case_id": f"C{i:04d}", "unit": "思明区", "mode": "phone", "contact_kind": "phone",
             "contact_enc": f"sealed-{i}", "contact_hash": f"h{i}", "contact_mask": "138****0000", "strata": {}}
            for i in range(n)]


def _claim_all(args: tuple[str, int]) -> list[str]:
    target, k = args
    store = Store(target)
    got = []
    while (case_id := store.claim_case("2025", f"p{k:02d}", "A", f"p{k:02d}")) is not None:
        got.append(case_id)
    return got


def test_sixteen_pollsters_on_500_cases_each_case_to_exactly_one(db_file):
    store = init_store(db_file).store
    assert store.add_cases(_cases(CASES), "admin") == CASES
    with mp.get_context("fork").Pool(POLLSTERS) as pool:
        handed = pool.map(_claim_all, [(str(db_file), k) for k in range(POLLSTERS)])
    every = [c for got in handed for c in got]
    assert len(every) == CASES and len(set(every)) == CASES  # none lost, none handed twice
    owners = {c["case_id"]: c["pollster"] for c in Store(db_file).cases("2025")}
    for k, got in enumerate(handed):
        assert all(owners[c] == f"p{k:02d}" for c in got)  # the store agrees with what each was told
    assert sum(1 for got in handed if got) > 1  # the pollsters really ran side by side


def test_next_case_from_the_pool_only_when_asked(store, accounts):
    store.add_cases(_cases(3), "admin")
    from survey.fieldwork import next_case
    assert next_case(store, accounts["p1"], "2025") is None  # nothing assigned: the default is unchanged
    first = next_case(store, accounts["p1"], "2025", pool=True)
    assert first["case_id"] == "C0000" and first["reason"] == "new"
    assert next_case(store, accounts["p1"], "2025")["case_id"] == "C0000"  # now the pollster's own
    assert next_case(store, accounts["p2"], "2025", pool=True)["case_id"] == "C0001"
