"""Errors a user can act on, shared by imports, the CLI and the pages."""
from __future__ import annotations

from typing import Any

MAX_REPORTED = 100


def row_problem(row: int, column: str, value: Any, reason: str) -> str:
    """One problem of an input file in the words an analyst reads: row numbers as in Excel."""
    shown = "" if value is None else str(value)
    # invisible characters spelled out (a bidi override would reorder the line), long values cut
    shown = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in shown[:80])
    shown += f"… ({len(str(value))} characters)" if value is not None and len(str(value)) > 80 else ""
    return f"row {row}, column {column}: value {shown} — {reason}"


class ImportRejected(Exception):
    """A file refused as a whole; `problems` holds one line each (first 100, then a count)."""

    def __init__(self, problems: list[str]):
        total = len(problems)
        self.problems = list(problems[:MAX_REPORTED])
        if total > MAX_REPORTED:
            self.problems.append(f"... {total - MAX_REPORTED} more problems ({total} in all)")
        self.total = total
        super().__init__("\n".join(self.problems))
