"""Concurrent writers through the store API: nothing lost, nothing duplicated, how fast.

    SURVEY_DB=/tmp/bench.db python bench/store_concurrency.py --writers 8 --per-writer 1000

Each writer process submits `per-writer` distinct responses (one transaction each, as a
pollster's submit would) and re-sends every tenth key to prove idempotency. The file
named by SURVEY_DB is recreated. Last line:
`stored S of T, lost L, duplicates D, X submissions/s`.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--per-writer", type=int, default=1000)
    args = ap.parse_args()
    path = Path(os.environ.get("SURVEY_DB", "/tmp/bench_store.db"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    init_store(path)
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=writer, args=(str(path), w, args.per_writer, start, out))
             for w in range(args.writers)]
    for p in procs:
        p.start()
    time.sleep(0.5)  # let every writer open its connection
    t0 = time.perf_counter()
    start.set()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    total = args.writers * args.per_writer
    store = Store(path)
    stored = store.db.execute("SELECT count(*) FROM responses WHERE source = 'bench'").fetchone()[0]
    distinct = store.db.execute("SELECT count(DISTINCT submit_key) FROM responses WHERE source = 'bench'"
                                ).fetchone()[0]
    created = sum(c for c, _ in results)
    resent = sum(r for _, r in results)
    submissions = total + resent
    print(f"{args.writers} writers x {args.per_writer}, {resent} re-sent keys, {elapsed:.2f} s, "
          f"created-reported {created}, {os.cpu_count()} cores")
    print(f"stored {stored} of {total}, lost {total - distinct}, duplicates {stored - distinct}, "
          f"{submissions / elapsed:,.0f} submissions/s")


if __name__ == "__main__":
    main()
