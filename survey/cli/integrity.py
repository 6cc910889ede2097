"""`python -m survey verify`: the hash chains and a recomputation of every published score.

Exit 0 when everything holds, 1 naming the first broken row or publication (and every
other problem found), 2 on bad input (an unknown wave).
"""
from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="walk the audit/exclusion/publication chains, recompute published scores")
    p.add_argument("--wave", help="recompute only this wave's publications (the chains are always walked whole)")
    p.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from survey.auth import SYSTEM
    from survey.cli.core import cli_store, store_and_wave
    from survey.integrity import _both, describe, verify_store
    store = store_and_wave(args.wave)[0] if args.wave else cli_store()
    report = verify_store(store, SYSTEM, args.wave)
    good, bad = describe(report)
    for line in good:
        print(line)
    for line in bad:
        print(line, file=sys.stderr)
    if bad:
        return 1
    print(_both("integrity.all_hold"))
    return 0
