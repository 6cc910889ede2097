"""Data in and out of the store: import, export, qc — thin commands over survey.importing,
survey.exporting and survey.quality. Run by the machine's operator (SYSTEM, an admin)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from survey.auth import SYSTEM


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="validated, all-or-nothing, idempotent import of a responses or attempts file")
    p.add_argument("file", help="CSV (UTF-8 or GBK) or .xlsx in the responses format of DESIGN.md "
                                "(--kind odk: ODK Central's CSV export of the wave's XLSForm)")
    p.add_argument("--wave", required=True)
    p.add_argument("--kind", choices=("responses", "attempts", "odk"), default="responses")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="a wave's responses as csv, xlsx, sav (SPSS) or dta (Stata), with a codebook")
    p.add_argument("--wave", required=True)
    p.add_argument("--format", required=True, choices=("csv", "xlsx", "sav", "dta"))
    p.add_argument("--out", required=True)
    p.add_argument("--weights", action="store_true", help="add raked weights (analysis.weighting.rake)")
    p.add_argument("--population", help="population margins CSV for --weights (default data/population/xiamen-2020.csv)")
    p.add_argument("--weight-variables", default="sex,age_group", help="raking margins for --weights")
    p.add_argument("--include-excluded", action="store_true", help="keep excluded responses, with excluded_reason")
    p.add_argument("--with-contacts", action="store_true", help="add contact details (admin only; personal data)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("qc", help="quality flags of a wave: response_id,flag,detail")
    p.add_argument("--wave", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="change a threshold of the wave first, e.g. speeder_ratio=0.25 (repeatable)")
    p.set_defaults(func=cmd_qc)


def cmd_import(args: argparse.Namespace) -> int:
    from survey.cli.core import store_and_wave
    store, _ = store_and_wave(args.wave)
    actor = SYSTEM
    if args.kind == "attempts":
        from survey.fieldwork import import_attempts
        created = import_attempts(store, args.file, args.wave, actor.username)
        print(f"{args.file}: {created} new attempt(s) stored in wave {args.wave}")
        return 0
    if args.kind == "odk":
        from survey.i18n import t
        from survey.odk import import_odk
        result = import_odk(store, actor, args.wave, args.file)
        print(t("odk.imported", name=args.file, rows=result.rows, created=result.created,
                unchanged=result.unchanged, screened_out=result.screened_out))
        return 0
    from survey.importing import import_responses
    result = import_responses(store, actor, args.wave, args.file)
    print(f"{args.file}: {result.rows} row(s); {result.created} new response(s) stored in wave {args.wave}, "
          f"{result.unchanged} already stored")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from survey.cli import CliError
    from survey.cli.core import cli_store
    from survey.exporting import ExportError, export_wave
    from survey.outputs import check_output
    check_output(args.out)
    store, actor = cli_store(), SYSTEM
    if args.population and not args.weights:
        raise CliError("--population: only used with --weights")
    if args.population and not Path(args.population).exists():
        raise CliError(f"--population: file not found: {args.population}")
    try:
        table, files = export_wave(store, actor, args.wave, args.format, args.out, weights=args.weights,
                                   population=args.population,
                                   weight_variables=[v.strip() for v in args.weight_variables.split(",") if v.strip()],
                                   include_excluded=args.include_excluded, with_contacts=args.with_contacts)
    except ExportError as err:
        raise CliError(err.problems) from None
    rec = table.record
    print(f"{rec['rows']} response(s) of wave {args.wave} written to {', '.join(map(str, files))}"
          + (f"; {rec['exclusions_left_out']} excluded left out" if rec["exclusions_left_out"] else ""))
    return 0


def cmd_qc(args: argparse.Namespace) -> int:
    import collections

    from survey import quality
    from survey.cli import CliError
    from survey.cli.core import store_and_wave
    from survey.outputs import check_output
    check_output(args.out)  # before the run is stored: a failing command writes nothing
    store, _ = store_and_wave(args.wave)
    actor = SYSTEM
    values: dict[str, str] = {}
    if args.set:
        problems = []
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                problems.append(f"--set: expected KEY=VALUE, got `{item}`")
            else:
                values[key.strip()] = value.strip()
        if problems:
            raise CliError(problems)
    try:
        if args.set:
            quality.set_settings(store, actor, args.wave, **values)
        run = quality.run_qc(store, actor, args.wave)
    except quality.QCSettingsError as err:
        raise CliError(err.problems) from None
    quality.write_flags_csv(run.flags, args.out)
    counts = collections.Counter(f["flag"] for f in run.flags)
    summary = ", ".join(f"{flag} {counts.get(flag, 0)}" for flag in quality.FLAGS)
    state = f"QC run {run.run_id} stored" if run.run_id else "flags unchanged since the last run"
    print(f"{len(run.flags)} flag(s) in wave {args.wave} ({summary}); {state}; written to {args.out}",
          file=sys.stdout)
    return 0
