"""Bulk import: every rejection with its Excel row number and value, all or nothing, idempotent."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from survey.auth import SYSTEM, PermissionDenied
from survey.errors import ImportRejected
from survey.importing import import_responses
from tests.analysis_support import reference_dir
from tests.conftest import ROOT

HEADER = ["response_id", "wave", "unit", "mode", "interviewer", "submitted_at", "duration_s", "sex", "age_group",
          "education", "air", "water", "sea", "noise", "waste", "greenery", "rural", "enforcement", "publicity",
          "overall", "change"]


def good_row(i: int, **overrides) -> dict:
    row = {"response_id": f"X{i:04d}", "wave": "2025", "unit": "思明区", "mode": "phone", "interviewer": "p1",
           "submitted_at": f"2025-10-08T09:{i % 60:02d}:00", "duration_s": "300", "sex": "女", "age_group": "40-49",
           "education": "大专", "air": "4", "water": "5", "sea": "9", "noise": "3", "waste": "4", "greenery": "5",
           "rural": "4", "enforcement": "3", "publicity": "4", "overall": "4", "change": "3"}
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8", header: list[str] = HEADER) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def rejected(store, path: Path) -> list[str]:
    with pytest.raises(ImportRejected) as err:
        import_responses(store, SYSTEM, "2025", path)
    return err.value.problems


def test_good_file_is_stored_once_and_again_stores_nothing(store, tmp_path):
    path = write_csv(tmp_path / "ok.csv", [good_row(i) for i in range(5)])
    first = import_responses(store, SYSTEM, "2025", path)
    assert (first.rows, first.created, first.unchanged) == (5, 5, 0)
    stored = store.response("X0003")
    assert stored["unit"] == "思明区" and stored["source"] == "import" and stored["answers"]["air"] == 4
    assert stored["answers"]["sex"] == "女" and stored["duration_s"] == 300.0
    assert stored["submitted_at"] == "2025-10-08T09:03:00"
    again = import_responses(store, SYSTEM, "2025", path)
    assert (again.created, again.unchanged) == (0, 5)
    assert store.count_responses("2025") == 5
    imports = [a for a in store.audit_log("wave", "2025") if a["action"] == "import"]
    assert len(imports) == 1 and '"created": 5' in imports[0]["detail"]


def test_blank_item_answer_is_kept_as_no_answer(store, tmp_path):
    path = write_csv(tmp_path / "blank.csv", [good_row(1, air="", comment="")])
    assert import_responses(store, SYSTEM, "2025", path).created == 1
    assert "air" not in store.response("X0001")["answers"]


@pytest.mark.parametrize("row_overrides,expected", [
    ({"unit": "火星区"}, "row 3, column unit: value 火星区 — not a unit of wave 2025 (思明区, 湖里区"),
    ({"mode": "fax"}, "row 3, column mode: value fax — not a mode (phone, door, paper, web)"),
    ({"sex": "X"}, "row 3, column sex: value X — not an option of sex (男, 女)"),
    ({"age_group": "17-"}, "row 3, column age_group: value 17- — not an option of age_group (18-29 18-29岁"),
    ({"education": "小学"}, "row 3, column education: value 小学 — not an option of education"),
    ({"air": "7"}, "row 3, column air: value 7 — not an option of air (5 满意, 4 比较满意, 3 一般, 2 不太满意, "
                   "1 不满意, 9 不了解/说不清)"),
    ({"water": "4.5"}, "row 3, column water: value 4.5 — not an option of water"),
    ({"change": "5"}, "row 3, column change: value 5 — not an option of change (3 变好"),
    ({"sex": ""}, "row 3, column sex: value  — required"),
    ({"unit": ""}, "row 3, column unit: value  — required"),
    ({"response_id": ""}, "row 3, column response_id: value  — required"),
    ({"response_id": "X0000"}, "row 3, column response_id: value X0000 — duplicate of row 2 in this file"),
    ({"wave": "2024"}, "row 3, column wave: value 2024 — file is imported into wave 2025"),
    ({"duration_s": "abc"}, "row 3, column duration_s: value abc — not a number of seconds"),
    ({"duration_s": "-5"}, "row 3, column duration_s: value -5 — must be 0 or more seconds"),
    ({"submitted_at": "yesterday"}, "row 3, column submitted_at: value yesterday — not a date-time"),
])
def test_each_rejection_names_row_column_and_value(store, tmp_path, row_overrides, expected):
    rows = [good_row(0), good_row(1, **row_overrides), good_row(2)]
    problems = rejected(store, write_csv(tmp_path / "bad.csv", rows))
    assert len(problems) == 1 and problems[0].startswith(expected), problems
    assert store.count_responses("2025") == 0  # nothing stored, not even the good rows


def test_same_id_already_stored_with_different_content(store, tmp_path):
    import_responses(store, SYSTEM, "2025", write_csv(tmp_path / "a.csv", [good_row(0), good_row(1)]))
    changed = [good_row(0), good_row(1, air="2"), good_row(2)]
    problems = rejected(store, write_csv(tmp_path / "b.csv", changed))
    assert len(problems) == 1
    assert problems[0].startswith("row 3, column response_id: value X0001 — already stored (wave 2025, import,")
    assert problems[0].endswith("with different content")
    assert store.count_responses("2025") == 2 and store.response("X0001")["answers"]["air"] == 4


def test_missing_column_and_empty_file_are_file_problems(store, tmp_path):
    header = [h for h in HEADER if h != "sex"]
    problems = rejected(store, write_csv(tmp_path / "nosex.csv", [good_row(0)], header=header))
    assert problems == ["nosex.csv: column `sex` is missing (性别)"]
    problems = rejected(store, write_csv(tmp_path / "empty.csv", []))
    assert problems == ["empty.csv: no data rows below the header"]


def test_many_problems_report_first_100_and_a_count(store, tmp_path):
    rows = [good_row(i, mode="fax") for i in range(150)]
    with pytest.raises(ImportRejected) as err:
        import_responses(store, SYSTEM, "2025", write_csv(tmp_path / "many.csv", rows))
    assert err.value.total == 150 and len(err.value.problems) == 101
    assert err.value.problems[0].startswith("row 2, column mode: value fax")
    assert err.value.problems[99].startswith("row 101, column mode")
    assert err.value.problems[100] == "... 50 more problems (150 in all)"


def test_gbk_file_is_detected(store, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [good_row(0, unit="翔安区", education="本科及以上")], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert import_responses(store, SYSTEM, "2025", path).created == 1
    stored = store.response("X0000")
    assert stored["unit"] == "翔安区" and stored["answers"]["education"] == "本科及以上"


def test_xlsx_file_with_numeric_cells(store, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for i in range(3):
        row = good_row(i)
        ws.append([int(row[h]) if row[h].isdigit() and h not in ("response_id", "wave") else row[h] for h in HEADER])
    ws.append([good_row(3)[h] if h != "noise" else 6 for h in HEADER])
    wb.save(tmp_path / "paper.xlsx")
    problems = rejected(store, tmp_path / "paper.xlsx")
    assert problems == ["row 5, column noise: value 6 — not an option of noise (5 满意, 4 比较满意, 3 一般, 2 不太满意, "
                        "1 不满意, 9 不了解/说不清)"]
    ws.delete_rows(5)
    wb.save(tmp_path / "paper.xlsx")
    assert import_responses(store, SYSTEM, "2025", tmp_path / "paper.xlsx").created == 3
    assert store.response("X0002")["answers"]["air"] == 4


def test_firm_comes_from_the_pollster_account_and_rights_are_checked(store, accounts, tmp_path):
    path = write_csv(tmp_path / "ok.csv", [good_row(0, interviewer="p3")])
    with pytest.raises(PermissionDenied):
        import_responses(store, accounts["p1"], "2025", path)
    with pytest.raises(PermissionDenied):
        import_responses(store, accounts["sup"], "2025", path)
    import_responses(store, accounts["ana"], "2025", path)
    assert store.response("X0000")["firm"] == "B"


def test_screening_columns_when_present_are_checked(store, tmp_path):
    header = [*HEADER, "age18", "resident"]
    rows = [good_row(0, age18="1", resident="1"), good_row(1, age18="2", resident="1")]
    problems = rejected(store, write_csv(tmp_path / "s.csv", rows, header=header))
    assert problems == ["row 3, column age18, resident: value  — respondent not eligible"]


@pytest.mark.skipif(not (reference_dir() / "responses_2000.csv").exists(), reason="shared/reference not found")
def test_reference_file_imports(store):
    result = import_responses(store, SYSTEM, "2025", reference_dir() / "responses_2000.csv")
    assert result.created == 2000 and store.count_responses("2025") == 2000


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "survey", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ}, timeout=120)


def test_cli_import_exit_codes(db_file, tmp_path):
    good = write_csv(tmp_path / "good.csv", [good_row(i) for i in range(3)])
    done = run("import", str(good), "--wave", "2025")
    assert done.returncode == 0, done.stderr
    assert "3 new response(s) stored in wave 2025" in done.stdout
    assert "0 new response(s)" in run("import", str(good), "--wave", "2025").stdout
    bad = write_csv(tmp_path / "bad.csv", [good_row(10, unit="火星区"), good_row(11, air="0")])
    done = run("import", str(bad), "--wave", "2025")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln]
    assert lines[0].startswith("row 2, column unit: value 火星区") and lines[1].startswith("row 3, column air: value 0")
    assert len(lines) == 2
    for args, expected in [((str(good), "--wave", "1999"), "--wave: no wave `1999`"),
                           ((str(tmp_path / "none.csv"), "--wave", "2025"), "none.csv: file not found")]:
        done = run("import", *args)
        assert done.returncode == 2 and expected in done.stderr, done.stderr


def test_cli_attempts_import_needs_the_fieldwork_module(db_file, tmp_path):
    path = write_csv(tmp_path / "attempts.csv", [])
    done = run("import", str(path), "--wave", "2025", "--kind", "attempts")
    try:
        import survey.fieldwork  # noqa: F401
    except ImportError:
        assert done.returncode == 2 and "survey.fieldwork" in done.stderr and "Traceback" not in done.stderr
    else:
        assert "Traceback" not in done.stderr
