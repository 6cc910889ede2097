"""`python -m survey copy`: move a store between engines (SQLite file <-> PostgreSQL)."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("copy", help="copy every table of a store into another, empty one (counts verified)")
    p.add_argument("--from", dest="source", help="source store: a path or URL (default: SURVEY_DB)")
    p.add_argument("--to", dest="dest", required=True,
                   help="destination: a new SQLite path, sqlite:///… or postgresql://user@host:port/db")
    p.set_defaults(func=cmd_copy)


def cmd_copy(args: argparse.Namespace) -> int:
    from survey.bootstrap import copy_between
    counts = copy_between(args.source, args.dest)
    for table, n in counts.items():
        print(f"{table}\t{n}")
    print(f"copied {sum(counts.values())} rows in {len(counts)} tables; counts verified on both sides")
    return 0
