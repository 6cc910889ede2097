"""Export: the responses format, labelled SPSS / Stata files read back, codebook, weights, rights."""
from __future__ import annotations

import os
import subprocess
import sys

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from analysis.io import read_population
from survey.auth import SYSTEM, PermissionDenied
from survey.config import POPULATION_DIR
from survey.demo import store_demo
from survey.exporting import ExportError, build_export, codebook_path, export_wave
from survey.importing import import_responses
from tests.conftest import ROOT

DESIGN_COLUMNS = ["response_id", "wave", "unit", "mode", "interviewer", "submitted_at", "duration_s", "sex",
                  "age_group", "education", "air", "water", "sea", "noise", "waste", "greenery", "rural",
                  "enforcement", "publicity", "overall"]
SATISFACTION = {1: "不满意", 2: "不太满意", 3: "一般", 4: "比较满意", 5: "满意", 9: "不了解/说不清"}


@pytest.fixture
def wave(store):
    store_demo(store, "2025", 300, 4)
    excluded = store.responses("2025")[0]["response_id"]
    store.set_exclusion(excluded, True, "重复录入", "sup")
    return excluded


def test_csv_is_the_responses_format_without_excluded_or_personal_data(store, wave, tmp_path):
    _, files = export_wave(store, SYSTEM, "2025", "csv", tmp_path / "out.csv")
    assert files == [tmp_path / "out.csv", tmp_path / "out.codebook.csv"]
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens the Chinese right
    frame = pd.read_csv(tmp_path / "out.csv", dtype=str, encoding="utf-8-sig")
    assert list(frame.columns[:20]) == DESIGN_COLUMNS
    assert list(frame.columns[20:]) == ["overall_reason", "change", "comment"]
    assert len(frame) == 299 and wave not in set(frame["response_id"])
    assert not {"firm", "case_id", "paradata", "created_by", "excluded_reason"} & set(frame.columns)
    one = store.response(frame.at[5, "response_id"])
    assert frame.at[5, "unit"] == one["unit"] and frame.at[5, "sex"] == one["answers"]["sex"]
    assert int(frame.at[5, "air"]) == one["answers"]["air"]


def test_include_excluded_adds_the_reason(store, wave, tmp_path):
    table, _ = export_wave(store, SYSTEM, "2025", "csv", tmp_path / "all.csv", include_excluded=True)
    frame = pd.read_csv(tmp_path / "all.csv", dtype=str, encoding="utf-8-sig")
    assert len(frame) == 300 and frame.columns[-1] == "excluded_reason"
    assert frame.set_index("response_id").at[wave, "excluded_reason"] == "重复录入"
    assert frame["excluded_reason"].notna().sum() == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_again_stores_nothing_new(store, wave, tmp_path, fmt):
    export_wave(store, SYSTEM, "2025", fmt, tmp_path / f"round.{fmt}")
    result = import_responses(store, SYSTEM, "2025", tmp_path / f"round.{fmt}")
    assert (result.created, result.unchanged) == (0, 299)


