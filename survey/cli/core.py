"""Commands for the store itself: init, wave, user, backup, demo."""
from __future__ import annotations

from common.errors import NotFound, wave_not_found

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from survey import auth
from survey.auth import SYSTEM
from survey.bootstrap import backup_store, init_store, open_store, store_summary
from survey.config import DEFAULT_QUESTIONNAIRE, DEFAULT_WAVE, XIAMEN_UNITS, db_path
from survey.demo import (RealDataPresent, check_demo_only, ensure_demo_accounts, store_demo,
                         store_demo_attempts)
from survey.responses import count_responses
from survey.waves import add_wave, get_wave, has_wave, visible_waves

if TYPE_CHECKING:  # the type only: commands reach the store through survey's services
    from survey.store import Store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create the store with defaults (idempotent)")
    p.set_defaults(func=cmd_init)

    wave = sub.add_parser("wave", help="survey rounds").add_subparsers(dest="wave_cmd", required=True)
    p = wave.add_parser("add", help="open a wave")
    p.add_argument("name")
    p.add_argument("--questionnaire", default=DEFAULT_QUESTIONNAIRE)
    p.add_argument("--units", default=",".join(XIAMEN_UNITS), help="comma-separated assessed units")
    p.add_argument("--opens", help="ISO date the wave opens (web survey)")
    p.add_argument("--closes", help="ISO date the wave closes (web survey)")
    p.set_defaults(func=cmd_wave_add)
    p = wave.add_parser("list", help="list waves")
    p.set_defaults(func=cmd_wave_list)

    user = sub.add_parser("user", help="accounts").add_subparsers(dest="user_cmd", required=True)
    p = user.add_parser("add", help="create an account (password from --password or prompt-free generated)")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=auth.ROLES)
    p.add_argument("--firm")
    p.add_argument("--unit", help="the unit (district) of a unit liaison (--role liaison)")
    p.add_argument("--name", help="display name")
    p.add_argument("--password", help="initial password (generated and printed if omitted)")
    p.add_argument("--wave", action="append", default=[], help="assign to this wave (repeatable)")
    p.add_argument("--home-district", help="the district the pollster lives in (异地交叉: gets none of its cases)")
    p.set_defaults(func=cmd_user_add)
    p = user.add_parser("list", help="list accounts")
    p.set_defaults(func=cmd_user_list)
    p = user.add_parser("reset-password", help="set a new password and lift a lockout")
    p.add_argument("username")
    p.add_argument("--password", help="new password (generated and printed if omitted)")
    p.set_defaults(func=cmd_user_reset)
    p = user.add_parser("assign", help="assign an account to a wave and/or firm")
    p.add_argument("username")
    p.add_argument("--wave")
    p.add_argument("--firm")
    p.add_argument("--home-district", help="the district the account lives in (异地交叉); '' clears it")
    p.set_defaults(func=cmd_user_assign)

    p = sub.add_parser("backup", help="online backup of the store to a file")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_backup)

    key = sub.add_parser("key", help="the contact-data key (outside the database)").add_subparsers(
        dest="key_cmd", required=True)
    p = key.add_parser("check", help="does the key (SURVEY_SECRET_KEY or the key file) open the stored contacts?")
    p.set_defaults(func=cmd_key_check)

    p = sub.add_parser("demo", help="store realistic synthetic responses and demo accounts")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--wave", help=f"wave to fill (default {DEFAULT_WAVE}; with --kind appraisal 2025-评议, "
                   "created with the sample appraisal questionnaire if missing)")
    p.add_argument("--kind", choices=("district", "appraisal"), default="district",
                   help="district wave (default) or appraisal wave: residents rate departments, provincial units, SOEs")
    p.add_argument("--password", default="demo-2025", help="password of the demo accounts")
    p.set_defaults(func=cmd_demo)


def cli_store() -> Store:
    """The initialised store of SURVEY_DB: every command starts here (a new admin's password is
    printed once, on stderr)."""
    result = init_store()
    if result.created_admin_password:
        print(f"管理员账号已创建 / admin account created: admin / {result.created_admin_password}  "
              "(shown once; change it after first login)", file=sys.stderr)
    return result.store


