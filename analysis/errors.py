"""The one exception analysis raises for bad input: every problem, one line each."""
from __future__ import annotations


class InputError(ValueError):
    """Input refused before computing; `problems` name unit, variable and category."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems
