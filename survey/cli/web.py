"""Commands of the resident web survey: invitation tokens and open links."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from survey import webform
from survey.auth import SYSTEM
from survey.outputs import OutputError, atomic_output, check_output

PUBLIC_URL_ENV = "SURVEY_PUBLIC_URL"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tokens", help="invitation tokens: CSV token,unit,url (url = /survey?t=TOKEN)")
    p.add_argument("--wave", required=True)
    p.add_argument("--unit", required=True, help="the assessed unit the tokens are for (fixed by the token)")
    p.add_argument("--n", type=int, required=True, help="how many tokens")
    p.add_argument("--out", required=True, help="CSV file to write")
    p.add_argument("--qr", help="also write a printable QR-code sheet (HTML, print to paper or PDF)")
    p.add_argument("--base-url", default=os.environ.get(PUBLIC_URL_ENV, ""),
                   help=f"public address of the app, e.g. https://survey.example.gov.cn (default ${PUBLIC_URL_ENV}); "
                        "needed for QR codes")
    p.set_defaults(func=cmd_tokens)

    p = sub.add_parser("wave-dates", help="when the web survey of a wave opens and closes (enforced on /survey)")
    p.add_argument("wave")
    p.add_argument("--opens", default="", help="e.g. 2025-10-01 (empty: no start date)")
    p.add_argument("--closes", default="", help="e.g. 2025-10-31, open through that day (empty: no end date)")
    p.set_defaults(func=cmd_wave_dates)

    link = sub.add_parser("link", help="open links of the web survey (one per unit)").add_subparsers(
        dest="link_cmd", required=True)
    p = link.add_parser("add", help="create an open link for a unit")
    p.add_argument("--wave", required=True)
    p.add_argument("--unit", required=True)
    p.add_argument("--base-url", default=os.environ.get(PUBLIC_URL_ENV, ""))
    p.set_defaults(func=cmd_link_add)
    p = link.add_parser("list", help="open links with their response counts")
    p.add_argument("--wave")
    p.add_argument("--base-url", default=os.environ.get(PUBLIC_URL_ENV, ""))
    p.set_defaults(func=cmd_link_list)
    for name, active in (("close", False), ("reopen", True)):
        p = link.add_parser(name, help=f"{name} an open link")
        p.add_argument("code")
        p.set_defaults(func=cmd_link_active, active=active)


def _problems(args: argparse.Namespace) -> list[str]:
    problems = []
    if args.n < 1 or args.n > webform.MAX_TOKENS_PER_BATCH:
        problems.append(f"--n: must be between 1 and {webform.MAX_TOKENS_PER_BATCH}, got {args.n}")
    if args.qr and not args.base_url.startswith(("http://", "https://")):
        problems.append("--base-url: a QR code needs the full public address residents open, "
                        f"e.g. --base-url https://survey.example.gov.cn (or set ${PUBLIC_URL_ENV})")
    for flag, path in (("--out", args.out), ("--qr", args.qr)):
        if path:
            try:
                check_output(path, flag)
            except OutputError as err:
                problems.append(str(err))
    return problems


def cmd_tokens(args: argparse.Namespace) -> int:
    from survey.cli import CliError
    from survey.cli.core import store_and_wave
    from survey.i18n import t

    problems = _problems(args)
    if problems:
        raise CliError(problems)
    store, wave = store_and_wave(args.wave)
    if args.unit not in wave["units"]:
        raise CliError(f"--unit: `{args.unit}` is not a unit of wave {args.wave} ({', '.join(wave['units'])})")
    batch, tokens = webform.generate_tokens(store, SYSTEM, args.wave, args.unit, args.n)
    rows = webform.token_rows(tokens, args.unit, args.base_url)
    with atomic_output(args.out) as tmp:
        tmp.write_bytes(webform.tokens_csv(rows))
    print(f"{len(tokens)} token(s) for {args.unit}, wave {args.wave}, batch {batch} written to {args.out}")
    if args.qr:
        sheet = webform.qr_sheet_html(rows, t("web.qr_title", wave=args.wave, unit=args.unit),
                                      t("web.qr_help"))
        with atomic_output(args.qr, option="--qr") as tmp:
            tmp.write_text(sheet, encoding="utf-8")
        print(f"QR-code sheet written to {args.qr} (open in a browser and print)")
    return 0


def cmd_wave_dates(args: argparse.Namespace) -> int:
    from survey.cli.core import cli_store
    webform.set_wave_dates(cli_store(), SYSTEM, args.wave, args.opens or None, args.closes or None)
    print(f"wave {args.wave}: opens {args.opens or '-'}, closes {args.closes or '-'}")
    return 0


def cmd_link_add(args: argparse.Namespace) -> int:
    from survey.cli.core import cli_store
    code = webform.create_link(cli_store(), SYSTEM, args.wave, args.unit)
    print(webform.survey_url(args.base_url, link=code))
    return 0


def cmd_link_list(args: argparse.Namespace) -> int:
    from survey.cli.core import cli_store
    for link in webform.open_links(cli_store(), SYSTEM, args.wave):
        print(f"{link.code}\t{link.wave}\t{link.unit}\t{'open' if link.active else 'closed'}\t"
              f"{link.responses}\t{webform.survey_url(args.base_url, link=link.code)}")
    return 0


def cmd_link_active(args: argparse.Namespace) -> int:
    from survey.cli.core import cli_store
    webform.set_link_active(cli_store(), SYSTEM, args.code.upper(), args.active)
    print(f"link {args.code.upper()} {'reopened' if args.active else 'closed'}")
    return 0
