"""Issue 16: each finding of the attacker / careless-user test, as a test that failed before the fix."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from survey.cli import main


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv("SURVEY_SECRET_KEY", raising=False)
    monkeypatch.delenv("SURVEY_KEY_FILE", raising=False)


def _cases(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "unit", "mode", "phone", "address", "age_band"])
        w.writerow(["C1", "思明区", "phone", "13812345678", "", ""])
        w.writerow(["C2", "湖里区", "phone", "13900001111", "", ""])
    return path


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


# ---- 1. a lost or wrong key is never silently replaced ---------------------------------
@pytest.fixture
def with_contacts(store, tmp_path, db_file):
    assert main(["cases", "import", str(_cases(tmp_path / "cases.csv")), "--wave", "2025"]) == 0
    return db_file.with_name(db_file.stem + ".key")


@pytest.mark.parametrize("command", [["wave", "list"], ["init"], ["key", "check"],
                                     ["export", "--wave", "2025", "--format", "csv", "--out", "x.csv",
                                      "--with-contacts"]])
def test_missing_key_stops_every_command_and_creates_nothing(with_contacts, tmp_path, capsys, command,
                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    with_contacts.unlink()
    before = _files(tmp_path)
    capsys.readouterr()
    assert main(command) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SURVEY_SECRET_KEY" in err[0] and str(with_contacts) in err[0]
    assert _files(tmp_path) == before  # no new key, no export


@pytest.mark.parametrize("bad", ["env", "garbage-file", "other-key-file", "binary-file"])
def test_wrong_key_stops_with_exit_2(with_contacts, capsys, monkeypatch, bad):
    from cryptography.fernet import Fernet
    if bad == "env":
        monkeypatch.setenv("SURVEY_SECRET_KEY", "another passphrase entirely")
    elif bad == "garbage-file":
        with_contacts.write_text("not a key at all\n")
    elif bad == "other-key-file":
        with_contacts.write_text(Fernet.generate_key().decode())
    else:
        with_contacts.write_bytes(b"\xff\xfe\x00junk")
    capsys.readouterr()
    assert main(["key", "check"]) == 2
    assert main(["wave", "list"]) == 2
    assert "SURVEY_SECRET_KEY" in capsys.readouterr().err


def test_key_check_with_the_right_key(with_contacts, capsys):
    assert main(["key", "check"]) == 0
    assert "opens all 2 stored contact(s)" in capsys.readouterr().out


def test_app_start_with_lost_key_creates_no_key(with_contacts, db_file):
    from survey.bootstrap import init_store
    from survey.contacts import KeyProblem
    with_contacts.unlink()
    with pytest.raises(KeyProblem):
        init_store(db_file)
    assert not with_contacts.exists()


def test_ip_salt_is_not_in_the_database(store, db_file):
    from survey.contacts import ip_salt
    salt = ip_salt(store)
    raw = db_file.read_bytes() + (Path(f"{db_file}-wal").read_bytes() if Path(f"{db_file}-wal").exists() else b"")
    assert salt.encode() not in raw
    assert salt != store.web_salt()
