"""Errors a user can act on, shared by imports, the CLI and the pages.

The kinds themselves (NotFound, Forbidden, Invalid) live in the neutral `common.errors`;
this module re-exports them and adds the import file's row wording.
"""
from __future__ import annotations

import re
from typing import Any

from common.errors import (MAX_REPORTED, FileProblem, Forbidden, Invalid, NotFound, Problem, Rejected, capped,
                           file_problem, wave_not_found)

__all__ = ["MAX_REPORTED", "FileProblem", "Forbidden", "ImportRejected", "Invalid", "NotFound", "Problem",
           "Rejected", "capped", "file_problem", "problem_rows", "problem_text", "row_problem", "wave_not_found"]


def _shown(value: Any) -> str:
    shown = "" if value is None else str(value)
    # invisible characters spelled out (a bidi override would reorder the line), long values cut
    shown = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in shown[:80])
    return shown + (f"… ({len(str(value))} characters)" if value is not None and len(str(value)) > 80 else "")


def row_problem(row: int, column: str, value: Any, reason: str, code: str = "invalid", **params: Any) -> FileProblem:
    """One problem of an input file in the words an analyst reads: row numbers as in Excel.

    `code` names the catalog text (`problems.<code>`, formatted with `params`) that pages show.
    """
    shown = _shown(value)
    return FileProblem(f"row {row}, column {column}: value {shown} — {reason}", column, code, row=row,
                       value=shown, params=params)


def problem_text(problem: str, lang: str = "zh") -> str:
    """A problem as the page shows it: from the catalog when it has a text for it, else as given."""
    from survey import i18n
    code = getattr(problem, "code", None)
    if not isinstance(problem, FileProblem) or f"problems.{code}" not in i18n.catalog("zh"):
        return _reason_text(problem, lang)
    reason = _reason_text(problem, lang)
    if problem.row is None:
        return i18n.t("problems.in_file", lang, name=problem.params.get("name", ""), reason=reason)
    return i18n.t("problems.in_row", lang, row=problem.row, column=column_name(problem.column or "", lang),
                  value=problem.value, reason=reason)


def column_name(column: str, lang: str = "zh") -> str:
    """A file's column as named on screen: `unit（区）`; the header itself when the catalog has no name."""
    from survey import i18n
    label = i18n.catalog(lang).get(f"problems.col.{column}") or i18n.catalog("zh").get(f"problems.col.{column}")
    return f"{column}（{label}）" if label else column


def problem_rows(problems: list[str], lang: str = "zh") -> list[dict[str, Any]]:
    """Problems as table rows (row, column, value, what is wrong) with catalog headers."""
    from survey import i18n
    out = []
    for p in problems:
        is_file = isinstance(p, FileProblem)
        out.append({i18n.t("problems.head_row", lang): str(p.row) if is_file and p.row is not None else "",
                    i18n.t("problems.head_column", lang): column_name(p.column, lang) if is_file and p.column else "",
                    i18n.t("problems.head_value", lang): p.value if is_file else "",
                    i18n.t("problems.head_problem", lang): _reason_text(p, lang) if is_file and p.row is not None
                    else problem_text(p, lang)})
    return out


def _reason_text(problem: str, lang: str) -> str:
    from survey import i18n
    code = getattr(problem, "code", None)
    if isinstance(problem, FileProblem) and f"problems.{code}" in i18n.catalog("zh"):
        params = dict(problem.params)
        if params.get("mode") in ("phone", "door", "paper", "web"):
            params["mode"] = i18n.t(f"mode.{params['mode']}", lang)
        return i18n.t(f"problems.{code}", lang, column=problem.column or "", **params)
    more = re.fullmatch(r"\.\.\. (\d+) more problems \((\d+) in all\)", str(problem))
    if more:  # the count line of `capped`
        return i18n.t("problems.more", lang, n=more[1], total=more[2])
    return str(problem)


class ImportRejected(Invalid):
    """A file refused as a whole; `problems` holds one line each (first 100, then a count)."""

    def __init__(self, problems: list[str], **kind: Any):
        self.total = len(problems)
        super().__init__(capped(list(problems)), **kind)