def test_xlsx_has_data_and_codebook_sheets(store, wave, tmp_path):
    export_wave(store, SYSTEM, "2025", "xlsx", tmp_path / "out.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "out.xlsx", read_only=True)
    assert wb.sheetnames == ["responses", "codebook"]
    header = next(wb["responses"].iter_rows(values_only=True))
    assert list(header[:20]) == DESIGN_COLUMNS
    sheets = pd.read_excel(tmp_path / "out.xlsx", sheet_name=None)
    data, book = sheets["responses"], sheets["codebook"]
    assert len(data) == 299 and data["air"].dropna().isin([1, 2, 3, 4, 5, 9]).all()
    air = book[book["variable"] == "air"]
    assert dict(zip(air["code"].astype(int), air["value_label"])) == SATISFACTION
    assert air["label"].iloc[0] == "您对本区的空气质量是否满意？"


def test_sav_read_back_with_variable_and_value_labels(store, wave, tmp_path):
    table, files = export_wave(store, SYSTEM, "2025", "sav", tmp_path / "out.sav")
    assert codebook_path(tmp_path / "out.sav") in files
    data, meta = pyreadstat.read_sav(tmp_path / "out.sav", user_missing=True)
    labels = meta.column_names_to_labels
    assert labels["air"] == "您对本区的空气质量是否满意？" and labels["sex"] == "您的性别"
    assert {int(k): v for k, v in meta.variable_value_labels["air"].items()} == SATISFACTION
    assert {int(k): v for k, v in meta.variable_value_labels["sex"].items()} == {1: "男", 2: "女"}
    assert meta.variable_value_labels["age_group"][5.0] == "60岁及以上"
    assert meta.variable_value_labels["unit"][1.0] == "思明区"
    assert meta.missing_ranges["air"] == [{"lo": 9.0, "hi": 9.0}]  # 不了解 is user-missing in SPSS
    assert len(data) == 299
    frame = table.frame
    assert data["air"].fillna(-1).tolist() == frame["air"].astype("float64").fillna(-1).tolist()
    assert data["sex"].map({1.0: "男", 2.0: "女"}).tolist() == frame["sex"].tolist()
    book = pd.read_csv(codebook_path(tmp_path / "out.sav"), encoding="utf-8-sig", dtype=str)
    sex = book[book["variable"] == "sex"]
    assert dict(zip(sex["code"].astype(int), sex["value_label"])) == {1: "男", 2: "女"}
    assert book[(book["variable"] == "air") & (book["code"] == "9")]["missing"].iloc[0] == "yes"


def test_dta_read_back_with_variable_and_value_labels(store, wave, tmp_path):
    table, _ = export_wave(store, SYSTEM, "2025", "dta", tmp_path / "out.dta", weights=True)
    data, meta = pyreadstat.read_dta(tmp_path / "out.dta")
    labels = meta.column_names_to_labels
    assert labels["overall"] == "总体来说，您对本区的生态环境是否满意？"
    value_labels = {var: meta.value_labels[name] for var, name in meta.variable_to_label.items()}
    assert {int(k): v for k, v in value_labels["air"].items()} == SATISFACTION
    assert {int(k): v for k, v in value_labels["education"].items()} == {1: "初中及以下", 2: "高中/中专", 3: "大专",
                                                                         4: "本科及以上"}
    assert value_labels["mode"][1] == "电话访问"
    assert len(data) == 299
    assert data["weight"].tolist() == pytest.approx(table.frame["weight"].tolist())


def test_weights_are_raked_to_each_units_population(store, wave):
    table = build_export(store, SYSTEM, "2025", weights=True)
    population = read_population(POPULATION_DIR / "xiamen-2020.csv")
    totals = population[population["variable"] == "sex"].groupby("unit")["population"].sum()
    sums = table.frame.groupby("unit")["weight"].sum()
    for unit, total in totals.items():
        assert sums[unit] == pytest.approx(total, rel=1e-6)
    assert table.record["weights"] == {"variables": ["sex", "age_group"], "population": "xiamen-2020.csv"}


def test_rights_and_personal_data(store, accounts, wave):
    with pytest.raises(PermissionDenied):
        build_export(store, accounts["p1"], "2025")
    with pytest.raises(PermissionDenied):
        build_export(store, accounts["ana"], "2025", with_contacts=True)
    assert len(build_export(store, accounts["ana"], "2025").frame) == 299
    try:
        import survey.fieldwork  # noqa: F401
    except ImportError:
        with pytest.raises(ExportError, match="survey.fieldwork"):
            build_export(store, accounts["admin"], "2025", with_contacts=True)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "survey", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ}, timeout=120)


def test_cli_export_exit_codes(store, wave, tmp_path):
    done = run("export", "--wave", "2025", "--format", "sav", "--out", str(tmp_path / "x.sav"), "--weights")
    assert done.returncode == 0, done.stderr
    assert "299 response(s) of wave 2025 written" in done.stdout and "1 excluded left out" in done.stdout
    assert (tmp_path / "x.codebook.csv").exists()
    for args, expected in [
        (("--wave", "2025", "--format", "pdf", "--out", "x.pdf"), "invalid choice"),
        (("--wave", "1999", "--format", "csv", "--out", str(tmp_path / "y.csv")), "--wave: no wave `1999`"),
        (("--wave", "2025", "--format", "csv", "--out", str(tmp_path / "y.csv"), "--population", "p.csv"),
         "--population: only used with --weights"),
    ]:
        done = run("export", *args)
        assert done.returncode == 2 and expected in done.stderr and "Traceback" not in done.stderr, done.stderr
