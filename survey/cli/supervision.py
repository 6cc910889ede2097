"""`python -m survey backcheck`: the back-check list of a wave as CSV, and recording an outcome."""
from __future__ import annotations

import argparse
import csv
import sys

from survey.backcheck import OUTCOMES, backcheck_list, record_backcheck
from survey.errors import row_problem

COLUMNS = ("response_id", "interviewer", "unit", "mode", "submitted_at", "reason", "excluded", "outcome",
           "outcome_by", "outcome_at", "note")


def register(sub: argparse._SubParsersAction) -> None:
    bc = sub.add_parser("backcheck", help="back-check list (10 %% per pollster + flagged) and outcomes")
    cmds = bc.add_subparsers(dest="backcheck_cmd", required=True)
    p = cmds.add_parser("list", help="write the back-check list of a wave as CSV")
    p.add_argument("--wave", required=True)
    p.add_argument("--firm", help="one firm only (default: all firms)")
    p.add_argument("--flagged", help="CSV with a response_id column (e.g. the output of `qc`): added to the list")
    p.add_argument("--out", required=True, help="CSV file to write ('-' for stdout)")
    p.set_defaults(func=cmd_list)
    p = cmds.add_parser("record", help="record a back-check outcome as a supervisor")
    p.add_argument("response_id")
    p.add_argument("--outcome", required=True, choices=OUTCOMES)
    p.add_argument("--by", required=True, help="username of the supervisor who made the back-check")
    p.add_argument("--note", default="")
    p.set_defaults(func=cmd_record)


def _read_flagged(path: str) -> list[str]:
    """Response ids of a `qc` output file (or any file with a response_id column)."""
    from survey.cli import CliError
    from survey.importing import read_file
    frame, _ = read_file(path)
    if "response_id" not in frame.columns:
        raise CliError(f"{path}: no response_id column")
    ids, problems = [], []
    for n, raw in enumerate(frame["response_id"].fillna(""), start=2):
        rid = str(raw).strip()
        if rid:
            ids.append(rid)
        else:
            problems.append(row_problem(n, "response_id", rid, "empty"))
    if problems:
        raise CliError(problems)
    return ids


def cmd_list(args: argparse.Namespace) -> int:
    from survey.auth import SYSTEM
    from survey.cli.core import store_and_wave
    from survey.outputs import atomic_output, check_output, csv_cell
    if args.out != "-":
        check_output(args.out)
    store, _ = store_and_wave(args.wave)
    flagged = _read_flagged(args.flagged) if args.flagged else []
    items = backcheck_list(store, SYSTEM, args.wave, flagged, firm=args.firm)

    def write(out) -> None:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for i in items:  # ids, names and notes may hold user text: formula-safe
            reason = "+".join(r for r, on in (("random", i.random), ("flagged", i.flagged)) if on)
            writer.writerow([csv_cell(v) for v in (i.response_id, i.interviewer, i.unit, i.mode, i.submitted_at,
                             reason, int(i.excluded), i.outcome or "", i.outcome_by or "", i.outcome_at or "",
                             i.note)])
    if args.out == "-":
        write(sys.stdout)
    else:
        with atomic_output(args.out) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
            write(fh)
    if args.out != "-":
        print(f"{len(items)} response(s) to back-check written to {args.out}")
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from survey.cli.core import cli_actor, cli_store
    store = cli_store()
    actor = cli_actor(store, args.by, "--by")
    new = record_backcheck(store, actor, args.response_id, args.outcome, args.note)
    print(f"back-check of {args.response_id} recorded: {args.outcome}" if new
          else f"back-check of {args.response_id} unchanged (same as the latest record)")
    return 0
