"""The 录音复核 queue: sampling 100,000 completes at 30 % per pollster, against pandas' groupby sample.

    python bench/review_queue.py [--n 100000] [--pollsters 200] [--repeat 5] [--store [PATH]]

Sampling alone: `survey.recordings.review_sample` (bottom-k per pollster by a keyed
sha256, ⌈30 % × n⌉ each, at least one, the same in any row order) on `--n`
(response_id, pollster) pairs; baseline: `df.groupby("interviewer").sample(frac=0.3,
random_state=seed)`, the plain pandas way, which rounds each pollster's share to the
nearest integer (a pollster with 1 complete gets none) and depends on the row order.
Best of `--repeat` runs each. With `--store`, also builds a demo store of `--n` responses
and times the whole `review_queue` call a supervisor's page makes (store read, draw,
latest outcomes, recording counts); `--store PATH` times it on an existing demo store
instead (`python -m survey demo --n 100000 --seed 1` with SURVEY_DB=PATH), read only.
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


def best(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--pollsters", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--store", nargs="?", const="", default=None, metavar="PATH",
                    help="also time review_queue: on a new demo store of --n responses, or on the demo store PATH")
    args = ap.parse_args()
    import numpy as np
    import pandas as pd
    from survey.recordings import review_sample
    rng = np.random.default_rng(1)
    pollsters = [f"P{i:03d}" for i in rng.integers(0, args.pollsters, args.n)]
    pairs = [(f"R{i:012X}", p) for i, p in enumerate(pollsters)]
    frame = pd.DataFrame(pairs, columns=["response_id", "interviewer"])
    ours, t_ours = best(lambda: review_sample(pairs, "review:2025", 0.30), args.repeat)
    base, t_base = best(lambda: frame.groupby("interviewer").sample(frac=0.30, random_state=2025), args.repeat)
    print(f"{args.n:,} completes, {frame['interviewer'].nunique()} pollsters, rate 30 %")
    print(f"{'review_sample (bottom-k keyed sha256)':<46} {t_ours * 1000:8.1f} ms  {len(ours):,} drawn")
    print(f"{'baseline: pandas groupby().sample(frac=0.3)':<46} {t_base * 1000:8.1f} ms  {len(base):,} drawn")
    print(f"{'ratio ours / baseline':<46} {t_ours / t_base:8.2f}x")
    shuffled = frame.sample(frac=1, random_state=3)
    moved = set(shuffled.groupby("interviewer").sample(frac=0.30, random_state=2025)["response_id"]) != set(
        base["response_id"])
    same = review_sample(list(shuffled.itertuples(index=False, name=None)), "review:2025", 0.30) == ours
    print(f"row order reshuffled: ours the same sample: {same}; baseline the same sample: {not moved}")
    if args.store is None:
        return
    from survey.auth import load_account
    from survey.bootstrap import init_store
    from survey.demo import ensure_demo_accounts, store_demo
    from survey.recordings import review_queue
    if args.store:
        if not Path(args.store).is_file():
            sys.exit(f"--store: no store file {args.store}")
        os.environ["SURVEY_DB"] = args.store
        store = init_store().store
        if store.account("supervisor") is None:
            sys.exit(f"--store: {args.store} has no demo accounts (python -m survey demo)")
    else:
        os.environ["SURVEY_DB"] = str(Path(tempfile.mkdtemp()) / "bench.db")
        store = init_store().store
        ensure_demo_accounts(store, "2025", "bench-pass-1")
        store_demo(store, "2025", args.n, 1)
    sup = load_account(store, "supervisor")
    items, took = best(lambda: review_queue(store, sup, "2025"), max(1, args.repeat // 2))
    print(f"{'review_queue on the demo store':<46} {took * 1000:8.1f} ms  {len(items):,} queued of "
          f"{store.count_responses('2025'):,} responses")


if __name__ == "__main__":
    main()
