"""Concurrent writers through the store API: nothing lost, nothing duplicated, how fast.

    SURVEY_DB=/tmp/bench.db python bench/store_concurrency.py --writers 8 --per-writer 1000
    python bench/store_concurrency.py --writers 8,32,64 --per-writer 200 \
        --pg "postgresql://postgres@/survey?host=/tmp/pg"     # SQLite and PostgreSQL side by side

Each writer process submits `per-writer` distinct responses (one transaction each, as a
pollster's submit would) and re-sends every tenth key to prove idempotency. The file
named by SURVEY_DB is recreated; with --pg, so is the schema `bench_store` of that
database, and each writer count runs on both engines. Per run:
`ENGINE W writers: stored S of T, lost L, duplicates D, X submissions/s`.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey.bootstrap import init_store  # noqa: E402
from survey.store import Store  # noqa: E402

RESEND_EVERY = 10


def record(writer: int, i: int) -> dict:
    key = f"bench:{writer}:{i}"
    return {"response_id": f"B{writer:02d}{i:06d}", "submit_key": key, "wave": "2025",
            "questionnaire_id": "default-2025", "unit": "思明区", "mode": "phone", "interviewer": f"P{writer:02d}",
            "source": "bench", "submitted_at": "2025-10-01T10:00:00", "duration_s": 300.0,
            "answers": {"age18": 1, "resident": 1, "air": 4, "water": 5, "overall": 4, "sex": "女",
                        "age_group": "60+", "education": "大专"}}


def writer(path: str, w: int, n: int, start: mp.Event, out: mp.Queue) -> None:
    store = Store(path)
    start.wait()
    created = resent = 0
    for i in range(n):
        created += store.insert_responses([record(w, i)], f"P{w:02d}")[0][1]
        if i % RESEND_EVERY == 0:  # the same submit key again: must store nothing
            resent += 1
            created += store.insert_responses([record(w, i)], f"P{w:02d}")[0][1]
    out.put((created, resent))


def fresh_target(engine: str, pg: str | None) -> str:
    """An empty store of the engine: the SQLite file recreated, or the PostgreSQL schema recreated."""
    if engine == "sqlite":
        path = Path(os.environ.get("SURVEY_DB", "/tmp/bench_store.db"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return str(path)
    import sqlalchemy as sa
    eng = sa.create_engine(pg.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS bench_store CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA bench_store")
    eng.dispose()
    return pg + ("&" if "?" in pg else "?") + "options=-csearch_path%3Dbench_store"


def run(engine: str, target: str, writers: int, per_writer: int) -> None:
    init_store(target)
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=writer, args=(target, w, per_writer, start, out)) for w in range(writers)]
    for p in procs:
        p.start()
    time.sleep(0.5 + writers / 20)  # let every writer open its connection
    t0 = time.perf_counter()
    start.set()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    total = writers * per_writer
    store = Store(target)
    stored = store.db.scalar("SELECT count(*) FROM responses WHERE source = 'bench'")
    distinct = store.db.scalar("SELECT count(DISTINCT submit_key) FROM responses WHERE source = 'bench'")
    created = sum(c for c, _ in results)
    resent = sum(r for _, r in results)
    print(f"{engine:10s} {writers:3d} writers: stored {stored} of {total}, lost {total - distinct}, "
          f"duplicates {stored - distinct}, {(total + resent) / elapsed:,.0f} submissions/s "
          f"({resent} re-sent keys, created-reported {created}, {elapsed:.2f} s, {os.cpu_count()} cores)",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writers", default="8", help="writer processes; a comma list runs each count")
    ap.add_argument("--per-writer", type=int, default=1000)
    ap.add_argument("--pg", help="a postgresql:// URL: run every count on PostgreSQL too")
    args = ap.parse_args()
    engines = ["sqlite"] + (["postgresql"] if args.pg else [])
    ctx = mp.get_context("fork")
    for writers in [int(w) for w in args.writers.split(",")]:
        for engine in engines:
            # each run in its own process: no connection or migrated-store cache outlives its store
            p = ctx.Process(target=run, args=(engine, fresh_target(engine, args.pg), writers, args.per_writer))
            p.start()
            p.join()


if __name__ == "__main__":
    main()
