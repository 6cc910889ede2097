"""`python -m survey`: exit codes, one line per problem, no traceback."""
from __future__ import annotations

import os
import subprocess
import sys

from survey.store import Store
from tests.conftest import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "survey", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ}, timeout=120)


def test_init_then_demo_stores_2000_responses_once(db_file):
    assert run("init").returncode == 0
    first = run("demo", "--n", "2000", "--seed", "1")
    assert first.returncode == 0, first.stderr
    assert "stored 2000 new" in first.stdout
    again = run("demo", "--n", "2000", "--seed", "1")
    assert "stored 0 new" in again.stdout
    assert Store(db_file).count_responses("2025") == 2000


def test_bad_input_exits_2_with_one_line_per_problem(db_file):
    for args, expected in [
        (("wave", "add", "2025"), "wave `2025` exists already"),
        (("demo", "--n", "0"), "--n: must be a positive number, got 0"),
        (("demo", "--wave", "1999"), "--wave: no wave `1999`"),
        (("user", "add", "bob", "--role", "pollster", "--password", "long-enough-1"), "give --firm"),
        (("user", "add", "bob", "--role", "wizard"), "invalid choice"),
        (("nonsense",), "invalid choice"),
        (("wave", "add", "2026", "--questionnaire", "missing-q"), "questionnaire `missing-q` is not registered"),
    ]:
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        lines = [ln for ln in result.stderr.splitlines()  # first-run notices aside
                     if ln and "admin account created" not in ln and "contact-data key created" not in ln]
        assert len(lines) == 1 and expected in lines[0], (args, result.stderr)


def test_user_and_wave_commands(db_file):
    assert run("wave", "add", "2026", "--units", "思明区,湖里区").returncode == 0
    added = run("user", "add", "li", "--role", "pollster", "--firm", "甲公司", "--wave", "2026")
    assert added.returncode == 0 and "password:" in added.stdout
    listing = run("user", "list").stdout
    assert "li\tpollster\t甲公司\t2026" in listing
    assert run("user", "reset-password", "li", "--password", "another-pass").returncode == 0
    assert "2026\tdefault-2025\topen\t0\t思明区,湖里区" in run("wave", "list").stdout


def test_backup_command_writes_a_restorable_copy(db_file, tmp_path):
    run("demo", "--n", "30", "--seed", "3")
    out = tmp_path / "copy.db"
    assert run("backup", "--out", str(out)).returncode == 0
    assert Store(out).count_responses("2025") == 30