def store_and_wave(wave: str) -> tuple[Store, dict[str, Any]]:
    """The initialised store and one of its waves: what most commands start from."""
    store = cli_store()
    return store, get_wave(store, wave)


def cli_actor(store: Store, username: str | None, flag: str) -> auth.Account:
    """The account a command acts for (`--by`, `--actor`): SYSTEM when none is named."""
    from survey.cli import CliError
    if not username:
        return SYSTEM
    actor = auth.load_account(store, username)
    if actor is None:
        raise CliError(f"{flag}: no account `{username}`")
    return actor


def _demo_appraisal(args: argparse.Namespace) -> int:
    """An appraisal wave (created with the sample questionnaire if missing), filled with demo responses."""
    from survey.bootstrap import questionnaire_for_wave
    from survey.cli import CliError
    from survey.demo_appraisal import APPRAISAL_QUESTIONNAIRE, DEMO_APPRAISAL_WAVE, store_demo_appraisal
    store = cli_store()
    wave = args.wave or DEMO_APPRAISAL_WAVE
    if not has_wave(store, wave):
        add_wave(store, SYSTEM, wave, APPRAISAL_QUESTIONNAIRE, list(XIAMEN_UNITS))
        print(f"wave {wave} created with questionnaire {APPRAISAL_QUESTIONNAIRE} (an example list of rated units)",
              file=sys.stderr)
    qn = questionnaire_for_wave(store, wave)
    if qn.kind != "appraisal":
        raise CliError(f"--wave: wave {wave} is a district wave (questionnaire {qn.id}); one wave is one kind")
    if ensure_demo_accounts(store, wave, args.password):
        print(f"demo accounts created (password {args.password}; for trying only): "
              f"pollsters P01-P24, supervisor, reviewer, analyst, liaison", file=sys.stderr)
    new = store_demo_appraisal(store, wave, args.n, args.seed, qn, SYSTEM)
    print(f"stored {new} new demo appraisal response(s) in wave {wave} ({count_responses(store, wave)} in the wave; "
          f"{len(qn.rated_units)} rated units)")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    summary = store_summary(cli_store())
    print(f"store {summary.label} ready: schema version {summary.schema_version}, "
          f"{summary.waves} wave(s), {summary.responses} response(s)")
    return 0


def cmd_wave_add(args: argparse.Namespace) -> int:
    from survey.cli import CliError
    from survey.webform import wave_date_problems
    units = [u.strip() for u in args.units.split(",") if u.strip()]
    problems = wave_date_problems(args.opens, args.closes) + ([] if units else ["--units: give at least one unit"])
    if problems:
        raise CliError(problems)
    add_wave(cli_store(), SYSTEM, args.name, args.questionnaire, units, args.opens, args.closes)
    print(f"wave {args.name} opened with questionnaire {args.questionnaire}: {', '.join(units)}")
    return 0


