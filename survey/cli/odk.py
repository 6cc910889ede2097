"""Offline door interviews through ODK: `xlsform` writes the wave's form (survey.xlsform);
`import --kind odk` (survey/cli/data.py) reads ODK Central's export back (survey.odk)."""
from __future__ import annotations

import argparse

from survey.auth import SYSTEM


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("xlsform", help="the wave's questionnaire as an XLSForm for ODK Collect / KoboCollect")
    p.add_argument("--wave", required=True)
    p.add_argument("--out", required=True, help="the .xlsx to write (checked by pyxform first)")
    p.set_defaults(func=cmd_xlsform)


def cmd_xlsform(args: argparse.Namespace) -> int:
    from survey.cli.core import store_and_wave
    from survey.outputs import check_output
    from survey.xlsform import export_xlsform
    check_output(args.out)
    store, _ = store_and_wave(args.wave)
    path = export_xlsform(store, SYSTEM, args.wave, args.out)
    print(f"XLSForm of wave {args.wave} written to {path} (converted by pyxform without errors)")
    return 0
