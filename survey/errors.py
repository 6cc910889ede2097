"""Errors a user can act on, shared by imports, the CLI and the pages.

The kinds themselves (NotFound, Forbidden, Invalid) live in the neutral `common.errors`;
this module re-exports them and adds the import file's row wording.
"""
from __future__ import annotations

from typing import Any

from common.errors import (MAX_REPORTED, Forbidden, Invalid, NotFound, Problem, Rejected, capped,
                           wave_not_found)

__all__ = ["MAX_REPORTED", "Forbidden", "ImportRejected", "Invalid", "NotFound", "Problem", "Rejected",
           "capped", "row_problem", "wave_not_found"]


def row_problem(row: int, column: str, value: Any, reason: str) -> str:
    """One problem of an input file in the words an analyst reads: row numbers as in Excel."""
    shown = "" if value is None else str(value)
    return f"row {row}, column {column}: value {shown} — {reason}"


class ImportRejected(Invalid):
    """A file refused as a whole; `problems` holds one line each (first 100, then a count)."""

    def __init__(self, problems: list[str], **kind: Any):
        self.total = len(problems)
        super().__init__(capped(list(problems)), **kind)
