"""Appeals headless (survey.appeals): the deadline, filing as a liaison, the list, the decision.

`--by` names the account that acts, so the rights hold on the command line as on the page
(a liaison files for its own unit only; analysts and the admin set deadlines and decide).
"""
from __future__ import annotations

import argparse
import sys

COLUMNS = ("id", "publication_id", "wave", "unit", "kind", "response_ids", "reason", "filed_by", "filed_at",
           "status", "decided_by", "decided_at", "decision_reason", "new_publication_id")


def register(sub: argparse._SubParsersAction) -> None:
    appeals = sub.add_parser("appeals", help="districts' objections to published scores").add_subparsers(
        dest="appeals_cmd", required=True)
    p = appeals.add_parser("deadline", help="set the appeal deadline of a publication")
    p.add_argument("publication", type=int)
    p.add_argument("--until", required=True, help="2025-11-30 (the end of that day) or 2025-11-30 17:00")
    p.add_argument("--by", default="admin", help="an analyst or the admin (default admin)")
    p.set_defaults(func=cmd_deadline)
    p = appeals.add_parser("file", help="file an objection as a unit liaison")
    p.add_argument("publication", type=int)
    p.add_argument("--by", required=True, help="the liaison's username")
    p.add_argument("--kind", choices=("responses", "method"), default="responses")
    p.add_argument("--responses", default="", help="response ids, comma-separated (--kind responses)")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_file)
    p = appeals.add_parser("list", help="objections as tab-separated lines")
    p.add_argument("--wave")
    p.add_argument("--publication", type=int)
    p.add_argument("--by", default="admin", help="whose view (a liaison sees its unit's only)")
    p.set_defaults(func=cmd_list)
    p = appeals.add_parser("decide", help="uphold or reject an objection with a reason")
    p.add_argument("objection", type=int)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--uphold", action="store_true")
    group.add_argument("--reject", action="store_true")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", default="admin", help="an analyst or the admin (default admin)")
    p.set_defaults(func=cmd_decide)


def _actor(username: str):
    from survey.cli.core import cli_actor, cli_store
    store = cli_store()
    return store, cli_actor(store, username, "--by")


def cmd_deadline(args: argparse.Namespace) -> int:
    from survey import appeals
    store, actor = _actor(args.by)
    value = appeals.set_deadline(store, actor, args.publication, args.until)
    print(f"publication #{args.publication}: appeals until {value}")
    return 0


def cmd_file(args: argparse.Namespace) -> int:
    from survey import appeals
    store, actor = _actor(args.by)
    oid = appeals.file_objection(store, actor, args.publication, args.kind, args.reason, args.responses)
    print(f"objection #{oid} filed against publication #{args.publication}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from survey import appeals
    store, actor = _actor(args.by)
    rows = appeals.objections(store, actor, publication_id=args.publication, wave=args.wave)
    print("\t".join(COLUMNS))
    for o in rows:
        print("\t".join("" if o[c] is None else ",".join(o[c]) if isinstance(o[c], list) else str(o[c])
                        for c in COLUMNS), file=sys.stdout)
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    from survey import appeals
    store, actor = _actor(args.by)
    done = appeals.decide(store, actor, args.objection, bool(args.uphold), args.reason)
    line = f"objection #{done.objection_id}: {done.status}"
    if done.excluded:
        line += f"; {done.excluded} response(s) excluded"
    if done.new_publication_id:
        line += f"; new publication #{done.new_publication_id}"
        moved = [f"{d['unit']} {d['difference']:+g}" for d in done.differences if d["difference"]]
        line += " (points: " + (", ".join(moved) or "unchanged") + ")"
    print(line)
    return 0
