"""`python -m survey`: a thin layer over the documented functions of the survey package.

Each module in this folder adds its commands with `register(subparsers)`; they are found
automatically, so a feature adds a command without touching this file. Bad input exits
with code 2 and one line per problem on stderr, never a traceback.
"""
from __future__ import annotations

from common.errors import Invalid, Rejected

import argparse
import importlib
import pkgutil
import sqlite3
import sys

import sqlalchemy as sa
from collections.abc import Sequence

from survey.auth import AuthError, PermissionDenied
from survey.contacts import ContactError
from survey.errors import ImportRejected
from survey.outputs import OutputError
from survey.questionnaire import QuestionnaireError
from survey.responses import SubmitError


class CliError(Invalid):
    """Problems with the command's input, one line each (already worded with their flags)."""


FLAG_FIELDS = {"wave": "--wave", "unit": "--unit", "firm": "--firm", "role": "--role",
               "questionnaire": "--questionnaire", "population": "--population", "config": "--config",
               "from": "--from", "to": "--to"}


def flag_hint(problem: str) -> str:
    """A problem as the CLI prints it: services never name flags, so the flag is added here."""
    flag = FLAG_FIELDS.get(getattr(problem, "field", None) or "")
    if flag is None or str(problem).startswith(flag):
        return str(problem)
    if getattr(problem, "code", "") == "wave_not_found":
        wave = str(problem).split("`")[1] if "`" in problem else ""
        return f"{flag}: {problem} (create it with: python -m survey wave add {wave})"
    return f"{flag}: {problem}"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m survey", description="公众满意度调查平台: collection core")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except Rejected as err:  # NotFound, Forbidden, Invalid: one line per problem
        for line in err.problems:
            print(flag_hint(line), file=sys.stderr)
        return 2
    except (PermissionDenied, AuthError, ContactError, OutputError, FileNotFoundError) as err:
        print(str(err).splitlines()[0] if str(err) else type(err).__name__, file=sys.stderr)
        return 2
    except (sqlite3.DatabaseError, sa.exc.DBAPIError) as err:  # SURVEY_DB is a junk file, a folder, /proc, no server
        from survey.config import db_target
        cause = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
        shown = sa.engine.make_url(db_target()).render_as_string() if "://" in db_target() else db_target()
        print(f"SURVEY_DB={shown}: cannot be opened as a survey store ({cause})", file=sys.stderr)
        return 2
    except UnicodeDecodeError as err:
        print(f"a file is not UTF-8 text (save it as UTF-8): {err.reason} at byte {err.start}", file=sys.stderr)
        return 2
    except OSError as err:  # unreadable / unwritable paths, folders given as files
        if isinstance(err, BrokenPipeError):
            sys.stderr.close()
            return 0
        where = f"{err.filename}: " if err.filename else ""
        print(f"{where}{err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head`
        sys.stderr.close()
        return 0
