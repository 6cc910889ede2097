"""`python -m analysis`: weight, estimate, score — thin commands over documented functions.

Bad input exits 2 with one line per problem on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from analysis.errors import InputError

BIG = 50_000


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: {message}\n")


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _bounds(text: str | None) -> tuple[float, float] | None:
    if not text:
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError([f"--bounds: expected LOW,HIGH such as 0.3,3, got `{text}`"]) from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0 or hi < 0:
        raise InputError([f"--bounds: LOW and HIGH must be finite non-negative numbers, got `{text}`"])
    return lo, hi


def _load(args: argparse.Namespace):
    from analysis.io import read_population, read_responses
    t0 = time.perf_counter()
    responses = read_responses(args.responses)
    population = read_population(args.population) if args.population else None
    if len(responses) >= BIG:
        _say(f"read {len(responses):,} responses in {time.perf_counter() - t0:.1f} s")
    return responses, population


def _variables(args: argparse.Namespace, config=None) -> list[str]:
    """--variables, else the config's weighting.variables, else sex and age_group."""
    if args.variables is not None:
        return [v.strip() for v in args.variables.split(",") if v.strip()]
    if config is not None:
        return list(config.weighting.variables)
    return ["sex", "age_group"]


def _cluster(args: argparse.Namespace, config=None) -> str | None:
    """--cluster, else the config's design.cluster (when the config has one)."""
    if getattr(args, "cluster", None):
        return args.cluster
    design = getattr(config, "design", None)
    return getattr(design, "cluster", None) if design is not None else None


def cmd_weight(args: argparse.Namespace) -> int:
    from analysis.weighting import extreme_rows, extreme_weights, rake
    if not (math.isfinite(args.max_ratio) and args.max_ratio > 1):
        raise InputError([f"--max-ratio: must be a finite number above 1, got {args.max_ratio}"])
    responses, population = _load(args)
    if "response_id" not in responses.columns:
        raise InputError(["responses: column `response_id` is missing"])
    if population is None:  # no margins: weights 1, stated (never silent)
        if args.bounds:
            raise InputError(["--bounds: needs --population (without margins every weight is 1)"])
        _write_atomic(args.out, responses[["response_id"]].assign(weight=1.0).to_csv(index=False,
                                                                                    float_format="%.10f"))
        _say(f"weighting: unweighted (no --population given): every weight is 1; {len(responses):,} responses "
             f"written to {args.out}")
        return 0
    if args.cluster and args.cluster not in responses.columns:
        raise InputError([f"--cluster: responses have no column `{args.cluster}`"])
    weights, diag = rake(responses, population, _variables(args), bounds=_bounds(args.bounds),
                         drop_missing=args.drop_missing)
    out = responses[["response_id"]].assign(weight=weights)
    if args.drop_missing:
        dropped = int(out["weight"].isna().sum())
        out = out.dropna(subset=["weight"])
        if dropped:
            _say(f"dropped {dropped} response(s) without a raking variable")
    design_note = ""
    if args.cluster:  # the weights do not depend on the clusters; say how many PSUs the design will have
        values = responses[args.cluster].astype("string").str.strip()
        empty = values.isna() | (values == "")
        psus = responses.loc[~empty, ["unit", args.cluster]].drop_duplicates().shape[0] + int(empty.sum())
        design_note = f"; {psus:,} PSUs ({args.cluster} within unit, empty = own PSU)"
    kept = out["weight"].notna()
    extreme = extreme_rows(out.loc[kept, "weight"], responses.loc[out.index[kept], "unit"], args.max_ratio)
    if args.flag:  # opt-in column, so the contract `response_id,weight` holds by default
        out["extreme"] = extreme.reindex(out.index, fill_value=False).astype(int)
    _write_atomic(args.out, out.to_csv(index=False, float_format="%.10f"))
    flagged = extreme_weights(out.loc[kept, "weight"], responses.loc[out.index[kept], "unit"], args.max_ratio)
    for row in flagged[flagged["weights_above"] > 0].sort_values("unit").itertuples():
        where = extreme[extreme].index
        ids = sorted(out.loc[where, "response_id"][responses.loc[where, "unit"] == row.unit].astype(str))
        _say(f"warning: unit {row.unit}: {int(row.weights_above)} weight(s) above {args.max_ratio:g} x the unit's "
             f"mean weight (largest {row.max_weight_ratio:.1f} x): {', '.join(ids[:10])}"
             f"{' …' if len(ids) > 10 else ''}")
    _say(f"weights for {len(out):,} responses in {len(diag)} units written to {args.out}; "
         f"Kish deff {diag['deff_w'].min():.2f}-{diag['deff_w'].max():.2f}, max sweeps {diag['sweeps'].max()}"
         f"{design_note}")
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    if args.appraisal:
        return cmd_estimate_appraisal(args)
    if args.dimensions:
        raise InputError(["--dimensions: only for an appraisal wave (--appraisal UNITS.csv)"])
    from analysis.estimation import COLUMNS, estimate_table
    responses, population = _load(args)
    items, item_weights, config, not_applicable = None, None, None, None
    if args.config:
        from analysis.scoring import load_config  # pydantic + yaml: only when a config is given
        config = load_config(args.config)
        items, item_weights = list(config.items), config.item_weights
        not_applicable = getattr(config, "not_applicable", None)
        modes = config.mode_list()
        if modes is not None:
            responses = responses[responses["mode"].isin(modes)]
    design = None
    if population is None:  # no census figures: weights 1, strata = units, and the record says so
        if args.cluster or args.bounds:
            raise InputError(["--cluster/--bounds: need --population (without margins the estimate is unweighted, "
                              "one respondent per PSU)"])
        from analysis.estimation import equal_weight_design
        design = equal_weight_design(responses, strata="unit")
        _say("weighting: unweighted (no --population given): every weight is 1; strata = units")
    table = estimate_table(responses, population, items, item_weights, by=args.by, ci=args.ci,
                           variables=_variables(args, config), cluster=_cluster(args, config),
                           bounds=_bounds(args.bounds), not_applicable=not_applicable, design=design,
                           kg=True)  # the *_kg columns are part of the documented CSV (DESIGN.md, r_estimates.csv)
    cols = ["unit", *([args.by] if args.by else []), *[c for c in COLUMNS if c != "unit"]]
    table[cols].to_csv(args.out, index=False, float_format="%.10g")
    _say(f"{len(table)} estimates ({table['unit'].nunique()} domains) written to {args.out}")
    return 0


