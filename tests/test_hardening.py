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


# ---- 2. formula injection in CSV exports and QC files ----------------------------------
def test_csv_cells_that_start_a_formula_are_neutralised(store, tmp_path):
    from survey.outputs import csv_cell, csv_safe
    import pandas as pd
    for bad in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "=_="]:
        assert csv_cell(bad) == "'" + bad
    assert csv_cell("满意") == "满意" and csv_cell(3) == 3
    frame = csv_safe(pd.DataFrame({"a": ["=1+1", "ok"], "n": [-1.5, 2.0]}))
    assert frame["a"].tolist() == ["'=1+1", "ok"] and frame["n"].tolist() == [-1.5, 2.0]


def test_export_and_qc_csv_keep_text_but_neutralise_formulas(store, tmp_path, capsys):
    import pandas as pd
    from survey.auth import SYSTEM
    from survey.importing import import_responses
    src = tmp_path / "resp.csv"
    assert main(["demo", "--n", "5", "--wave", "2025"]) == 0
    out = tmp_path / "e.csv"
    assert main(["export", "--wave", "2025", "--format", "csv", "--out", str(out)]) == 0
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    frame.loc[0, "response_id"] = "=HYPERLINK(\"http://evil\")"
    text_cols = [c for c in frame.columns if c.startswith("comment") or c in ("Q_comment",)]
    frame.to_csv(src, index=False)
    capsys.readouterr()
    import_responses(store, SYSTEM, "2025", src)
    assert main(["export", "--wave", "2025", "--format", "csv", "--out", str(out)]) == 0
    raw = out.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in raw and "\n=HYPERLINK" not in raw and ",=HYPERLINK" not in raw
    book = out.with_name("e.codebook.csv").read_text(encoding="utf-8-sig")
    assert "leading '" in book
    qc = tmp_path / "qc.csv"
    assert main(["qc", "--wave", "2025", "--out", str(qc)]) == 0
    assert "\n=" not in qc.read_text(encoding="utf-8-sig")


# ---- 11. failing commands write nothing; exports are atomic -----------------------------
def test_user_add_with_unknown_wave_creates_no_account(store, capsys):
    assert main(["user", "add", "zz", "--role", "pollster", "--password", "a-long-pass-phrase", "--wave", "2099"]) == 2
    assert store.account("zz") is None
    assert "2099" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["dir", "missing", "unwritable"])
def test_tokens_and_qc_with_bad_out_store_nothing(store, tmp_path, capsys, target):
    import os
    if target == "dir":
        out = tmp_path
    elif target == "missing":
        out = tmp_path / "nope" / "x.csv"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        os.chmod(ro, 0o500)
        out = ro / "x.csv"
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
    capsys.readouterr()
    assert main(["tokens", "--wave", "2025", "--unit", "思明区", "--n", "50", "--out", str(out)]) == 2
    assert store.web_tokens("2025") == []
    assert main(["qc", "--wave", "2025", "--out", str(out)]) == 2
    assert store.qc_runs("2025") == []
    assert main(["export", "--wave", "2025", "--format", "csv", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all("--out" in line for line in err)


def test_interrupted_export_leaves_no_partial_file(store, tmp_path, monkeypatch):
    from survey.auth import SYSTEM
    from survey import exporting
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "x.csv"
    table = exporting.build_export(store, SYSTEM, "2025")

    def boom(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(exporting.pd.DataFrame, "to_csv", boom)
    with pytest.raises(KeyboardInterrupt):
        exporting.write_export(table, "csv", out)
    assert list((tmp_path / "out").iterdir()) == []


# ---- 14. private files, backup onto the live store --------------------------------------
def test_store_backup_and_contact_export_are_private(store, db_file, tmp_path, capsys):
    import stat
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(db_file) == 0o600
    assert main(["backup", "--out", str(tmp_path / "b.db")]) == 0
    assert mode(tmp_path / "b.db") == 0o600
    assert main(["export", "--wave", "2025", "--format", "csv", "--out", str(tmp_path / "c.csv"),
                 "--with-contacts"]) == 0
    assert mode(tmp_path / "c.csv") == 0o600


def test_backup_onto_the_live_store_is_refused(store, db_file, capsys):
    size = db_file.stat().st_size
    capsys.readouterr()
    assert main(["backup", "--out", str(db_file)]) == 2
    assert "live store" in capsys.readouterr().err
    assert db_file.stat().st_size == size


def test_restore_a_backup_into_a_fresh_path_and_open_it(store, db_file, tmp_path, monkeypatch, capsys):
    import shutil
    assert main(["demo", "--n", "20", "--wave", "2025"]) == 0
    assert main(["backup", "--out", str(tmp_path / "b.db")]) == 0
    fresh = tmp_path / "restored" / "survey.db"
    fresh.parent.mkdir()
    shutil.copy2(tmp_path / "b.db", fresh)  # the README's restore steps: copy the backup and the key
    shutil.copy2(db_file.with_name("survey.key"), fresh.with_name("survey.key"))
    monkeypatch.setenv("SURVEY_DB", str(fresh))
    capsys.readouterr()
    assert main(["key", "check"]) == 0
    assert main(["wave", "list"]) == 0
    assert "\t20\t" in capsys.readouterr().out


# ---- 15. remaining tracebacks -> exit 2, one line ---------------------------------------
@pytest.mark.parametrize("junk", ["file", "dir", "proc"])
def test_survey_db_pointing_at_junk(tmp_path, monkeypatch, capsys, junk):
    target = {"file": tmp_path / "junk.db", "dir": tmp_path, "proc": Path("/proc")}[junk]
    if junk == "file":
        target.write_bytes(b"this is not sqlite" * 100)
    monkeypatch.setenv("SURVEY_DB", str(target))
    assert main(["wave", "list"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_importing_a_directory(store, tmp_path, capsys):
    assert main(["import", str(tmp_path), "--wave", "2025"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
