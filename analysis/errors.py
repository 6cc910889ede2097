"""The exception analysis raises for bad input: every problem, one line each.

`InputError` is `common.errors.Invalid` under the name analysis callers already use.
"""
from __future__ import annotations

from common.errors import Forbidden, Invalid, NotFound, Problem, Rejected

InputError = Invalid

__all__ = ["Forbidden", "InputError", "Invalid", "NotFound", "Problem", "Rejected"]
