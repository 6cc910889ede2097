"""What the supervisor dashboard computes for one wave of 100,000 responses, and paper keying per form.

    python bench/supervision.py [--n 100000] [--forms 200]

Builds a temporary store with `--n` demo responses (one firm, 24 pollsters), then times
the dashboard's calls on a fresh visit: progress (SQL counts), the back-check list
(draw + latest outcomes), the paper mismatch queue; baseline: reading the firm's
responses as the other pages do (`visible_responses`, which decodes every row).
Then keys `--forms` paper forms twice (double entry) and reports the time per keying.
Target: the dashboard under 1 s, a keying under 50 ms.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(label: str, fn, *args, **kw):
    start = time.perf_counter()
    out = fn(*args, **kw)
    took = time.perf_counter() - start
    print(f"{label:<44} {took * 1000:9.1f} ms")
    return out, took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--forms", type=int, default=200)
    args = ap.parse_args()
    os.environ["SURVEY_DB"] = str(Path(tempfile.mkdtemp()) / "bench.db")
    from survey.auth import load_account
    from survey.backcheck import backcheck_list
    from survey.bootstrap import init_store
    from survey.demo import ensure_demo_accounts, store_demo
    from survey.paper import key_paper, mismatch_queue
    from survey.responses import visible_responses
    from survey.supervision import progress
    store = init_store().store
    ensure_demo_accounts(store, "2025", "bench-pass-1")
    store_demo(store, "2025", args.n, 1)
    sup, p1, p2 = (load_account(store, u) for u in ("supervisor", "P01", "P02"))
    print(f"wave 2025: {store.count_responses('2025'):,} responses")
    _, base = timed("baseline: visible_responses (decode rows)", visible_responses, store, sup, "2025")
    prog, t1 = timed("progress by unit / day / pollster", progress, store, sup, "2025")
    items, t2 = timed("back-check list (10 % per pollster)", backcheck_list, store, sup, "2025")
    _, t3 = timed("paper mismatch queue", mismatch_queue, store, sup, "2025")
    total = t1 + t2 + t3
    print(f"{'dashboard total':<44} {total * 1000:9.1f} ms  ({base / total:.1f}x faster than the baseline read alone)")
    print(f"back-check list: {len(items):,} of {prog.total:,} completes")
    answers = {"age18": 1, "resident": 1, "air": 4, "water": 5, "sea": 9, "noise": 3, "waste": 4, "greenery": 5,
               "rural": 4, "enforcement": 3, "publicity": 4, "overall": 4, "change": 3, "sex": "女",
               "age_group": "40-49", "education": "大专"}
    before = store.count_responses("2025")
    start = time.perf_counter()
    for i in range(args.forms):
        pid = f"B-{i:06d}"
        key_paper(store, p1, "2025", pid, unit="思明区", answers=answers, entry_key=f"b1{i}", double_entry=True)
        key_paper(store, p2, "2025", pid, unit="思明区", answers={**answers, "air": 4 if i % 10 else 2},
                  entry_key=f"b2{i}")
    per = (time.perf_counter() - start) / (2 * args.forms)
    print(f"{'paper keying, per entry (double entry)':<44} {per * 1000:9.1f} ms  "
          f"({args.forms} forms: {store.count_responses('2025') - before} stored, "
          f"{len(mismatch_queue(store, sup, '2025'))} mismatched)")


if __name__ == "__main__":
    main()