def cmd_wave_list(args: argparse.Namespace) -> int:
    store = cli_store()
    for w in visible_waves(store, SYSTEM):
        print(f"{w.id}\t{w.questionnaire_id}\t{w.status}\t{count_responses(store, w.id)}\t{','.join(w.units)}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    actor, store = SYSTEM, cli_store()
    unknown = [w for w in args.wave if not has_wave(store, w)]
    if unknown:  # checked before the account exists: a failing command writes nothing
        raise NotFound([wave_not_found(w).problems[0] for w in unknown])
    password = args.password or auth.generate_password()
    auth.create_account(store, actor, args.username, args.role, password, firm=args.firm, display_name=args.name,
                        home_district=args.home_district, unit=args.unit)
    for wave in args.wave:
        auth.assign(store, actor, args.username, wave=wave)
    print(f"account {args.username} ({args.role}) created" + ("" if args.password else f"; password: {password}"))
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    store = cli_store()
    for a in auth.list_accounts(store, SYSTEM):
        account = auth.load_account(store, a.username)
        waves = ",".join(account.waves if account else ())
        state = f"locked until {a.locked_until}" if a.locked_until else "active" if a.active else "disabled"
        print(f"{a.username}\t{a.role}\t{a.firm or a.unit or '-'}\t{waves or '-'}\t{state}")
    return 0


def cmd_user_reset(args: argparse.Namespace) -> int:
    store = cli_store()
    password = args.password or auth.generate_password()
    auth.reset_password(store, SYSTEM, args.username, password)
    print(f"password of {args.username} reset" + ("" if args.password else f"; new password: {password}"))
    return 0


def cmd_user_assign(args: argparse.Namespace) -> int:
    from survey.cli import CliError
    if not args.wave and not args.firm and args.home_district is None:
        raise CliError("give --wave, --firm and/or --home-district")
    problem = auth.home_district_problem(args.home_district)
    if problem:  # checked before anything is written
        raise CliError(f"--home-district: {problem}")
    store = cli_store()
    if args.wave or args.firm:
        auth.assign(store, SYSTEM, args.username, wave=args.wave, firm=args.firm)
    if args.home_district is not None:
        auth.set_home_district(store, SYSTEM, args.username, args.home_district)
    print(f"{args.username} assigned" + (f" to wave {args.wave}" if args.wave else "")
          + (f" to firm {args.firm}" if args.firm else "")
          + (f"; home district {args.home_district or '-'}" if args.home_district is not None else ""))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """An online copy of the store, written 0600 under a temporary name and renamed into place."""
    from survey.cli import CliError
    from survey.contacts import key_file_path
    from survey.outputs import atomic_output, check_output
    out = check_output(args.out)
    live = db_path().resolve()
    if out.resolve() in {live, Path(f"{live}-wal"), Path(f"{live}-shm"), key_file_path(live).resolve()}:
        raise CliError(f"--out: {args.out} is the live store (or its key); give a new file for the backup")
    store = cli_store()
    with atomic_output(out, private=True) as tmp:
        backup_store(store, tmp)
    print(f"backup written to {args.out} (mode 0600; back up the key {key_file_path(live)} apart from it)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from survey.cli import CliError
    if args.n < 1:
        raise CliError(f"--n: must be a positive number, got {args.n}")
    if args.kind == "appraisal":
        return _demo_appraisal(args)
    args.wave = args.wave or DEFAULT_WAVE
    store, _ = store_and_wave(args.wave)
    from survey.bootstrap import questionnaire_for_wave
    if questionnaire_for_wave(store, args.wave).kind != "district":
        raise CliError(f"--wave: wave {args.wave} is an appraisal wave; use --kind appraisal")
    try:
        check_demo_only(store)
    except RealDataPresent as err:
        raise CliError(str(err)) from None
    created = ensure_demo_accounts(store, args.wave, args.password)
    if created:
        print(f"demo accounts created (password {args.password}; for trying only): "
              f"pollsters P01-P24, supervisor, reviewer, analyst, liaison", file=sys.stderr)
    new = store_demo(store, args.wave, args.n, args.seed, SYSTEM)
    print(f"stored {new} new demo response(s) in wave {args.wave} "
          f"({count_responses(store, args.wave)} in the wave)")
    print(f"stored {store_demo_attempts(store, args.wave, args.seed, SYSTEM)} new demo contact attempt(s) "
          "(python -m survey rates --wave W --by unit --out -)")
    return 0


def cmd_key_check(args: argparse.Namespace) -> int:
    """Exit 0 when the key opens every stored contact, 2 (one line) otherwise; changes nothing."""
    from survey.cli import CliError
    from survey.contacts import check_key
    report = check_key(open_store())
    if report.unreadable:
        raise CliError(f"{report.source}: {report.unreadable} of {report.contacts} stored contact(s) cannot be "
                       "decrypted with this key (set the right SURVEY_SECRET_KEY or restore the key file)")
    print(f"{report.source} opens all {report.contacts} stored contact(s)")
    return 0
