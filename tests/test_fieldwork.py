"""Fieldwork core: final codes and AAPOR rates by hand, encrypted contacts, rights, imports, quotas."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pandas as pd
import pytest

from survey.auth import SYSTEM, Account, PermissionDenied
from survey.contacts import ContactCipher, ContactError, mask_phone, normalize_phone
from survey.errors import ImportRejected
from survey.aapor import DISPOSITIONS, RATE_COLUMNS, final_codes, rates_table
from survey.fieldwork import (assign_cases, attempts_frame, case_contact, contacts_for_wave, import_attempts,
                              import_cases, next_case, record_attempt)
from survey.quotas import QuotaError, quota_status, set_quotas
from survey.responses import submit_interview
from survey.store import StoreError
from survey.supervision import unit_targets
from tests.conftest import complete_answers

# A small attempts file. Final codes worked out by hand with the priority
# 1.1 > 1.2 > 4.x > 2.1x > 2.3x > 2.2x > 3.x (latest code within a class):
HAND = """case_id,wave,unit,mode,interviewer,attempted_at,disposition,response_id
A1,2025,思明区,phone,p1,2025-06-01 09:00,3.13,
A1,2025,思明区,phone,p1,2025-06-01 15:00,2.21,
A1,2025,思明区,phone,p1,2025-06-02 10:00,1.1,RA1
A2,2025,思明区,phone,p1,2025-06-01 09:10,3.13,
A2,2025,思明区,phone,p1,2025-06-02 11:00,2.11,
A3,2025,思明区,phone,p1,2025-06-01 09:20,2.11,
A3,2025,思明区,phone,p1,2025-06-01 09:25,4.70,
A4,2025,思明区,phone,p2,2025-06-01 09:30,1.2,RA4
A5,2025,思明区,phone,p2,2025-06-01 10:00,3.13,
A5,2025,思明区,phone,p2,2025-06-01 09:00,3.12,
A6,2025,湖里区,door,p2,2025-06-01 10:00,2.24,
A6,2025,湖里区,door,p2,2025-06-01 11:00,2.33,
A7,2025,湖里区,door,p2,2025-06-01 10:10,3.13,
A7,2025,湖里区,door,p2,2025-06-01 12:10,2.24,
A8,2025,湖里区,door,p1,2025-06-01 10:20,3.21,
A9,2025,湖里区,phone,p1,2025-06-01 10:30,1.2,RA9
A9,2025,湖里区,phone,p1,2025-06-01 10:40,1.1,RA9
A10,2025,湖里区,phone,p2,2025-06-01 10:50,4.31,
A11,2025,湖里区,phone,p1,2025-06-01 11:00,2.12,
A11,2025,湖里区,phone,p1,2025-06-01 16:00,2.21,
A12,2025,思明区,phone,p2,2025-06-01 11:10,1.2,RA12
A12,2025,思明区,phone,p2,2025-06-01 11:20,4.70,
"""
EXPECTED_FINAL = {  # case: (final code, category) — reasoning in the comment
    "A1": ("1.1", "I"),    # 1.1 beats 2.21 and 3.13
    "A2": ("2.11", "R"),   # 2.1x beats 3.x
    "A3": ("4.70", "NE"),  # 4.x beats 2.1x
    "A4": ("1.2", "P"),
    "A5": ("3.13", "UH"),  # same class: the latest attempt (10:00, listed first in the file)
    "A6": ("2.33", "O"),   # 2.3x beats 2.2x
    "A7": ("2.24", "NC"),  # 2.2x beats 3.x
    "A8": ("3.21", "UO"),
    "A9": ("1.1", "I"),    # 1.1 beats 1.2
    "A10": ("4.31", "NE"),
    "A11": ("2.12", "R"),  # 2.1x beats 2.2x
    "A12": ("1.2", "P"),   # 1.2 beats 4.x
}


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv("SURVEY_SECRET_KEY", raising=False)
    monkeypatch.delenv("SURVEY_KEY_FILE", raising=False)


def hand_frame() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(HAND), dtype=str, keep_default_na=False)


def test_final_code_priority_by_hand():
    fc = final_codes(hand_frame()).set_index("case_id")
    got = {c: (fc.loc[c, "final_code"], fc.loc[c, "category"]) for c in fc.index}
    assert got == EXPECTED_FINAL
    assert fc.loc["A1", "attempts"] == 3 and fc.loc["A1", "day"] == "2025-06-02"


def _row(table: pd.DataFrame, by: str, key: str) -> dict:
    return table.set_index(by).loc[key].to_dict()


def test_every_rate_formula_by_hand():
    table = rates_table(hand_frame(), "unit")
    assert list(table.columns) == ["unit", *RATE_COLUMNS]
    assert list(table["unit"]) == ["思明区", "湖里区", "全部"]
    # total: I=2 (A1,A9) P=2 (A4,A12) R=2 (A2,A11) NC=1 (A7) O=1 (A6) U=UH+UO=1+1 (A5,A8) NE=2 (A3,A10)
    # e = 8/10 = 0.8; base = (I+P)+(R+NC+O)+U = 4+4+2 = 10; with e: 4+4+0.8*2 = 9.6
    expected_total = {"cases": 12, "I": 2, "P": 2, "R": 2, "NC": 1, "O": 1, "U": 2, "NE": 2, "e": 0.8,
                      "RR1": 2 / 10, "RR2": 4 / 10, "RR3": 2 / 9.6, "RR4": 4 / 9.6,
                      "COOP1": 2 / 7,   # I / ((I+P)+R+O) = 2 / (4+2+1)
                      "REF1": 2 / 10, "CON1": 7 / 10}  # ((I+P)+R+O) / base = 7/10
    # 思明区: A1 I, A2 R, A3 NE, A4 P, A5 UH, A12 P -> I1 P2 R1 NC0 O0 U1 NE1
    # e = 4/5; base = 3+1+1 = 5; with e: 3+1+0.8 = 4.8; COOP1 = 1/(3+1+0) ; CON1 = 4/5
    expected_siming = {"cases": 6, "I": 1, "P": 2, "R": 1, "NC": 0, "O": 0, "U": 1, "NE": 1, "e": 0.8,
                       "RR1": 0.2, "RR2": 0.6, "RR3": 1 / 4.8, "RR4": 3 / 4.8, "COOP1": 0.25, "REF1": 0.2,
                       "CON1": 0.8}
    # 湖里区: A6 O, A7 NC, A8 UO, A9 I, A10 NE, A11 R -> I1 P0 R1 NC1 O1 U1 NE1
    # e = 4/5; base = 1+3+1 = 5; with e: 1+3+0.8 = 4.8; COOP1 = 1/(1+1+1); CON1 = 3/5
    expected_huli = {"cases": 6, "I": 1, "P": 0, "R": 1, "NC": 1, "O": 1, "U": 1, "NE": 1, "e": 0.8,
                     "RR1": 0.2, "RR2": 0.2, "RR3": 1 / 4.8, "RR4": 1 / 4.8, "COOP1": 1 / 3, "REF1": 0.2,
                     "CON1": 0.6}
    for key, expected in (("全部", expected_total), ("思明区", expected_siming), ("湖里区", expected_huli)):
        got = _row(table, "unit", key)
        for col, value in expected.items():
            assert got[col] == pytest.approx(value), (key, col)


def test_rates_by_interviewer_mode_and_day_count_each_case_once():
    by_day = rates_table(hand_frame(), "day").set_index("day")
    # final attempts on 06-02: A1 (1.1) and A2 (2.11); the other ten cases end on 06-01
    assert by_day.loc["2025-06-02", "cases"] == 2 and by_day.loc["2025-06-02", "I"] == 1
    assert by_day.loc["2025-06-01", "cases"] == 10
    by_pollster = rates_table(hand_frame(), "interviewer").set_index("interviewer")
    # p1: A1 A2 A3 A8 A9 A11 -> I2 R2 NE1 U1 ; p2: A4 A5 A6 A7 A10 A12 -> P2 U1 O1 NC1 NE1
    assert by_pollster.loc["p1", ["cases", "I", "R", "NE", "U"]].tolist() == [6, 2, 2, 1, 1]
    assert by_pollster.loc["p2", ["cases", "P", "U", "O", "NC", "NE"]].tolist() == [6, 2, 1, 1, 1, 1]
    by_mode = rates_table(hand_frame(), "mode").set_index("mode")
    assert by_mode.loc["door", "cases"] == 3  # A6 A7 A8


def test_zero_denominators_are_empty_not_zero():
    only_ne = pd.DataFrame([{"case_id": "Z", "unit": "思明区", "mode": "phone", "interviewer": "p1",
                             "attempted_at": "2025-06-01 09:00", "disposition": "4.31", "response_id": ""}])
    row = _row(rates_table(only_ne, "unit"), "unit", "全部")
    assert row["e"] == 0.0  # 0 eligible of 1 known
    for col in ("RR1", "RR2", "RR3", "RR4", "COOP1", "REF1", "CON1"):
        assert math.isnan(row[col]), col
    only_unknown = only_ne.assign(disposition="3.13")
    row = _row(rates_table(only_unknown, "unit"), "unit", "全部")
    assert math.isnan(row["e"]) and math.isnan(row["RR3"]) and row["RR1"] == 0.0


# --------------------------------------------------------------------------------------
# Contacts: encryption, hashing, no plain number in the database file
# --------------------------------------------------------------------------------------
def test_encryption_round_trip_hash_and_mask(tmp_path):
    cipher = ContactCipher.for_db(tmp_path / "x.db")
    assert oct((tmp_path / "x.key").stat().st_mode & 0o777) == "0o600"
    sealed = cipher.seal("phone", "+86 138-1234-5678")
    assert "13812345678" not in str(sealed)
    assert cipher.decrypt(sealed["contact_enc"]) == "13812345678"
    assert sealed["contact_mask"] == "138****5678" == mask_phone("13812345678")
    assert cipher.seal("phone", "13812345678")["contact_hash"] == sealed["contact_hash"]
    assert cipher.seal("phone", "13812345679")["contact_hash"] != sealed["contact_hash"]
    assert ContactCipher.for_db(tmp_path / "x.db").decrypt(sealed["contact_enc"]) == "13812345678"  # same key file
    with pytest.raises(ContactError):
        ContactCipher.for_db(tmp_path / "other.db").decrypt(sealed["contact_enc"])
    with pytest.raises(ContactError):
        normalize_phone("12345")


def test_secret_key_from_environment_creates_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_SECRET_KEY", "a long passphrase kept in the vault")
    token = ContactCipher.for_db(tmp_path / "y.db").encrypt("0592-1234567")
    assert not (tmp_path / "y.key").exists()
    assert ContactCipher.for_db(tmp_path / "z.db").decrypt(token) == "0592-1234567"


PHONES = ["13812345678", "13900001111", "13700002222", "05925551234"]


def write_cases(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "unit", "mode", "phone", "address", "age_band"])
        w.writerows(rows)
    return path


@pytest.fixture
def cases_file(tmp_path) -> Path:
    return write_cases(tmp_path / "cases.csv", [
        ["C1", "思明区", "phone", "138 1234 5678", "", "young"],
        ["C2", "思明区", "phone", "139-0000-1111", "", "old"],
        ["C3", "湖里区", "phone", "+8613700002222", "", ""],
        ["C4", "湖里区", "phone", "0592-5551234", "", ""],
        ["D1", "思明区", "door", "", "厦门市思明区演武路 1 号", ""],
    ])


def test_database_file_holds_no_plain_phone_number(store, cases_file, db_file):
    assert import_cases(store, SYSTEM, cases_file, "2025") == 5
    assert import_cases(store, SYSTEM, cases_file, "2025") == 0  # idempotent
    if store.dialect == "sqlite":
        raw = b"".join(p.read_bytes() for p in (db_file, Path(f"{db_file}-wal")) if p.exists())
    else:  # PostgreSQL: every row of every table, as text
        raw = "".join(str(store.query(f"SELECT * FROM {t}")) for t in store.db.table_names()).encode()
    assert len(raw) > 0
    for number in PHONES + ["1381234", "演武路".encode().decode()]:
        for variant in {number, number[-8:]}:
            assert variant.encode("utf-8") not in raw, variant
    assert b"138****5678" in raw  # the mask is what the store keeps readable


def test_case_import_rejects_bad_rows_and_duplicate_numbers(store, tmp_path):
    bad = write_cases(tmp_path / "bad.csv", [
        ["C1", "思明区", "phone", "13812345678", "", ""],
        ["C2", "鼓浪屿", "phone", "12345", "", ""],
        ["C3", "思明区", "door", "", "", ""],
        ["C4", "湖里区", "phone", "138-1234-5678", "", ""],
        ["C1", "思明区", "fax", "13900001111", "", ""],
    ])
    with pytest.raises(ImportRejected) as err:
        import_cases(store, SYSTEM, bad, "2025")
    text = "\n".join(err.value.problems)
    assert "row 3, column unit: value 鼓浪屿" in text
    assert "row 3, column phone" in text and "12345" not in text.replace("row 3", "")
    assert "row 4, column address" in text
    assert "row 5, column phone: value 138****5678 — same phone as case C1" in text
    assert "row 6, column case_id: value C1 — repeats row 2" in text and "row 6, column mode" in text
    assert store.cases("2025") == []


# --------------------------------------------------------------------------------------
# Rights, next case, attempts
# --------------------------------------------------------------------------------------
@pytest.fixture
def assigned(store, accounts, cases_file):
    import_cases(store, SYSTEM, cases_file, "2025")
    assert assign_cases(store, accounts["sup"], "2025", "p1", case_ids=["C1", "C2", "D1"]) == 3
    assert assign_cases(store, SYSTEM, "2025", "p2", unit="湖里区") == 2
    return store


def test_contacts_only_in_clear_for_the_assigned_pollster(assigned, accounts):
    store = assigned
    assert case_contact(store, accounts["p1"], "C1") == {"case_id": "C1", "kind": "phone", "value": "13812345678",
                                                          "masked": False}
    assert case_contact(store, accounts["sup"], "C1")["value"] == "138****5678"
    assert case_contact(store, accounts["admin"], "C1")["masked"] is True
    for who in ("p2", "p3", "supb"):
        with pytest.raises(PermissionDenied):
            case_contact(store, accounts[who], "C1")
    with pytest.raises(PermissionDenied):
        record_attempt(store, accounts["p2"], "C1", "无人接听")
    with pytest.raises(PermissionDenied):
        contacts_for_wave(store, accounts["sup"], "2025")
    listed = contacts_for_wave(store, accounts["admin"], "2025")
    assert {r["case_id"]: r["phone"] for r in listed}["C3"] == "13700002222"
    assert store.audit_log("cases", "2025")[0]["action"] == "export_contacts"


def test_supervisor_of_another_firm_is_denied(assigned, accounts):
    store = assigned
    with pytest.raises(PermissionDenied):
        assign_cases(store, accounts["supb"], "2025", "p1", case_ids=["C2"])
    with pytest.raises(PermissionDenied):  # firm B's supervisor cannot take firm A's cases for p3
        assign_cases(store, accounts["supb"], "2025", "p3", case_ids=["C2"])
    with pytest.raises(PermissionDenied):
        assign_cases(store, accounts["sup"], "2025", "p3", case_ids=["C2"])
    with pytest.raises(PermissionDenied):
        assign_cases(store, accounts["p1"], "2025", "p1", case_ids=["C2"])
    record_attempt(store, accounts["p1"], "C1", "无人接听", at="2025-06-01T09:00:00")
    assert len(attempts_frame(store, accounts["sup"], "2025")) == 1
    assert attempts_frame(store, accounts["supb"], "2025").empty
    assert attempts_frame(store, accounts["p2"], "2025").empty


def test_next_case_due_callbacks_first_then_new_then_retry(assigned, accounts):
    store, p1 = assigned, accounts["p1"]
    first = next_case(store, p1, "2025", at="2025-06-01T09:00:00")
    assert (first["case_id"], first["reason"]) == ("C1", "new")
    assert "contact_enc" not in first and first["contact_mask"] == "138****5678"
    record_attempt(store, p1, "C1", "约定回访", callback_at="2025-06-01T18:00:00", at="2025-06-01T09:01:00")
    record_attempt(store, p1, "C2", "忙音", at="2025-06-01T09:05:00")
    assert next_case(store, p1, "2025", at="2025-06-01T09:10:00")["case_id"] == "D1"  # never tried
    record_attempt(store, p1, "D1", "拒访", at="2025-06-01T09:20:00")  # final
    retry = next_case(store, p1, "2025", at="2025-06-01T10:00:00")
    assert (retry["case_id"], retry["reason"], retry["tries"]) == ("C2", "retry", 1)  # C1 waits for 18:00
    due = next_case(store, p1, "2025", at="2025-06-01T18:00:00")
    assert (due["case_id"], due["reason"]) == ("C1", "callback")
    with pytest.raises(StoreError):
        record_attempt(store, p1, "C1", "约定回访")  # no time
    with pytest.raises(StoreError):
        record_attempt(store, p1, "D1", "无人接听")  # closed case


def test_record_attempt_is_idempotent_and_complete_needs_the_interview(assigned, accounts):
    store, p1 = assigned, accounts["p1"]
    assert record_attempt(store, p1, "C2", "无人接听", attempt_key="k-1") is True
    assert record_attempt(store, p1, "C2", "无人接听", attempt_key="k-1") is False
    assert len(store.attempts("2025", case_ids=["C2"])) == 1
    with pytest.raises(StoreError):
        record_attempt(store, p1, "C2", "完成")
    sub = submit_interview(store, p1, "2025", unit="思明区", mode="phone", answers=complete_answers(),
                           submit_key="C2-interview", case_id="C2")
    assert record_attempt(store, p1, "C2", "完成", response_id=sub.response_id)
    frame = attempts_frame(store, p1, "2025")
    assert frame["disposition"].tolist() == ["3.13", "1.1"]
    assert frame["response_id"].tolist()[-1] == sub.response_id
    assert next_case(store, p1, "2025")["case_id"] != "C2"


def test_every_disposition_label_maps_to_a_contract_code():
    assert DISPOSITIONS["拒访"].code == "2.11" and DISPOSITIONS["空号"].code == "4.31"
    assert DISPOSITIONS["不符合条件：未满18岁"].code == DISPOSITIONS["不符合条件：非常住"].code == "4.70"
    assert DISPOSITIONS["约定回访"].callback and not DISPOSITIONS["约定回访"].final
    assert DISPOSITIONS["中途拒绝"].final and not DISPOSITIONS["无人接听"].final
    table = rates_table(pd.DataFrame([{"case_id": d.label, "unit": "u", "mode": "phone", "interviewer": "x",
                                       "attempted_at": "2025-06-01 09:00", "disposition": d.code,
                                       "response_id": ""} for d in DISPOSITIONS.values()]), "unit")
    assert table["cases"].iloc[-1] == len(DISPOSITIONS)


# --------------------------------------------------------------------------------------
# Attempts import
# --------------------------------------------------------------------------------------
def store_completes(store, ids=("RA1", "RA9")) -> None:
    """The responses the 1.1 rows of HAND point at (the attempts import checks they are stored)."""
    from survey.bootstrap import questionnaire_for_wave
    from survey.responses import build_record
    from tests.conftest import complete_answers
    wave, qn = store.wave("2025"), questionnaire_for_wave(store, "2025")
    store.insert_responses([build_record(qn, wave, unit="思明区", mode="phone", answers=complete_answers(),
                                         submit_key=f"k:{rid}", source="test", response_id=rid) for rid in ids], "t")


def test_import_attempts_idempotent_and_rates_from_store(store, tmp_path, accounts):
    store_completes(store)
    path = tmp_path / "attempts.csv"
    path.write_text(HAND, encoding="utf-8")
    assert import_attempts(store, path, "2025", "system") == 22
    assert import_attempts(store, path, "2025", "ana") == 0
    frame = attempts_frame(store, accounts["ana"], "2025")
    assert len(frame) == 22
    assert _row(rates_table(frame, "unit"), "unit", "全部")["RR1"] == pytest.approx(0.2)
    assert len(attempts_frame(store, accounts["sup"], "2025")) == 22  # p1/p2 are firm A's
    assert attempts_frame(store, accounts["supb"], "2025").empty
    with pytest.raises(PermissionDenied):
        import_attempts(store, path, "2025", "p1")


def test_import_attempts_reports_every_bad_row_and_stores_nothing(store, tmp_path, accounts):
    path = tmp_path / "bad.csv"
    path.write_text(HAND.splitlines()[0] + "\n"
                    "B1,2025,思明区,phone,p1,2025-06-01 09:00,3.13,\n"
                    "B1,2025,湖里区,phone,p1,2025-06-01 10:00,2.11,\n"
                    "B2,2024,思明区,phone,p1,2025-06-01 09:00,1.1,R\n"
                    "B3,2025,思明区,mail,p1,yesterday,5.5,\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as err:
        import_attempts(store, path, "2025", "system")
    assert err.value.problems == [
        "row 3, column unit: value 湖里区 — case B1 has unit 思明区 in row 2",
        "row 4, column wave: value 2024 — does not match --wave 2025",
        "row 5, column mode: value mail — one of phone, door, paper, web",
        "row 5, column attempted_at: value yesterday — not an ISO date and time (2025-06-01 14:30)",
        "row 5, column disposition: value 5.5 — not an AAPOR code (1.1, 1.2, 2.1x, 2.2x, 2.3x, 3.1x, 3.2x, 4.x)",
    ]
    assert store.attempts("2025") == []
    (tmp_path / "cols.csv").write_text("case_id,wave\nX,2025\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="column unit missing"):
        import_attempts(store, tmp_path / "cols.csv", "2025", "system")


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------
def test_cli_cases_assign_rates(store, accounts, cases_file, tmp_path, capsys):
    from survey.cli import main
    store_completes(store)
    (tmp_path / "att.csv").write_text(HAND, encoding="utf-8")
    import_attempts(store, tmp_path / "att.csv", "2025", "system")  # before the contact list: A1… are not its cases
    assert main(["cases", "import", str(cases_file), "--wave", "2025"]) == 0
    assert main(["cases", "import", str(tmp_path / "missing.csv"), "--wave", "2025"]) == 2
    assert main(["cases", "import", str(cases_file), "--wave", "1999"]) == 2
    assert main(["cases", "assign", "--wave", "2025", "--pollster", "p1", "--cases", "C1,C9"]) == 2
    assert main(["cases", "assign", "--wave", "2025", "--pollster", "p1", "--unit", "思明区"]) == 0
    assert main(["cases", "assign", "--wave", "2025", "--pollster", "p3", "--unit", "湖里区",
                 "--actor", "sup"]) == 2
    capsys.readouterr()
    bad = write_cases(tmp_path / "bad.csv", [["X1", "思明区", "phone", "1", "", ""]])
    assert main(["cases", "import", str(bad), "--wave", "2025"]) == 2
    assert "row 2, column phone" in capsys.readouterr().err
    out = tmp_path / "rates.csv"
    assert main(["rates", "--wave", "2025", "--by", "interviewer", "--out", str(out)]) == 0
    rates = pd.read_csv(out)
    assert list(rates.columns) == ["interviewer", *RATE_COLUMNS]
    assert rates["interviewer"].tolist() == ["p1", "p2", "全部"]
    assert rates["RR1"].iloc[-1] == pytest.approx(0.2)
    with pytest.raises(SystemExit) as exit_:
        main(["rates", "--wave", "2025", "--by", "weekday", "--out", str(out)])
    assert exit_.value.code == 2
    assert store.cases("2025", pollster="p1")[0]["case_id"] == "C1"


# --------------------------------------------------------------------------------------
# Quotas
# --------------------------------------------------------------------------------------
def test_quota_settings_are_validated_naming_the_field(store):
    with pytest.raises(QuotaError) as err:
        set_quotas(store, SYSTEM, "2025", [{"unit": "思明区", "target": 0}, {"unit": "鼓浪屿", "target": 5},
                                           {"unit": "湖里区", "sex": "x", "target": 5}], "halt")
    text = "\n".join(err.value.problems)
    assert "quotas[0].target" in text and "quotas[2].sex" in text and "quota_action" in text
    with pytest.raises(QuotaError, match=r"quotas\[1\].unit: 鼓浪屿 is not a unit"):
        set_quotas(store, SYSTEM, "2025", [{"unit": "思明区", "target": 3}, {"unit": "鼓浪屿", "target": 5}])
    with pytest.raises(PermissionDenied):
        set_quotas(store, Account("sup", "supervisor", "A"), "2025", [{"unit": "思明区", "target": 3}])


@pytest.mark.parametrize("action", ["stop", "warn"])
def test_quota_full_stops_or_warns(store, action):
    set_quotas(store, SYSTEM, "2025", [{"unit": "思明区", "target": 10}, {"unit": "思明区", "sex": "女", "target": 1},
                                       {"unit": "湖里区", "target": 5}], action)
    woman = complete_answers(sex="女")
    assert not quota_status(store, "2025", "思明区", woman).full
    submit_interview(store, Account("p1", "pollster", "A", waves=("2025",)), "2025", unit="思明区", mode="phone", answers=woman, submit_key="q1")
    status = quota_status(store, "2025", "思明区", woman)
    assert status.full and status.action == action and status.stop == (action == "stop")
    assert status.count == 1 and status.target == 1 and "配额已满" in status.message
    assert not quota_status(store, "2025", "思明区", complete_answers(sex="男")).full
    assert not quota_status(store, "2025", "湖里区", woman).full
    # the dashboard reads the same cells: unit-wide target wins over its sub-cells
    assert unit_targets(store.wave("2025")["settings"]) == {"思明区": 10, "湖里区": 5}
    assert unit_targets({"quotas": [{"unit": "思明区", "sex": "男", "target": 4},
                                    {"unit": "思明区", "sex": "女", "target": 6}]}) == {"思明区": 10}
    assert unit_targets({"quotas": {"思明区": 7}}) == {"思明区": 7}  # the older form still reads


def test_demo_attempts_give_every_phone_and_door_interview_a_complete(store):
    from survey.demo import store_demo, store_demo_attempts
    store_demo(store, "2025", 60, 3)
    added = store_demo_attempts(store, "2025", 3)
    assert added > 0 and store_demo_attempts(store, "2025", 3) == 0
    interviews = [r for r in store.responses("2025") if r["mode"] in ("phone", "door")]
    total = _row(rates_table(attempts_frame(store, SYSTEM, "2025"), "unit"), "unit", "全部")
    assert total["I"] == len(interviews) and total["cases"] == 3 * len(interviews)


def test_cli_quotas_set_and_show(store, tmp_path, capsys):
    from survey.cli import main
    good = tmp_path / "q.yaml"
    good.write_text("quotas:\n  - {unit: 思明区, target: 2}\n  - {unit: 思明区, sex: 女, target: 1}\n"
                    "quota_action: stop\n", encoding="utf-8")
    assert main(["quotas", "set", str(good), "--wave", "2025"]) == 0
    assert store.wave("2025")["settings"]["quota_action"] == "stop"
    bad = tmp_path / "bad.yaml"
    bad.write_text("quotas:\n  - {unit: 思明区, target: -1}\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["quotas", "set", str(bad), "--wave", "2025"]) == 2
    assert "quotas[0].target" in capsys.readouterr().err
    assert main(["quotas", "show", "--wave", "2025"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "unit,sex,age_group,line_type,prefix,target,n,share"


def test_dispositions_follow_the_case_mode(assigned, accounts):
    from survey.aapor import dispositions_for
    assert "家中无人" in [d.label for d in dispositions_for("door")]
    assert "忙音" not in [d.label for d in dispositions_for("door")]
    with pytest.raises(StoreError, match="not an outcome of a door case"):
        record_attempt(assigned, accounts["p1"], "D1", "忙音")
    assert record_attempt(assigned, accounts["p1"], "D1", "家中无人")


def test_next_case_keeps_to_one_mode(assigned, accounts):
    assert next_case(assigned, accounts["p1"], "2025", mode="door")["case_id"] == "D1"
    assert next_case(assigned, accounts["p1"], "2025", mode="phone")["case_id"] in {"C1", "C2"}
    assert next_case(assigned, accounts["p2"], "2025", mode="door") is None  # p2 holds phone cases only


def test_case_list_saved_by_chinese_excel_in_gbk_imports(store, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("case_id,unit,mode,phone,address\nG1,思明区,phone,13812345678,\nG2,湖里区,door,,厦门市湖里区 2 号\n"
                     .encode("gbk"))
    assert import_cases(store, SYSTEM, path, "2025") == 2
    assert {c["unit"] for c in store.cases("2025")} == {"思明区", "湖里区"}
