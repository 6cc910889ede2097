"""`python -m survey schedule --wave W [--weekday …] …`: show or set a wave's call scheduling rules.

The same rules and checks as the wave settings page (survey.wave_setup.save_schedule over
survey.scheduling.parse_schedule): without a setting flag the rules are shown; with some,
those keys change, the others are kept, and a refused value stores nothing.
"""
from __future__ import annotations

import argparse
from typing import Any

from survey.scheduling import MAX_SLOTS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schedule", help="show or set a wave's call scheduling rules (windows, slots, busy redial, "
                                        "attempt limit, 调休 dates)")
    p.add_argument("--wave", required=True)
    p.add_argument("--weekday", metavar="HH:MM-HH:MM", help="call window Mon–Fri ('' for any time)")
    p.add_argument("--weekend", metavar="HH:MM-HH:MM", help="call window Sat–Sun ('' for any time)")
    p.add_argument("--slot", action="append", metavar="NAME=HH:MM-HH:MM",
                   help=f"a named slot; repeat for each (up to {MAX_SLOTS}); replaces the stored slots")
    p.add_argument("--no-slots", action="store_true", help="remove every slot")
    p.add_argument("--busy-redial-minutes", metavar="N")
    p.add_argument("--max-attempts", metavar="N")
    p.add_argument("--workdays", metavar="DATES",
                   help="调休上班日: Saturdays/Sundays called with the weekday window, e.g. 2025-09-28,2025-10-11 "
                        "('' for none); replaces the stored list")
    p.add_argument("--holidays", metavar="DATES",
                   help="节假日: Monday–Friday dates called with the weekend window ('' for none); replaces the list")
    p.add_argument("--actor", help="username of the admin making the change (default: the operator, as admin)")
    p.set_defaults(func=cmd_schedule)


def _slots(given: list[str]) -> list[dict[str, str]]:
    from survey.cli import CliError
    out, bad = [], []
    for item in given:
        name, sep, hours = item.partition("=")
        if not sep:
            bad.append(f"--slot: `{item}` is not NAME=HH:MM-HH:MM (e.g. 傍晚=18:00-19:30)")
        out.append({"name": name.strip(), "hours": hours.strip()})
    if bad:
        raise CliError(bad)
    return out


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    from survey.cli import CliError
    if args.slot and args.no_slots:
        raise CliError("--slot and --no-slots: give one of them")
    changes: dict[str, Any] = {}
    for key in ("weekday", "weekend", "busy_redial_minutes", "max_attempts", "workdays", "holidays"):
        value = getattr(args, key)
        if value is not None:
            changes[key] = value
    if args.slot:
        changes["slots"] = _slots(args.slot)
    if args.no_slots:
        changes["slots"] = []
    return changes


def _flag(field: str | None) -> str:
    name = (field or "").removeprefix("schedule.")
    if name == "slots":
        return "--slot: "
    return f"--{name.replace('_', '-')}: " if name in ("weekday", "weekend", "busy_redial_minutes", "max_attempts",
                                                      "workdays", "holidays") else ""


def show(settings: dict[str, Any]) -> str:
    """The rules as tab-separated lines, one key each, in the order of the README's table."""
    slots = "; ".join(f"{s['name']} {s['hours']}" for s in settings["slots"])
    rows = [("weekday", settings["weekday"] or "-"), ("weekend", settings["weekend"] or "-"), ("slots", slots or "-"),
            ("busy_redial_minutes", settings["busy_redial_minutes"]), ("max_attempts", settings["max_attempts"]),
            ("workdays", ",".join(settings["workdays"]) or "-"), ("holidays", ",".join(settings["holidays"]) or "-")]
    return "\n".join(f"{key}\t{value}" for key, value in rows)


def cmd_schedule(args: argparse.Namespace) -> int:
    from survey.cli import CliError
    from survey.cli.core import cli_actor, store_and_wave
    from survey.scheduling import rules_from_settings
    from survey.wave_setup import SetupError, save_schedule
    store, wave = store_and_wave(args.wave)
    changes = _changes(args)
    if not changes:
        print(show(rules_from_settings(wave["settings"]).to_settings()))
        return 0
    actor = cli_actor(store, args.actor, "--actor")
    try:
        rules = save_schedule(store, actor, args.wave, changes)
    except SetupError as err:  # each line with the flag that carried the value
        raise CliError([f"{_flag(getattr(p, 'field', None))}{p}" for p in err.problems]) from None
    print(show(rules.to_settings()))
    return 0