def cmd_estimate_appraisal(args: argparse.Namespace) -> int:
    """`estimate FILE --appraisal UNITS.csv`: one row per rated unit (analysis.appraisal)."""
    from analysis.appraisal import (COLUMNS, check_dimensions, dimension_estimates, dimensions_in,
                                    estimate_appraisal, read_appraisal_responses, read_units)
    from analysis.io import read_population
    if args.by or args.config or args.cluster or args.bounds:
        raise InputError(["--appraisal: --by, --config, --cluster and --bounds do not apply (the rated units are "
                          "the domains; give the scoring config to `score`)"])
    if args.ci == "kg":
        raise InputError(["--appraisal: only the logit CI (--ci logit) is available"])
    units = read_units(args.appraisal)
    responses = read_appraisal_responses(args.responses)
    population = read_population(args.population) if args.population else None
    table, design = estimate_appraisal(responses, units, population, _variables(args))
    _write_atomic(args.out, table[list(COLUMNS)].to_csv(index=False, float_format="%.10g"))
    dims = dimensions_in(responses, units)
    if args.dimensions:  # the dimension items (e.g. 履职成效, 信息公开): one row per rated unit × dimension
        check_dimensions(responses, units, dims)
        frame = dimension_estimates(design.design, units, dims)
        _write_atomic(args.dimensions, frame.to_csv(index=False, float_format="%.10g"))
        _say(f"{len(frame)} dimension estimates ({', '.join(dims) or 'no dimension columns'}) written to "
             f"{args.dimensions}")
    elif dims:
        _say(f"dimension items {', '.join(dims)} present: --dimensions FILE estimates them")
    _say(design.statement)
    _say(f"{len(table)} rated units estimated from {design.design.n:,} responses written to {args.out}")
    return 0


def _write_atomic(path: str, text: str) -> None:
    """Write next to the target, then rename: a failing command leaves no half file."""
    import os
    import tempfile
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_score(args: argparse.Namespace) -> int:
    if args.appraisal:
        return cmd_score_appraisal(args)
    if not args.out:
        raise InputError(["--out: give the report file (.xlsx)"])
    from analysis.score_run import compute_score_run
    from analysis.scoring import load_config
    from analysis.io import read_population, read_responses
    config = load_config(args.config)
    population = read_population(args.population) if args.population else None
    if not args.responses:
        raise InputError(["give a responses file (a wave of the store: python -m survey score --wave W)"])
    responses = read_responses(args.responses)
    run = compute_score_run(responses, population, config, source=str(args.responses), cluster=args.cluster)
    report_score_run(run, args.out, args.json)
    return 0


def report_score_run(run, out, as_json: bool) -> None:
    """Write a run's report and print its record: shared with `python -m survey score --wave`."""
    from analysis.score_run import write_run_report
    write_run_report(run, out)
    rec = run.record
    if rec.get("weighting_statement"):
        _say(rec["weighting_statement"])
    _say(f"config {rec['config_name']} sha256 {rec['config_hash'][:16]}; data {rec['data_count']} responses "
         f"sha256 {rec['data_hash'][:16]}; exclusions {len(rec['exclusions'])}; code {rec['code_version']}; "
         f"{'unweighted; ' if rec.get('weighting') == 'unweighted' else ''}"
         f"result sha256 {rec['result_hash']}")
    _say(f"report written to {out}")
    if as_json:
        print(json.dumps(run.to_json(), ensure_ascii=False, indent=2))


