"""`python -m survey cases import|assign` and `python -m survey rates`: fieldwork from the shell."""
from __future__ import annotations

import argparse
import sys

from survey.aapor import RATES_BY


def register(sub: argparse._SubParsersAction) -> None:
    cases = sub.add_parser("cases", help="sampled cases (contact lists) of a wave").add_subparsers(
        dest="cases_cmd", required=True)
    p = cases.add_parser("import", help="import a contact list CSV: case_id, unit, mode, phone or address, strata")
    p.add_argument("file")
    p.add_argument("--wave", required=True)
    p.set_defaults(func=cmd_cases_import)
    p = cases.add_parser("assign", help="assign cases to a pollster")
    p.add_argument("--wave", required=True)
    p.add_argument("--pollster", required=True)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--unit", help="every unassigned case of this unit")
    which.add_argument("--cases", help="comma-separated case ids")
    p.add_argument("--actor", help="username of the supervisor assigning (default: the operator, as admin)")
    p.set_defaults(func=cmd_cases_assign)

    quotas = sub.add_parser("quotas", help="quota cells of a wave").add_subparsers(dest="quotas_cmd", required=True)
    p = quotas.add_parser("set", help="set quota cells from a YAML/JSON file: quotas: [{unit, sex?, age_group?, "
                                      "target}], quota_action: warn|stop")
    p.add_argument("file")
    p.add_argument("--wave", required=True)
    p.set_defaults(func=cmd_quotas_set)
    p = quotas.add_parser("show", help="quota cells with completes so far (CSV to stdout)")
    p.add_argument("--wave", required=True)
    p.set_defaults(func=cmd_quotas_show)

    p = sub.add_parser("rates", help="AAPOR outcome rates of a wave's attempts as CSV")
    p.add_argument("--wave", required=True)
    p.add_argument("--by", required=True, choices=RATES_BY)
    p.add_argument("--out", required=True, help="CSV file to write ('-' for stdout)")
    p.set_defaults(func=cmd_rates)


def cmd_cases_import(args: argparse.Namespace) -> int:
    from survey.auth import SYSTEM
    from survey.cli.core import store_and_wave
    from survey.fieldwork import count_cases, import_cases
    store, _ = store_and_wave(args.wave)
    n = import_cases(store, SYSTEM, args.file, args.wave)
    print(f"{n} new case(s) imported into wave {args.wave} ({count_cases(store, args.wave)} in all)")
    return 0


def cmd_cases_assign(args: argparse.Namespace) -> int:
    from survey.auth import SYSTEM, load_account
    from survey.cli import CliError
    from survey.cli.core import store_and_wave
    from survey.fieldwork import assign_cases
    store, _ = store_and_wave(args.wave)
    actor = SYSTEM
    if args.actor:
        actor = load_account(store, args.actor)
        if actor is None:
            raise CliError(f"--actor: no account `{args.actor}`")
    ids = args.cases.split(",") if args.cases else None
    n = assign_cases(store, actor, args.wave, args.pollster, unit=args.unit, case_ids=ids)
    print(f"{n} case(s) assigned to {args.pollster}")
    return 0


def cmd_rates(args: argparse.Namespace) -> int:
    from survey.auth import SYSTEM
    from survey.aapor import rates_table
    from survey.cli.core import store_and_wave
    from survey.fieldwork import attempts_frame
    store, _ = store_and_wave(args.wave)
    table = rates_table(attempts_frame(store, SYSTEM, args.wave), args.by)
    if args.out == "-":
        table.to_csv(sys.stdout, index=False, float_format="%.6g")
    else:
        from survey.outputs import atomic_output
        with atomic_output(args.out) as tmp:
            table.to_csv(tmp, index=False, float_format="%.6g", encoding="utf-8")
        print(f"rates of {int(table['cases'].iloc[-1])} case(s) by {args.by} written to {args.out}")
    return 0


def cmd_quotas_set(args: argparse.Namespace) -> int:
    from pathlib import Path

    import yaml

    from survey.auth import SYSTEM
    from survey.cli import CliError
    from survey.cli.core import store_and_wave
    from survey.quotas import set_quotas
    store, _ = store_and_wave(args.wave)
    try:
        spec = yaml.safe_load(Path(args.file).read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise CliError(f"{args.file}: not YAML/JSON: {str(err).splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise CliError(f"{args.file}: not UTF-8 text (save it as UTF-8, not GBK)") from None
    except IsADirectoryError:
        raise CliError(f"{args.file}: is a folder; give the quotas file") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("quotas"), list):
        raise CliError(f"{args.file}: expected a mapping with a `quotas` list")
    parsed = set_quotas(store, SYSTEM, args.wave, spec["quotas"], spec.get("quota_action", "warn"))
    print(f"{len(parsed.quotas)} quota cell(s) set for wave {args.wave}; when a cell is full: {parsed.quota_action}")
    return 0


def cmd_quotas_show(args: argparse.Namespace) -> int:
    from survey.cli.core import store_and_wave
    from survey.quotas import quota_progress
    store, _ = store_and_wave(args.wave)
    quota_progress(store, args.wave).to_csv(sys.stdout, index=False, float_format="%.4g")
    return 0
