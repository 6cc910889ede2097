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
    from survey.cli import CliError
    from survey.storage.copy import copy_store
    from survey.storage.engine import resolve
    from survey.store import Store
    source, dest = resolve(args.source), resolve(args.dest)
    if source.url == dest.url:
        raise CliError("--to: the destination is the source store itself")
    if not source.url.startswith("postgresql") and not source.path.exists():
        raise CliError(f"--from: no store at {source.path}")
    counts = copy_store(Store(source), Store(dest))
    for table, n in counts.items():
        print(f"{table}\t{n}")
    print(f"copied {sum(counts.values())} rows in {len(counts)} tables; counts verified on both sides")
    return 0
