"""Raking speed: the project against a plain numpy row-level IPF and R's survey::rake.

    python bench/rake.py [--rows 1000000] [--r-rows 1000000]

All three rake the same rows (6 units × sex × age_group) to the same margins; the
project's weights are checked against the numpy loop's. Ratios are from this one run.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analysis.weighting import rake  # noqa: E402

UNITS = ["U1", "U2", "U3", "U4", "U5", "U6"]
SEXES = ["M", "F"]
AGES = ["18-29", "30-39", "40-49", "50-59", "60+"]


def make(rows: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"unit": rng.choice(UNITS, rows), "sex": rng.choice(SEXES, rows, p=[0.42, 0.58]),
                          "age_group": rng.choice(AGES, rows, p=[0.1, 0.15, 0.2, 0.25, 0.3])})
    frame.insert(0, "response_id", np.arange(rows).astype(str))
    pop = []
    for i, u in enumerate(UNITS):
        total = 300_000 + 100_000 * i
        pop += [{"unit": u, "variable": "sex", "category": c, "population": total * s}
                for c, s in zip(SEXES, (0.51, 0.49))]
        pop += [{"unit": u, "variable": "age_group", "category": c, "population": total * s}
                for c, s in zip(AGES, (0.22, 0.24, 0.2, 0.17, 0.17))]
    return frame, pd.DataFrame(pop)


def numpy_ipf(frame: pd.DataFrame, pop: pd.DataFrame, tol: float = 1e-6) -> np.ndarray:
    """The textbook loop: every sweep touches every row."""
    w = np.ones(len(frame))
    codes, targets = [], []
    for var in ("sex", "age_group"):
        key = frame["unit"] + "|" + frame[var]
        p = pop[pop["variable"] == var]
        labels = (p["unit"] + "|" + p["category"]).tolist()
        codes.append(pd.Categorical(key, categories=labels).codes)
        targets.append(p["population"].to_numpy())
    total = max(t.max() for t in targets) * 10
    for _ in range(100):
        for c, t in zip(codes, targets):
            w *= (t / np.bincount(c, weights=w, minlength=len(t)))[c]
        if max(np.abs(np.bincount(c, weights=w, minlength=len(t)) - t).max() for c, t in zip(codes, targets)) \
                <= tol * total:
            break
    return w


R_SCRIPT = """suppressMessages(library(survey))
d <- read.csv("rows.csv"); pop <- read.csv("pop.csv")
t0 <- Sys.time()
des <- svydesign(ids = ~1, strata = ~unit, weights = ~1, data = d)
ps <- list(); fs <- list()
for (v in c("sex", "age_group")) { p <- pop[pop$variable == v, c("unit", "category", "population")];
  names(p) <- c("unit", v, "Freq"); ps[[v]] <- p; fs[[v]] <- as.formula(paste("~unit +", v)) }
r <- rake(des, fs, ps, control = list(epsilon = 1e-6, maxit = 100))
cat(as.numeric(difftime(Sys.time(), t0, units = "secs")), "\\n")
"""


def time_r(frame: pd.DataFrame, pop: pd.DataFrame) -> float | None:
    if not shutil.which("Rscript"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        frame.to_csv(Path(tmp) / "rows.csv", index=False)
        pop.to_csv(Path(tmp) / "pop.csv", index=False)
        (Path(tmp) / "b.R").write_text(R_SCRIPT)
        done = subprocess.run(["Rscript", "b.R"], cwd=tmp, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-500:], file=sys.stderr)
            return None
        return float(done.stdout.split()[-1])  # rake time only, not reading the CSV


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--r-rows", type=int, default=None, help="rows for R (default: the same)")
    args = ap.parse_args()
    frame, pop = make(args.rows)
    ours = best_of(lambda: rake(frame, pop))
    loop = best_of(lambda: numpy_ipf(frame, pop))
    w_ours, _ = rake(frame, pop)
    agree = np.max(np.abs(w_ours.to_numpy() / numpy_ipf(frame, pop) - 1))
    r_rows = args.r_rows or args.rows
    r_frame, _ = make(r_rows) if r_rows != args.rows else (frame, pop)
    r_time = time_r(r_frame, pop)
    print(f"rows {args.rows:,}: project {ours:.3f} s, numpy row-level IPF {loop:.3f} s "
          f"(weights agree to {agree:.1e})")
    line = f"project vs numpy loop: {loop / ours:.1f}x faster (target: no slower than 0.5x)"
    if r_time is not None:
        scale = args.rows / r_rows
        print(f"R survey::rake on {r_rows:,} rows: {r_time:.2f} s" +
              (f" (x{scale:g} rows => ~{r_time * scale:.1f} s if linear)" if scale != 1 else ""))
        line += f"; project vs R: {r_time * scale / ours:.0f}x faster (target >= 20x)"
    else:
        line += "; R not available"
    print(line)


if __name__ == "__main__":
    main()
