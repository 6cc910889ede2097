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


def test_every_command_is_documented_in_the_readme():
    """Each command and sub-command of `python -m survey` appears in the README as `python -m survey NAME`."""
    import argparse
    import re

    from survey.cli import build_parser

    def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
        return next((a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), {})

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = []
    for name, parser in commands(build_parser()).items():
        names += [f"{name} {sub}" for sub in commands(parser)] or [name]
    assert "schedule" in names and "link reopen" in names
    missing = [n for n in names if not re.search(rf"python -m survey {re.escape(n)}(\s|$)", readme)]
    assert missing == [], f"commands not in README.md: {missing}"


def test_schedule_shows_sets_and_refuses_with_flags(db_file):
    from survey.scheduling import rules_from_settings
    assert run("init").returncode == 0
    shown = run("schedule", "--wave", "2025")
    assert shown.returncode == 0, shown.stderr
    assert "weekday\t-" in shown.stdout and "max_attempts\t6" in shown.stdout
    done = run("schedule", "--wave", "2025", "--weekday", "18:00-21:00", "--weekend", "09:00-21:00",
               "--slot", "傍晚=18:00-19:30", "--slot", "晚上=19:30-21:00", "--busy-redial-minutes", "15",
               "--workdays", "2025-09-28,2025-10-11", "--holidays", "2025-10-01 2025-10-02")
    assert done.returncode == 0, done.stderr
    assert "slots\t傍晚 18:00-19:30; 晚上 19:30-21:00" in done.stdout
    assert "holidays\t2025-10-01,2025-10-02" in done.stdout
    stored = Store(db_file).wave("2025")["settings"]["schedule"]
    assert stored["workdays"] == ["2025-09-28", "2025-10-11"] and stored["busy_redial_minutes"] == 15
    # a change of one key keeps the others
    assert run("schedule", "--wave", "2025", "--max-attempts", "4").returncode == 0
    kept = Store(db_file).wave("2025")["settings"]["schedule"]
    assert kept == {**stored, "max_attempts": 4}
    bad = run("schedule", "--wave", "2025", "--weekday", "19:00-21:00", "--weekend", "09:00-12:00",
              "--workdays", "2025-10-01", "--max-attempts", "0")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    lines = [ln for ln in bad.stderr.splitlines() if ln.startswith("--")]
    assert any(ln.startswith("--slot: ") and "时间段“傍晚”（18:00-19:30）不在拨打时段内" in ln for ln in lines), lines
    assert any(ln.startswith("--workdays: ") and "2025-10-01 是周三" in ln for ln in lines), lines
    assert any(ln.startswith("--max-attempts: ") and "须在 1 到 50 之间" in ln for ln in lines), lines
    assert Store(db_file).wave("2025")["settings"]["schedule"] == kept  # nothing stored
    assert run("schedule", "--wave", "2025", "--slot", "晚上").returncode == 2
    assert rules_from_settings(Store(db_file).wave("2025")["settings"]).max_attempts == 4
