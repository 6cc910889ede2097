"""The next case under call scheduling rules, on the demo store, against a single indexed SQL query.

    python bench/scheduling.py [--n 20000] [--cases 1000] [--repeat 30] [--pg URL | --store PATH]

Builds a demo store (`python -m survey demo --n N`: responses, demo accounts, attempts), gives
pollster P01 `--cases` phone cases with histories (a third never tried, the others one to four
non-contacts in both slots, busy lines, appointments, closed cases), sets the wave's rules
(weekdays 18:00-21:00, weekends 09:00-21:00, slots 傍晚 / 晚上, busy redial 15 min, 5 attempts)
and times `next_case` at a moment inside the window (median of `--repeat` calls). With
`--store PATH` it starts from a copy of an existing SQLite demo store instead of building one
(the file itself is left as it was).

Baseline (named, strong): one indexed SQL query that picks the pollster's open case with the
fewest attempts — what a scheduler without rules costs at the least (no windows, no slots, no
appointments). The ratio says what the rules add; the target is next_case under 200 ms.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASELINE_SQL = """SELECT c.case_id FROM cases c
    LEFT JOIN attempts a ON a.wave = c.wave AND a.case_id = c.case_id
    WHERE c.wave = ? AND c.pollster = ? AND c.mode = 'phone'
    GROUP BY c.case_id
    HAVING coalesce(max(CASE WHEN a.disposition LIKE '1.%' OR a.disposition LIKE '4.%'
                             OR a.disposition LIKE '2.1%' OR a.disposition LIKE '2.3%' THEN 1 END), 0) = 0
    ORDER BY count(a.id), c.case_id LIMIT 1"""


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000, help="demo responses")
    ap.add_argument("--cases", type=int, default=1000, help="cases of the pollster")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--pg", help="a PostgreSQL URL (an empty database) instead of a SQLite file")
    ap.add_argument("--store", metavar="PATH", help="a SQLite demo store to copy instead of building one")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-scheduling-"))
    os.environ["SURVEY_DB"] = args.pg or str(tmp / "bench.db")
    if args.store:
        import sqlite3
        if args.pg or not Path(args.store).is_file():
            sys.exit("--store: a SQLite demo store file, not with --pg")
        with sqlite3.connect(args.store) as src, sqlite3.connect(tmp / "bench.db") as dst:
            src.backup(dst)  # the copy takes the cases; the demo store stays demo-only
    os.environ["SURVEY_ADMIN_PASSWORD"] = "bench-pass-1"
    os.environ.setdefault("SURVEY_SECRET_KEY", "bench secret passphrase")
    import numpy as np

    from survey.auth import SYSTEM, load_account
    from survey.bootstrap import init_store
    from survey.demo import ensure_demo_accounts, store_demo, store_demo_attempts
    from survey.fieldwork import assign_cases, import_cases, next_case
    from survey.scheduling import parse_schedule
    store = init_store().store
    if not args.store:
        ensure_demo_accounts(store, "2025", "demo-pass-1")
        store_demo(store, "2025", args.n, 1)
        store_demo_attempts(store, "2025", 1)
    rng = np.random.default_rng(7)
    path = tmp / "cases.csv"
    ids = [f"B{i:05d}" for i in range(args.cases)]
    with path.open("w", encoding="utf-8") as fh:
        fh.write("case_id,unit,mode,phone,line_type\n")
        fh.writelines(f"{c},思明区,phone,139{i:08d},mobile\n" for i, c in enumerate(ids))
    import_cases(store, SYSTEM, path, "2025")
    assign_cases(store, SYSTEM, "2025", "P01", case_ids=ids)
    rules = parse_schedule({"weekday": "18:00-21:00", "weekend": "09:00-21:00", "busy_redial_minutes": 15,
                            "max_attempts": 5, "slots": [{"name": "傍晚", "hours": "18:00-19:30"},
                                                         {"name": "晚上", "hours": "19:30-21:00"}]})
    w = store.wave("2025")
    store.update_wave("2025", "bench", settings={**w["settings"], "schedule": rules.to_settings()})
    moment = dt.datetime(2025, 6, 4, 19, 40)  # a Wednesday evening, slot 晚上
    attempts = []
    for i, case_id in enumerate(ids):
        kind = i % 9
        tries = 0 if kind < 3 else int(rng.integers(1, 5))
        for k in range(tries):
            at = moment - dt.timedelta(days=tries - k, minutes=int(rng.integers(0, 150)))
            at = at.replace(hour=18 + int(rng.integers(0, 3)))
            code = "3.12" if kind == 3 and k == tries - 1 else "3.13"
            cb = None
            if kind == 4 and k == tries - 1:
                code, cb = "2.21", (moment + dt.timedelta(minutes=int(rng.integers(-60, 60)))).isoformat()
            if kind == 5 and k == tries - 1:
                code = "2.11"
            attempts.append({"attempt_key": f"bench:{case_id}:{k}", "wave": "2025", "case_id": case_id,
                             "unit": "思明区", "mode": "phone", "interviewer": "P01", "firm": None,
                             "attempted_at": at.isoformat(timespec="seconds"), "disposition": code, "label": None,
                             "callback_at": cb, "response_id": None, "note": "", "source": "bench"})
    store.add_attempts(attempts, "bench")
    p01 = load_account(store, "P01")
    print(f"demo store: {store.count_responses('2025'):,} responses, "
          f"{len(store.attempts('2025')):,} attempts; P01 holds {args.cases:,} cases "
          f"({len(attempts):,} attempts of its own); {store.dialect}")
    picked = next_case(store, p01, "2025", at=moment)
    print(f"next_case picks {picked['case_id']} ({picked['reason']})")
    rules_ms = median_ms(lambda: next_case(store, p01, "2025", at=moment), args.repeat)
    base_ms = median_ms(lambda: store.db.execute(BASELINE_SQL, ["2025", "P01"]).fetchall(), args.repeat)
    print(f"{'next_case with windows, slots, busy redial, appointments':<60} {rules_ms:8.1f} ms")
    print(f"{'baseline: one indexed SQL query, no rules':<60} {base_ms:8.1f} ms")
    print(f"{'ratio next_case / baseline':<60} {rules_ms / base_ms:8.1f} x")


if __name__ == "__main__":
    main()
