"""Issue 16: each finding of the attacker / careless-user test, as a test that failed before the fix."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from survey.cli import main
from tests.conftest import ON_PG, key_path


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
    return key_path(db_file)


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
    if ON_PG:  # no file to read: every value of every table, as text
        raw = "".join(str(row) for table in store.db.table_names()
                      for row in store.query(f"SELECT * FROM {table}")).encode()
    else:
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
    from survey.bootstrap import questionnaire_for_wave
    qn = questionnaire_for_wave(store, "2025")
    comment = next(q.id for q in qn.questions if q.type == "text" and q.show_if is None)
    frame = _export_rows(store, tmp_path, 2)
    frame.loc[0, comment] = '=HYPERLINK("http://evil","点此")'
    frame.loc[1, comment] = "=_= 还行"
    frame.to_csv(tmp_path / "resp.csv", index=False)
    assert main(["import", str(tmp_path / "resp.csv"), "--wave", "2025"]) == 0
    out = tmp_path / "e.csv"
    assert main(["export", "--wave", "2025", "--format", "csv", "--out", str(out)]) == 0
    back = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("response_id")
    assert back.loc["NEW-0", comment] == "'=HYPERLINK(\"http://evil\",\"点此\")"
    assert back.loc["NEW-1", comment] == "'=_= 还行"  # kept, neutralised
    book = out.with_name("e.codebook.csv").read_text(encoding="utf-8-sig")
    assert "leading '" in book
    qc = tmp_path / "qc.csv"
    assert main(["qc", "--wave", "2025", "--out", str(qc)]) == 0
    assert "\n=" not in qc.read_text(encoding="utf-8-sig")


def test_scoring_config_with_infinite_points_is_refused():
    import yaml
    from analysis.scoring import ConfigError, parse_config
    from tests.conftest import ROOT
    raw = yaml.safe_load((ROOT / "data" / "scoring" / "default.yaml").read_text(encoding="utf-8"))
    for bad in ({"full_points": float("inf")}, {"items": [["air", "water"], "sea"]}):
        with pytest.raises(ConfigError):
            parse_config({**raw, **bad}, "x.yaml")


def test_non_utf8_quotas_file_is_one_line(store, tmp_path, capsys):
    path = tmp_path / "q.yaml"
    path.write_bytes("quotas:\n  - unit: 思明区\n    target: 5\n".encode("gbk"))
    capsys.readouterr()
    assert main(["quotas", "set", "--wave", "2025", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "q.yaml" in err[0] and "UTF-8" in err[0]


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
    if not ON_PG:  # a PostgreSQL store is no file: its rights are the server's
        assert mode(db_file) == 0o600
    assert main(["backup", "--out", str(tmp_path / "b.db")]) == 0
    assert mode(tmp_path / "b.db") == 0o600
    assert main(["export", "--wave", "2025", "--format", "csv", "--out", str(tmp_path / "c.csv"),
                 "--with-contacts"]) == 0
    assert mode(tmp_path / "c.csv") == 0o600


def test_backup_onto_the_live_store_or_its_key_is_refused(store, db_file, capsys):
    main(["key", "check"])  # makes the key file
    # a PostgreSQL store is no file: its key is the one file a backup could overwrite
    for target in [key_path(db_file)] + ([] if ON_PG else [Path(db_file)]):
        content = target.read_bytes()
        capsys.readouterr()
        assert main(["backup", "--out", str(target)]) == 2
        assert "live store" in capsys.readouterr().err
        assert target.read_bytes() == content


def test_restore_a_backup_into_a_fresh_path_and_open_it(store, db_file, tmp_path, monkeypatch, capsys):
    import shutil
    assert main(["demo", "--n", "20", "--wave", "2025"]) == 0
    assert main(["backup", "--out", str(tmp_path / "b.db")]) == 0
    fresh = tmp_path / "restored" / "survey.db"
    fresh.parent.mkdir()
    shutil.copy2(tmp_path / "b.db", fresh)  # the README's restore steps: copy the backup and the key
    # on PostgreSQL the backup is a SQLite file: this restores a PostgreSQL store onto SQLite
    shutil.copy2(key_path(db_file), fresh.with_name("survey.key"))
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


# ---- 6. login: password policy, same answer and timing for unknown users ---------------
@pytest.mark.parametrize("password", ["12345678", " " * 12, "1234567890", "Password123", "qwertyuiop", "aaaaaaaaaaaa",
                                      "short-9ch"])
def test_weak_passwords_are_refused(store, password, capsys):
    from survey.auth import SYSTEM, StoreError, create_account, reset_password
    with pytest.raises(StoreError):
        create_account(store, SYSTEM, "weak", "analyst", password)
    with pytest.raises(StoreError):
        reset_password(store, SYSTEM, "admin", password)
    assert main(["user", "add", "weak", "--role", "analyst", "--password", password]) == 2
    assert store.account("weak") is None


def test_a_good_password_and_the_username_rule(store):
    from survey.auth import SYSTEM, StoreError, create_account
    create_account(store, SYSTEM, "good", "analyst", "厦门湖里-满意度-7")
    with pytest.raises(StoreError, match="username"):
        create_account(store, SYSTEM, "longusername", "analyst", "LongUserName")


def test_unknown_user_costs_the_same_as_a_known_one(store, accounts):
    import time
    from survey.auth import AuthError, login

    def cost(user: str) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            with pytest.raises(AuthError) as err:
                login(store, user, "not-the-password")
            best = min(best, time.perf_counter() - start)
        return best, str(err.value)
    (known, known_msg), (unknown, unknown_msg) = cost("ana"), cost("nobody-here")
    assert known_msg == unknown_msg
    assert unknown > known / 3  # both pay one argon2 verification (was 0.02 ms against 158 ms)


# ---- 7. demo refuses a store with real data; reruns add no audit rows ------------------
def test_demo_refuses_a_store_with_imported_responses(store, tmp_path, capsys):
    assert main(["demo", "--n", "5"]) == 0
    out = tmp_path / "e.csv"
    assert main(["export", "--wave", "2025", "--format", "csv", "--out", str(out)]) == 0
    import pandas as pd
    frame = pd.read_csv(out, dtype=str, keep_default_na=False).head(1)
    frame["response_id"] = "REAL-1"
    frame.to_csv(tmp_path / "real.csv", index=False)
    assert main(["import", str(tmp_path / "real.csv"), "--wave", "2025"]) == 0
    accounts_before = len(store.accounts())
    n_before = store.count_responses("2025")
    capsys.readouterr()
    assert main(["demo", "--n", "5", "--seed", "9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "real data" in err[0]
    assert store.count_responses("2025") == n_before and len(store.accounts()) == accounts_before


def test_demo_refuses_a_store_with_contact_lists(with_contacts, capsys):
    assert main(["demo", "--n", "5"]) == 2
    assert "imported case" in capsys.readouterr().err


def test_demo_rerun_adds_no_audit_rows(store):
    assert main(["demo", "--n", "5"]) == 0
    before = len(store.audit_log())
    assert main(["demo", "--n", "5"]) == 0
    assert len(store.audit_log()) == before


# ---- 3 / 9. dates and settings validated when they are set -----------------------------
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "Infinity", "1e400", "99999999"])
def test_qc_setting_that_is_not_finite_or_in_range_is_not_stored(store, tmp_path, capsys, value):
    before = store.wave("2025")["settings"]
    assert main(["qc", "--wave", "2025", "--out", str(tmp_path / "q.csv"),
                 "--set", f"duplicate_window_minutes={value}"]) == 2
    assert "duplicate_window_minutes" in capsys.readouterr().err
    assert store.wave("2025")["settings"] == before
    assert main(["qc", "--wave", "2025", "--out", str(tmp_path / "q.csv")]) == 0  # later runs still work


@pytest.mark.parametrize("opens,closes", [("notadate", None), (None, "2025-13-40"), ("2025-11-01", "2025-10-01")])
def test_wave_dates_are_validated_when_set(store, capsys, opens, closes):
    args = ["wave", "add", "2026"] + (["--opens", opens] if opens else []) + (["--closes", closes] if closes else [])
    assert main(args) == 2
    assert store.wave("2026") is None
    assert main(["wave-dates", "2025", "--opens", opens or "", "--closes", closes or ""]) == 2
    assert store.wave("2025")["opens_at"] is None


# ---- 8 / 12. imports: bombs, duplicate columns, formula cells, invisible ids, inf -------
def _export_rows(store, tmp_path, n: int = 3):
    import pandas as pd
    assert main(["demo", "--n", str(n)]) == 0
    out = tmp_path / "base.csv"
    assert main(["export", "--wave", "2025", "--format", "csv", "--out", str(out)]) == 0
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    frame["response_id"] = [f"NEW-{i}" for i in range(len(frame))]
    return frame


def test_xlsx_bomb_is_refused_before_parsing(store, tmp_path, capsys):
    import zipfile
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b" " * (300 * 1024 * 1024))
    assert bomb.stat().st_size < 2 * 1024 * 1024
    capsys.readouterr()
    assert main(["import", str(bomb), "--wave", "2025"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "inflates" in err[0]


def test_duplicate_column_is_refused(store, tmp_path, capsys):
    frame = _export_rows(store, tmp_path)
    path = tmp_path / "dup.csv"
    text = frame.to_csv(index=False)
    header, rest = text.split("\n", 1)
    path.write_text(header + ",sex\n" + "\n".join(line + ",女" for line in rest.strip().split("\n")) + "\n")
    capsys.readouterr()
    assert main(["import", str(path), "--wave", "2025"]) == 2
    assert "column `sex` appears twice" in capsys.readouterr().err


def test_formula_cell_without_value_is_refused(store, tmp_path, capsys):
    import openpyxl
    frame = _export_rows(store, tmp_path, 2)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(frame.columns))
    for values in frame.itertuples(index=False):
        ws.append(list(values))
    ws.cell(row=3, column=list(frame.columns).index("sex") + 1, value='=IF(1,"男","女")')
    wb.save(tmp_path / "f.xlsx")
    capsys.readouterr()
    assert main(["import", str(tmp_path / "f.xlsx"), "--wave", "2025"]) == 2
    assert "row 3, column" in capsys.readouterr().err


@pytest.mark.parametrize("rid", ["X1\u200b", "X\u202e1", "=X1", "+X1", "@X1", "X\x001"])
def test_ids_with_invisible_characters_or_formula_start_are_refused(store, tmp_path, capsys, rid):
    frame = _export_rows(store, tmp_path, 1)
    frame.loc[0, "response_id"] = rid
    frame.to_csv(tmp_path / "i.csv", index=False)
    n = store.count_responses("2025")
    capsys.readouterr()
    assert main(["import", str(tmp_path / "i.csv"), "--wave", "2025"]) == 2
    assert "row 2" in capsys.readouterr().err
    assert store.count_responses("2025") == n


@pytest.mark.parametrize("duration", ["inf", "-inf", "1e12"])
def test_duration_that_is_not_finite_is_refused(store, tmp_path, capsys, duration):
    frame = _export_rows(store, tmp_path, 1)
    frame.loc[0, "duration_s"] = duration
    frame.to_csv(tmp_path / "d.csv", index=False)
    capsys.readouterr()
    assert main(["import", str(tmp_path / "d.csv"), "--wave", "2025"]) == 2
    assert "row 2, column duration_s" in capsys.readouterr().err


# ---- 13. free text: 2,000 characters, control characters stripped ----------------------
def test_long_comment_refused_and_control_characters_stripped(store, tmp_path, capsys):
    from survey.bootstrap import questionnaire_for_wave
    from survey.questionnaire import clean_text
    qn = questionnaire_for_wave(store, "2025")
    text_q = next(q.id for q in qn.questions if q.type == "text" and q.show_if is None)
    frame = _export_rows(store, tmp_path, 2)
    frame.loc[0, text_q] = "好" * 2001
    frame.to_csv(tmp_path / "c.csv", index=False)
    capsys.readouterr()
    assert main(["import", str(tmp_path / "c.csv"), "--wave", "2025"]) == 2
    assert f"column {text_q}" in capsys.readouterr().err
    frame.loc[0, text_q] = "很好\u200b\u202e 谢谢\x07\r\n再见"
    frame.to_csv(tmp_path / "c.csv", index=False)
    assert main(["import", str(tmp_path / "c.csv"), "--wave", "2025"]) == 0
    assert store.response("NEW-0")["answers"][text_q] == "很好 谢谢\n再见"
    assert clean_text("a\x00b\tc") == "ab c"  # a NUL typed into a form is dropped (a NUL in a CSV: refused)


# ---- 10. one bad questionnaire file blocks nothing else --------------------------------
def test_bad_questionnaire_files_are_named_and_left_out(db_file, tmp_path, monkeypatch, capsys, caplog):
    import shutil
    import survey.bootstrap as bootstrap
    from survey.config import QUESTIONNAIRE_DIR
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    for path in QUESTIONNAIRE_DIR.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    (folder / "broken.yaml").write_text("id: broken\nquestions: [", encoding="utf-8")
    (folder / "gbk.yaml").write_bytes("id: gbk\ntitle: 满意度\n".encode("gbk"))
    (folder / "invalid.yaml").write_text("id: invalid\nversion: x\n", encoding="utf-8")
    monkeypatch.setattr(bootstrap, "QUESTIONNAIRE_DIR", folder)
    assert main(["wave", "list"]) == 0
    assert "2025" in capsys.readouterr().out
    logged = " ".join(r.getMessage() for r in caplog.records)
    for name in ("broken.yaml", "gbk.yaml", "invalid.yaml"):
        assert name in logged
    assert "UTF-8" in logged


# ---- 14. small leaks ----------------------------------------------------------------------
def test_second_device_on_a_token_never_sees_the_first_devices_draft(store):
    from survey import webform
    from survey.auth import SYSTEM
    from survey.webform import Draft, Refused, Visitor
    _, [token] = webform.generate_tokens(store, SYSTEM, "2025", "湖里区", 1)
    first = webform.open_survey(store, Visitor("a" * 32, "10.0.0.1"), token=token)
    assert isinstance(first, Draft)
    webform.save_progress(store, first.draft_id, {"comment": "我家住在 3 号楼"}, 3)
    second = webform.open_survey(store, Visitor("b" * 32, "10.0.0.2"), token=token)
    assert isinstance(second, Refused) and second.reason == "token_other_device"
    again = webform.open_survey(store, Visitor("a" * 32, "10.0.0.1"), token=token)
    assert isinstance(again, Draft) and again.answers == {"comment": "我家住在 3 号楼"}


def test_run_qc_by_a_supervisor_returns_only_readable_flags(store, accounts):
    from survey import quality
    from survey.bootstrap import questionnaire_for_wave
    from survey.responses import build_record
    from tests.conftest import complete_answers
    wave, qn = store.wave("2025"), questionnaire_for_wave(store, "2025")
    records = [build_record(qn, wave, unit="思明区", mode="phone", answers=complete_answers(), submit_key=f"k{i}",
                            source="test", interviewer=who, firm=firm, duration_s=d)
               for i, (who, firm, d) in enumerate([("p1", "A", 300.0)] * 6 + [("p1", "A", 5.0), ("p3", "B", 4.0)])]
    store.insert_responses(records, "test")
    mine = quality.run_qc(store, accounts["sup"], "2025")
    firms = {r["response_id"]: r["firm"] for r in store.responses("2025")}
    assert mine.flags and all(firms[f["response_id"]] == "A" for f in mine.flags)
    assert any(firms[f["response_id"]] == "B" for f in quality.run_qc(store, accounts["ana"], "2025").flags)


# ---- 12. the attempts import is checked against the store -------------------------------
def test_attempts_import_checks_cases_pollsters_responses_dates_and_modes(store, with_contacts, accounts, tmp_path):
    from survey.errors import ImportRejected
    from survey.fieldwork import import_attempts
    path = tmp_path / "att.csv"
    path.write_text("case_id,wave,unit,mode,interviewer,attempted_at,disposition,response_id\n"
                    "C9,2025,思明区,phone,p1,2025-06-01 09:00,3.13,\n"        # unknown case
                    "C1,2025,思明区,phone,ghost,2025-06-01 09:00,3.13,\n"     # unknown pollster
                    "C1,2025,思明区,phone,p1,2025-06-01 10:00,1.1,RNONE\n"     # 1.1 without its response
                    "C1,2025,思明区,phone,p1,9999-06-01 10:00,3.13,\n"         # the year 9999
                    "C2,2025,湖里区,door,p1,2025-06-01 10:00,3.13,\n",         # a phone case as door
                    encoding="utf-8")
    with pytest.raises(ImportRejected) as err:
        import_attempts(store, path, "2025", "system")
    text = "\n".join(err.value.problems)
    for expected in ("row 2, column case_id", "row 3, column interviewer", "row 4, column response_id",
                     "row 5, column attempted_at", "row 6, column mode"):
        assert expected in text, text


def test_attempts_import_refuses_one_case_in_two_modes(store, accounts, tmp_path):
    from survey.errors import ImportRejected
    from survey.fieldwork import import_attempts
    path = tmp_path / "att.csv"
    path.write_text("case_id,wave,unit,mode,interviewer,attempted_at,disposition,response_id\n"
                    "A1,2025,思明区,phone,p1,2025-06-01 09:00,3.13,\n"
                    "A1,2025,思明区,door,p1,2025-06-02 09:00,3.13,\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="row 3, column mode"):
        import_attempts(store, path, "2025", "system")
