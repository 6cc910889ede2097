"""One vocabulary for rejections, shared by every package (survey, analysis, pages, CLI).

A rejection is one of three kinds: `NotFound` (the thing named does not exist),
`Forbidden` (the actor may not) and `Invalid` (the input is wrong). Each carries its
problems; each problem is a `Problem`: a message a pollster or analyst reads, the `field`
it concerns and a stable `code`. Pages and tests compare codes, never the ends of messages.
Messages never name CLI flags: the CLI layer adds `--field:` when it prints them.

`Problem` is a `str` (its message), so code that joins or prints `err.problems` keeps working.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_REPORTED = 100


class Problem(str):
    """One problem: the message (the string itself), the field it concerns and a code."""

    field: str | None
    code: str

    def __new__(cls, message: str, field: str | None = None, code: str = "invalid") -> "Problem":
        obj = super().__new__(cls, message)
        obj.field = field
        obj.code = code
        return obj

    @property
    def message(self) -> str:
        return str.__str__(self)

    def __reduce__(self):  # picklable across processes
        return (Problem, (self.message, self.field, self.code))


class FileProblem(Problem):
    """A problem of an input file that the catalog can say in the reader's language.

    The message (the string) stays the English line the CLI prints; `row` (as in Excel,
    None for the whole file), `column`, `value` (as shown) and `params` let
    `problem_text` say it from the catalog key `problems.<code>`. The column is not the
    Problem's `field` (that one names a form field, which the CLI prints as `--field:`).
    """

    row: int | None
    column: str | None
    value: str
    params: dict[str, Any]

    def __new__(cls, message: str, column: str | None = None, code: str = "invalid", *, row: int | None = None,
                value: str = "", params: dict[str, Any] | None = None) -> "FileProblem":
        obj = super().__new__(cls, message, None, code)
        obj.row, obj.column, obj.value, obj.params = row, column, value, dict(params or {})
        return obj

    def __reduce__(self):
        return (_file_problem, (self.message, self.column, self.code, self.row, self.value, self.params))


def _file_problem(message, field, code, row, value, params):  # unpickling with keyword arguments
    return FileProblem(message, field, code, row=row, value=value, params=params)


def renamed(problem: str, old: str, new: str) -> str:
    """The problem with a file's name `old` (e.g. a server temp path) shown as `new`, its kind kept."""
    if isinstance(problem, FileProblem):
        params = {k: (v.replace(old, new) if isinstance(v, str) else v) for k, v in problem.params.items()}
        return FileProblem(problem.message.replace(old, new), problem.column, problem.code, row=problem.row,
                           value=problem.value, params=params)
    if isinstance(problem, Problem):
        return Problem(problem.message.replace(old, new), problem.field, problem.code)
    return str(problem).replace(old, new)


def file_problem(name: str, reason: str, code: str, column: str | None = None, **params: Any) -> FileProblem:
    """A problem of a whole file (a missing column, an unreadable file), catalog text `problems.<code>`."""
    return FileProblem(f"{name}: {reason}", column, code, params={"name": name, **params})


class Rejected(Exception):
    """Base of every rejection a user can act on; `problems` lists one Problem each."""

    default_code = "invalid"
    separator = "\n"

    def __init__(self, problems: str | Iterable[str] = (), *, field: str | None = None,
                 code: str | None = None):
        items = [problems] if isinstance(problems, str) else list(problems)
        self.problems: list[Problem] = [
            p if isinstance(p, Problem) and field is None and code is None
            else Problem(str(p), field if field is not None else getattr(p, "field", None),
                         code or getattr(p, "code", None) or self.default_code)
            for p in items]
        super().__init__(self.separator.join(self.problems))

    @property
    def code(self) -> str:
        return self.problems[0].code if self.problems else self.default_code

    @property
    def field(self) -> str | None:
        return self.problems[0].field if self.problems else None

    @property
    def codes(self) -> set[str]:
        return {p.code for p in self.problems}


class NotFound(Rejected):
    """The wave, account, response, case … named does not exist."""

    default_code = "not_found"


class Forbidden(Rejected):
    """The actor lacks the right for this operation or resource."""

    default_code = "forbidden"


class Invalid(Rejected, ValueError):
    """Input refused: wrong type, out of range, unknown category, closed wave …"""

    default_code = "invalid"


def capped(problems: list[str], limit: int = MAX_REPORTED) -> list[str]:
    """The first `limit` problems, then one line counting the rest."""
    total = len(problems)
    shown = list(problems[:limit])
    if total > limit:
        shown.append(f"... {total - limit} more problems ({total} in all)")
    return shown


def wave_not_found(wave: str) -> NotFound:
    """The one rejection for a wave that does not exist."""
    return NotFound(f"no wave `{wave}`", field="wave", code="wave_not_found")
