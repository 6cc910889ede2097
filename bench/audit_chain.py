"""The price of the audit hash chain on PostgreSQL: serialised appends under concurrent writers.

    python bench/audit_chain.py --pg "postgresql://postgres@/survey?host=/tmp/pgsock" [--writers 8] [--per-writer 500]

Every chained append (survey.storage.chain.append, as `audit()` writes it) takes the
table's advisory lock, reads the head's hash, hashes the row and inserts it, so
concurrent writers queue for the lock until their transaction ends. The baseline is the
same rows inserted the same way (the store's transaction, one row per transaction, the
same JSON detail) into a twin table without hash columns, lock or head read: what an
unchained audit would cost. The schema `bench_store` of the database is recreated. After
the chained run the chain is walked: every row must be there and the chain intact.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.store_concurrency import fresh_target  # noqa: E402
from survey.bootstrap import init_store  # noqa: E402
from survey.storage.engine import audit, now, to_json  # noqa: E402
from survey.store import Store  # noqa: E402

PLAIN = ("CREATE TABLE audit_plain (id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, actor TEXT, action TEXT NOT NULL, "
         "entity TEXT NOT NULL, entity_id TEXT, detail TEXT)")


def detail(w: int, i: int) -> dict:
    return {"reason": "复核不合格", "writer": w, "i": i}


def writer(target: str, chained: bool, w: int, n: int, start: mp.Event, out: mp.Queue) -> None:
    store = Store(target)
    start.wait()
    for i in range(n):
        with store.tx() as db:
            if chained:
                audit(db, f"bench{w}", "exclude", "response", f"B{w:02d}{i:06d}", detail(w, i))
            else:
                db.execute("INSERT INTO audit_plain (at, actor, action, entity, entity_id, detail) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           [now(), f"bench{w}", "exclude", "response", f"B{w:02d}{i:06d}", to_json(detail(w, i))])
    out.put(n)


def run(target: str, chained: bool, writers: int, per_writer: int) -> float:
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=writer, args=(target, chained, w, per_writer, start, out)) for w in range(writers)]
    for p in procs:
        p.start()
    time.sleep(0.5 + writers / 20)  # let every writer open its connection
    t0 = time.perf_counter()
    start.set()
    done = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    return done / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", required=True, help="a postgresql:// URL (its schema bench_store is recreated)")
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--per-writer", type=int, default=500)
    args = ap.parse_args()
    target = fresh_target("postgresql", args.pg)
    store = init_store(target).store
    store.db.execute(PLAIN)
    before = store.db.scalar("SELECT count(*) FROM audit")
    total = args.writers * args.per_writer
    plain = run(target, False, args.writers, args.per_writer)
    chained = run(target, True, args.writers, args.per_writer)
    rows = store.db.scalar("SELECT count(*) FROM audit") - before
    check = next(c for c in store.chain_checks() if c.table == "audit")
    print(f"postgresql {args.writers} writers x {args.per_writer} audit rows, one transaction each "
          f"({os.cpu_count()} cores):")
    print(f"baseline (same inserts, twin table without chain): {plain:,.0f} rows/s")
    print(f"chained audit (advisory lock + head read + sha256): {chained:,.0f} rows/s "
          f"= {chained / plain:.2f}x the baseline; {rows} of {total} rows stored, chain "
          f"{'intact' if check.intact else f'BROKEN at row {check.broken_id}'} ({check.rows} rows walked)")


if __name__ == "__main__":
    main()
