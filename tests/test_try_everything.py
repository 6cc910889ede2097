"""Try everything: every page of every role, odd input in every field, the last option of every choice.

On a store with demo data, each role opens each of its pages (AppTest, a fresh session per
page), types odd input into every text field (a digit that is no option, 10 digits, markup,
emoji, blanks), then picks the last option of every radio and selectbox. The page must never
show an exception, and in the Chinese UI no table header may be a code identifier
(`n_valid`, `mode`): headers come from the catalog.
"""
from __future__ import annotations

import re

import pytest

from tests.test_app import app_as
from ui.registry import pages_for

pytestmark = pytest.mark.app

ODD = ["446", "1234567890", "<b>x</b>", "😀👍", "   "]
IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")  # n_valid, mode, unit, response_id …
ROLES = {"p1": "pollster", "sup": "supervisor", "ana": "analyst", "admin": "admin", "li": "liaison"}


def code_headers(at) -> list[str]:
    bad = []
    for frame in at.dataframe:
        value = frame.value
        names = [str(c) for c in value.columns] + [str(n) for n in (value.index.names or []) if n]
        bad += [n for n in names if IDENTIFIER.match(n)]
    return bad


FOUND: list[str] = []


def check(at, where: str) -> None:
    """Note what is wrong on the page (the test fails at the end with every finding)."""
    if at.exception:
        FOUND.append(f"{where}: exception {[e.value for e in at.exception][0][:300]}")
    if code_headers(at):
        FOUND.append(f"{where}: code headers {code_headers(at)}")


def test_every_page_of_every_role_survives_odd_input(store, accounts):
    from survey.demo import store_demo
    from survey.auth import SYSTEM, create_account
    store_demo(store, "2025", 300, 1)
    create_account(store, SYSTEM, "li", "liaison", "test-pass-123", unit="思明区")
    FOUND.clear()
    for username, role in ROLES.items():
        for spec in pages_for(role):
            where = f"{username} {spec.path}"
            at = app_as(store, username)
            at.switch_page(spec.path).run()
            check(at, where)
            fields = [f for f in at.text_input if not f.disabled] + [f for f in at.text_area if not f.disabled]
            if fields:
                for i, field in enumerate(fields):
                    field.input(ODD[i % len(ODD)])
                at.run()
                check(at, f"{where} (odd text)")
            choices = [(c, _last(c)) for c in list(at.radio) + list(at.selectbox) if c.options and not c.disabled]
            choices = [(c, v) for c, v in choices if v is not None]
            if choices:
                for choice, value in choices:
                    choice.set_value(value)
                at.run()
                check(at, f"{where} (last options)")
    assert not FOUND, "\n".join(FOUND)


def _last(widget):
    """The value behind the last option shown, or None when it cannot be found.

    AppTest sets radios by value, and a radio shows its values through a format function
    (codes as "5 满意"): candidates are tried against that function.
    """
    label = list(widget.options)[-1]
    head, _, tail = label.partition(" ")
    candidates = [label, tail, head, *range(10), *_state_values(widget)]
    for candidate in candidates:
        try:
            if str(widget.format_func(candidate)) == label:
                return candidate
        except Exception:  # noqa: BLE001 - a format function for other values
            continue
    return None


def _state_values(widget) -> list:
    """Values the page keeps in its session (wave ids, usernames …): candidates for a selectbox."""
    out = []
    for key in widget.root.session_state.filtered_state if hasattr(widget.root.session_state, "filtered_state") else []:
        value = widget.root.session_state[key]
        if isinstance(value, (str, int)):
            out.append(value)
    return out
