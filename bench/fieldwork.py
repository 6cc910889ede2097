"""Fieldwork at city scale: importing a contact list and an attempts file, AAPOR rates, the next case.

    python bench/fieldwork.py [--cases 20000] [--attempts 100000]

Builds a temporary store, imports `--cases` phone cases (each number encrypted, hashed,
masked), imports `--attempts` attempts (DESIGN format) twice (the second stores nothing),
computes the rates table by unit and by day from the store, and times `next_case` for a
pollster holding 1,000 cases. Targets: rates under 2 s, next case under 200 ms.
"""
from __future__ import annotations

import argparse
import csv
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
    print(f"{label:<52} {took * 1000:9.1f} ms")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--attempts", type=int, default=100_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-fieldwork-"))
    os.environ["SURVEY_DB"] = str(tmp / "bench.db")
    os.environ["SURVEY_ADMIN_PASSWORD"] = "bench-pass-1"
    os.environ.setdefault("SURVEY_SECRET_KEY", "bench secret passphrase")
    import numpy as np

    from survey.auth import SYSTEM, assign, create_account
    from survey.bootstrap import init_store
    from survey.config import XIAMEN_UNITS
    from survey.aapor import rates_table
    from survey.fieldwork import assign_cases, attempts_frame, import_attempts, import_cases, next_case
    store = init_store().store
    rng = np.random.default_rng(1)
    units = list(XIAMEN_UNITS)
    cases_csv = tmp / "cases.csv"
    with cases_csv.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "unit", "mode", "phone", "age_band"])
        for i in range(args.cases):
            w.writerow([f"C{i:06d}", units[i % 6], "phone", f"13{rng.integers(3, 10)}{i:08d}", "x"])
    timed(f"import_cases ({args.cases:,} cases)", import_cases, store, SYSTEM, cases_csv, "2025")
    timed(f"import_cases again (stores nothing)", import_cases, store, SYSTEM, cases_csv, "2025")
    codes = ["1.1", "1.2", "2.11", "2.12", "2.21", "2.33", "3.12", "3.13", "3.21", "4.31", "4.70"]
    att_csv = tmp / "attempts.csv"
    with att_csv.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "wave", "unit", "mode", "interviewer", "attempted_at", "disposition", "response_id"])
        for i in range(args.attempts):
            c = int(rng.integers(0, args.cases))
            w.writerow([f"C{c:06d}", "2025", units[c % 6], "phone", f"P{c % 24:02d}",
                        f"2025-10-{1 + i * 30 // args.attempts:02d}T{9 + i % 10:02d}:{i % 60:02d}:00",
                        codes[int(rng.integers(0, len(codes)))], ""])
    timed(f"import_attempts ({args.attempts:,} rows)", import_attempts, store, att_csv, "2025", "system")
    timed("import_attempts again (stores nothing)", import_attempts, store, att_csv, "2025", "system")
    frame = timed("attempts_frame (from the store)", attempts_frame, store, SYSTEM, "2025")
    timed("rates_table by unit", rates_table, frame, "unit")
    timed("rates_table by day", rates_table, frame, "day")
    create_account(store, SYSTEM, "pb", "pollster", "bench-pass-1", firm="F")
    assign(store, SYSTEM, "pb", wave="2025")
    from survey.auth import load_account
    pb = load_account(store, "pb")
    assign_cases(store, SYSTEM, "2025", "pb", case_ids=[f"C{i:06d}" for i in range(1000)])
    timed("next_case (pollster with 1,000 cases)", next_case, store, pb, "2025")


if __name__ == "__main__":
    main()
