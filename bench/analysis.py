"""What the analysis page computes for one wave of 100,000 responses, timed step by step.

    python bench/analysis.py [--n 100000]

Builds a temporary store with `--n` demo responses, then runs the functions the page
calls on a fresh visit (the page caches the run afterwards): read the wave, weight +
estimate + score + mode comparison, key drivers, the Excel report, the planner.
Target: the whole under 3 s on 2 cores.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    os.environ["SURVEY_DB"] = str(Path(tmp) / "bench.db")
    from analysis.drivers import key_drivers
    from analysis.io import read_population
    from analysis.planning import achieved_margins, plan_table
    from analysis.score_run import write_run_report
    from analysis.scoring import load_config
    from survey import publishing
    from survey.auth import SYSTEM
    from survey.bootstrap import init_store
    from survey.config import POPULATION_DIR, SCORING_DIR
    from survey.demo import store_demo

    store = init_store().store
    t0 = time.perf_counter()
    store_demo(store, "2025", args.n, 1)
    print(f"setup: {args.n:,} demo responses stored in {time.perf_counter() - t0:.1f} s (not part of the page)")
    import statsmodels.api  # noqa: F401  (a running server imported it at its first analysis)
    population = read_population(POPULATION_DIR / "xiamen-2020.csv")
    config = load_config(SCORING_DIR / "default.yaml")
    steps: list[tuple[str, float]] = []

    def step(name, fn):
        start = time.perf_counter()
        result = fn()
        steps.append((name, time.perf_counter() - start))
        return result

    run = step("read wave + weight + estimate + score + modes",
               lambda: publishing.compute_for_wave(store, SYSTEM, "2025", population, config))
    step("key drivers (weighted logistic regression)",
         lambda: key_drivers(run.extra["data"], run.extra["weights"]["weight"]))
    step("Excel report", lambda: write_run_report(run, io.BytesIO(), list(run.extra_comparisons())))
    step("planner", lambda: plan_table(list(run.scores["unit"]), 0.9, 0.03, 1.3, achieved_margins(run.estimates)))
    for name, seconds in steps:
        print(f"  {name:<48} {seconds:6.2f} s")
    total = sum(s for _, s in steps)
    print(f"analysis page on {args.n:,} responses: {total:.2f} s (target < 3 s: {3 / total:.1f}x headroom)")


if __name__ == "__main__":
    main()
