"""`python -m survey score --wave W`: score a wave of the store (exclusions applied and recorded).

Scoring a file stays `python -m analysis score FILE`; this command reads the store, so it
lives on the survey side (analysis never imports survey). Output and record are the same.
"""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="points per unit of a stored wave, Excel report, reproducibility record")
    p.add_argument("--wave", required=True, help="the wave whose included responses are scored")
    p.add_argument("--population", help="population margins CSV unit,variable,category,population "
                   "(without it every weight is 1, stated as `unweighted`)")
    p.add_argument("--config", required=True, help="scoring config (YAML)")
    p.add_argument("--out", required=True, help="report .xlsx")
    p.add_argument("--json", action="store_true", help="print the score table as JSON on stdout")
    p.add_argument("--exclude-flagged", action="store_true",
                   help="also leave out responses with current QC flags (listed among the exclusions)")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("publish", help="score a stored wave and publish it: immutable, chained, verifiable")
    p.add_argument("--wave", required=True, help="the wave whose included responses are scored")
    p.add_argument("--population", required=True, help="population margins CSV unit,variable,category,population")
    p.add_argument("--config", required=True, help="scoring config (YAML)")
    p.add_argument("--exclude-flagged", action="store_true",
                   help="also leave out responses with current QC flags (listed among the exclusions)")
    p.add_argument("--json", action="store_true", help="print the published score table as JSON on stdout")
    p.set_defaults(func=cmd_publish)


def cmd_score(args: argparse.Namespace) -> int:
    from analysis.cli import report_score_run
    from analysis.io import read_population
    from analysis.scoring import load_config
    from survey.cli.core import store_and_wave
    from survey.outputs import check_output
    from survey.publishing import compute_for_wave
    check_output(args.out)
    config = load_config(args.config)
    population = read_population(args.population) if args.population else None  # None: unweighted, stated
    store, _ = store_and_wave(args.wave)
    from survey.auth import SYSTEM
    run = compute_for_wave(store, SYSTEM, args.wave, population, config, exclude_flagged=args.exclude_flagged)
    report_score_run(run, args.out, args.json)
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    """What 发布本次得分 does on the analysis page: the same result hash is the same publication."""
    import json
    import sys

    from analysis.io import read_population
    from analysis.scoring import load_config
    from survey.auth import SYSTEM
    from survey.cli.core import store_and_wave
    from survey.integrity import _both
    from survey.publishing import compute_for_wave, existing_publication, publish
    config = load_config(args.config)
    population = read_population(args.population)
    store, _ = store_and_wave(args.wave)
    run = compute_for_wave(store, SYSTEM, args.wave, population, config, exclude_flagged=args.exclude_flagged)
    already = existing_publication(store, run)
    score_id = already if already is not None else publish(store, SYSTEM, run)
    key = "integrity.already_published" if already is not None else "integrity.published"
    print(_both(key, id=score_id, wave=args.wave, hash=run.result_hash), file=sys.stderr)
    if args.json:
        print(json.dumps(run.to_json(), ensure_ascii=False, indent=1))
    return 0