def cmd_score_appraisal(args: argparse.Namespace) -> int:
    """`score FILE --appraisal UNITS.csv --config CFG`: points and ranks per rated unit, within its type."""
    from analysis.appraisal import read_appraisal_responses, read_units
    from analysis.appraisal_scoring import load_appraisal_config, score_appraisal
    from analysis.io import read_population
    if not args.responses:
        raise InputError(["give a responses file"])
    config = load_appraisal_config(args.config)
    units = read_units(args.appraisal)
    responses = read_appraisal_responses(args.responses)
    population = read_population(args.population) if args.population else None
    run = score_appraisal(responses, units, population, config, source=str(args.responses))
    rec = run.record
    _say(rec["weighting_statement"])
    _say(f"config {rec['config_name']} sha256 {rec['config_hash'][:16]}; data {rec['data_count']} responses "
         f"sha256 {rec['data_hash'][:16]}; code {rec['code_version']}; result sha256 {rec['result_hash'][:16]}")
    if args.out:
        from analysis.appraisal_report import write_appraisal_report
        write_appraisal_report(run, args.out)
        _say(f"report written to {args.out}")
    if args.json:
        print(json.dumps(run.to_json(), ensure_ascii=False, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m analysis", description="Weighting, estimation and scoring")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser, responses_required: bool = True) -> None:
        if responses_required:
            p.add_argument("responses", help="responses file (CSV UTF-8/GBK or .xlsx)")
        p.add_argument("--population", help="population margins CSV unit,variable,category,population "
                       "(without it: weights 1, stated as `unweighted`)")
        p.add_argument("--variables", help="raking margins, comma-separated (default: the config's "
                       "weighting.variables, else sex,age_group)")
        p.add_argument("--out", required=True)

    p = sub.add_parser("weight", help="rake within each unit; writes response_id,weight")
    common(p)
    p.add_argument("--bounds", help="LOW,HIGH bounds of weight / unit mean weight, e.g. 0.3,3")
    p.add_argument("--drop-missing", action="store_true", help="drop responses lacking a raking variable")
    p.add_argument("--cluster", help="PSU column within units, e.g. interviewer (reported; weights unchanged)")
    p.add_argument("--max-ratio", type=float, default=5.0,
                   help="flag weights above this multiple of the unit's mean weight (default 5; a warning per unit "
                        "on stderr)")
    p.add_argument("--flag", action="store_true", help="add a column `extreme` (1 = above --max-ratio) to the output")
    p.set_defaults(func=cmd_weight)

    p = sub.add_parser("estimate", help="rates and indexes with CIs per unit, 全市 and subgroups")
    common(p)
    p.add_argument("--config", help="scoring config (items, item weights, modes)")
    p.add_argument("--by", help="subgroup column, e.g. mode or sex")
    p.add_argument("--ci", choices=("logit", "kg"), default="logit")
    p.add_argument("--cluster", help="PSU column within units (R: ids = ~COL, strata = ~unit, nest = TRUE); "
                   "an empty value is its own PSU")
    p.add_argument("--bounds", help="LOW,HIGH bounds of weight / unit mean weight, e.g. 0.3,3")
    p.add_argument("--appraisal", metavar="UNITS.csv",
                   help="appraisal wave: rated units id,name,type; one row per rated unit")
    p.add_argument("--dimensions", metavar="FILE", help="appraisal: also estimate the dimension items "
                   "`<id>_<dimension>` (e.g. 履职成效), one row per rated unit x dimension")
    p.set_defaults(func=cmd_estimate)

    p = sub.add_parser("score", help="points per unit, Excel report, reproducibility record")
    p.add_argument("responses", nargs="?", help="responses file (a stored wave: python -m survey score --wave W)")
    p.add_argument("--population", help="population margins (without them every weight is 1, stated as "
                   "`unweighted`)")
    p.add_argument("--config", required=True)
    p.add_argument("--out", help="report .xlsx (required for district waves)")
    p.add_argument("--appraisal", metavar="UNITS.csv", help="appraisal wave: rated units id,name,type")
    p.add_argument("--json", action="store_true", help="print the score table as JSON on stdout")
    p.add_argument("--cluster", help="column whose values are the PSUs within units (e.g. interviewer); "
                                     "overrides the config's design.cluster")
    p.set_defaults(func=cmd_score)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as err:
        for line in err.problems:
            _say(line)
        return 2
    except Exception as err:  # config errors and the like carry .problems too
        problems = getattr(err, "problems", None)
        if problems:
            for line in problems:
                _say(line)
            return 2
        if isinstance(err, (OSError, ValueError)):
            _say(str(err).splitlines()[0])
            return 2
        raise
