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

MAX_REPORTED = 100


class Problem(str):
    """One problem: the message (the string itself), the field it concerns and a code."""

    field: str | None
    code: str
    values: dict

    def __new__(cls, message: str, field: str | None = None, code: str = "invalid",
                values: dict | None = None) -> "Problem":
        obj = super().__new__(cls, message)
        obj.field = field
        obj.code = code
        obj.values = dict(values or {})  # the message's parameters, for a page that words it from the catalog
        return obj

    @property
    def message(self) -> str:
        return str.__str__(self)

    def __reduce__(self):  # picklable across processes
        return (Problem, (self.message, self.field, self.code, self.values))


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
