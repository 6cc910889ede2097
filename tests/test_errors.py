"""One vocabulary for rejections: every service raises NotFound / Forbidden / Invalid with codes."""
from __future__ import annotations

import pickle

import pytest

from analysis.errors import InputError
from common.errors import Forbidden, Invalid, NotFound, Problem, Rejected, wave_not_found
from survey import auth, fieldwork, paper, quality, responses, supervision, webform
from survey.auth import SYSTEM, PermissionDenied
from survey.cli import CliError, flag_hint
from survey.errors import ImportRejected
from survey.exporting import ExportError
from survey.responses import SubmitError
from survey.store import Store, StoreError
from survey.waves import get_wave


def test_the_kinds_share_one_base_and_the_old_names_are_aliases():
    for kind in (NotFound, Forbidden, Invalid):
        assert issubclass(kind, Rejected)
    assert InputError is Invalid and PermissionDenied is Forbidden and StoreError is Rejected
    for old in (ImportRejected, SubmitError, ExportError, CliError, auth.AuthError):
        assert issubclass(old, Rejected)
    assert issubclass(Invalid, ValueError)  # callers that caught ValueError still do


def test_a_problem_carries_field_code_and_message_and_survives_pickling():
    err = Invalid(["a", Problem("b", field="unit", code="unknown_unit")], field=None)
    assert err.problems == ["a", "b"] and err.problems[1].code == "unknown_unit"
    assert err.code == "invalid" and err.codes == {"invalid", "unknown_unit"}
    back = pickle.loads(pickle.dumps(err.problems[1]))
    assert (back.message, back.field, back.code) == ("b", "unit", "unknown_unit")
    assert str(SubmitError(["x", "y"])) == "x; y"


def test_messages_never_name_flags_the_cli_adds_them():
    problem = wave_not_found("1999").problems[0]
    assert "--" not in problem
    assert flag_hint(problem).startswith("--wave: no wave `1999`")
    assert flag_hint(Problem("plain")) == "plain"


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "s.db")


@pytest.mark.parametrize("call", [
    lambda s: get_wave(s, "1999"),
    lambda s: fieldwork.wave_or_error(s, "1999"),
    lambda s: quality.settings_for(s, "1999"),
    lambda s: supervision.progress(s, SYSTEM, "1999"),
    lambda s: webform.generate_tokens(s, SYSTEM, "1999", "x", 1),
    lambda s: paper.form_status(s, SYSTEM, "1999", "P1"),
    lambda s: auth.assign(s, SYSTEM, "admin", wave="1999"),
])
def test_every_wave_lookup_raises_the_same_not_found(store, call):
    store.add_account("admin", "admin", auth.hash_password("x" * 12), "test")
    with pytest.raises(NotFound) as err:
        call(store)
    assert err.value.code == "wave_not_found" and err.value.field == "wave"
