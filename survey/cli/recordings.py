"""`python -m survey recordings`: import call recordings, list the 录音复核 queue, record an outcome."""
from __future__ import annotations

import argparse
import csv
import sys

from survey.recordings import OUTCOMES

QUEUE_COLUMNS = ("response_id", "interviewer", "unit", "mode", "submitted_at", "reason", "recordings", "excluded",
                 "outcome", "outcome_reason", "reviewer", "reviewed_at")


def register(sub: argparse._SubParsersAction) -> None:
    rec = sub.add_parser("recordings", help="call recordings: import, the review queue (复核), outcomes")
    cmds = rec.add_subparsers(dest="recordings_cmd", required=True)
    p = cmds.add_parser("import", help="import a folder or .zip of call recordings, matched to attempts")
    p.add_argument("source", help="folder or .zip: <case_id>_<YYYYmmddHHMMSS>.mp3|wav, or a manifest.csv")
    p.add_argument("--wave", required=True)
    p.add_argument("--by", help="username of the importing supervisor (default: the operator, all firms)")
    p.set_defaults(func=cmd_import)
    p = cmds.add_parser("queue", help="write the review queue of a wave as CSV")
    p.add_argument("--wave", required=True)
    p.add_argument("--firm", help="one firm only (default: all firms)")
    p.add_argument("--out", required=True, help="CSV file to write ('-' for stdout)")
    p.set_defaults(func=cmd_queue)
    p = cmds.add_parser("review", help="record a review outcome as a supervisor")
    p.add_argument("response_id")
    p.add_argument("--outcome", required=True, choices=OUTCOMES)
    p.add_argument("--by", required=True, help="username of the reviewer")
    p.add_argument("--reason", default="")
    p.add_argument("--exclude", metavar="REASON", help="also exclude the response, with this reason")
    p.set_defaults(func=cmd_review)


def cmd_import(args: argparse.Namespace) -> int:
    from survey.cli import CliError
    from survey.cli.core import cli_actor, store_and_wave
    from survey.recordings import import_recordings
    store, _ = store_and_wave(args.wave)
    result = import_recordings(store, cli_actor(store, args.by, "--by"), args.wave, args.source)
    if not result.ok:
        raise CliError([*result.problems, f"{len(result.problems)} problem(s): nothing imported"])
    print(f"{result.created} new recording(s) stored ({result.files} file(s) read)")
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    from survey.auth import SYSTEM
    from survey.cli.core import store_and_wave
    from survey.outputs import atomic_output, check_output, csv_cell
    from survey.recordings import review_queue
    if args.out != "-":
        check_output(args.out)
    store, _ = store_and_wave(args.wave)
    items = review_queue(store, SYSTEM, args.wave, firm=args.firm)

    def write(out) -> None:
        writer = csv.writer(out)
        writer.writerow(QUEUE_COLUMNS)
        for i in items:
            reason = "+".join(r for r, on in (("random", i.random), ("flagged", i.flagged)) if on)
            writer.writerow([csv_cell(v) for v in (i.response_id, i.interviewer, i.unit, i.mode, i.submitted_at,
                             reason, i.recordings, int(i.excluded), i.outcome or "", i.reason, i.reviewer or "",
                             i.reviewed_at or "")])
    if args.out == "-":
        write(sys.stdout)
    else:
        with atomic_output(args.out) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        print(f"{len(items)} response(s) in the review queue written to {args.out}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from survey.cli.core import cli_actor, cli_store
    from survey.recordings import record_review
    store = cli_store()
    new = record_review(store, cli_actor(store, args.by, "--by"), args.response_id, args.outcome, args.reason,
                        exclude=args.exclude is not None, exclusion_reason=args.exclude or "")
    print(f"review of {args.response_id} recorded: {args.outcome}" if new
          else f"review of {args.response_id} unchanged (same as the latest record)")
    return 0
