"""Export of a wave's responses: CSV, Excel, SPSS (.sav) and Stata (.dta), with a codebook.

The file is the responses format of DESIGN.md (plus `weight` when asked, and
`excluded_reason` with excluded responses). Choices:

- CSV and Excel keep the categories as text (男, 60+, 思明区, phone): the format the
  import and `python -m analysis` read, and what R / pandas users load directly.
- SPSS and Stata get numbers with value labels for every categorical variable (unit, mode,
  sex, age_group, education, the items and `change`), because that is how users of those
  packages work: `tabulate`, `regress i.age_group`, SPSS's frequencies all expect labelled
  numeric codes (Stata cannot attach value labels to strings at all). Codes follow the
  questionnaire's option order (1 = first option); the codebook lists them.
- Items keep their survey codes (5 满意 … 1 不满意, 9 不了解/说不清); in .sav, 9 is declared
  user-missing so SPSS leaves it out of means and valid percentages, as METHODS.md does.
- Variable labels are the question wording.
- No personal data unless an admin asks for contacts (`with_contacts`); firm, case ids and
  paradata are never exported.

Speed: rows come from one SQL query with json_extract (store.response_table), so 100,000
responses export in seconds (bench/export.py).
"""
from __future__ import annotations

from common.errors import Invalid

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from survey import i18n
from survey.auth import Account, require
from survey.bootstrap import questionnaire_for_wave
from survey.config import MODES, POPULATION_DIR
from survey.outputs import atomic_output, check_output, csv_safe
from survey.questionnaire import DONT_KNOW, Questionnaire
from survey.responses import responses_frame
from survey.store import Store
from survey.xlsx_stream import write_xlsx
from survey.waves import get_wave

FORMATS = ("csv", "xlsx", "sav", "dta")
DEFAULT_POPULATION = POPULATION_DIR / "xiamen-2020.csv"
META = ("response_id", "wave", "unit", "mode", "interviewer", "submitted_at", "duration_s")
CATEGORICAL_META = ("unit", "mode")
# the last row of a CSV export's codebook: how formula-like text was neutralised (issue 16)
CSV_FORMULA_NOTE = {"variable": "(all text)", "type": "note", "code": "", "value_label": "", "missing": "",
                    "label": "CSV: a text value starting with = + - @ tab or CR is written with a leading ' so "
                             "that Excel/WPS do not run it as a formula; the text after the ' is the stored value"}


class ExportError(Invalid):
    """An export that cannot be made (e.g. weights that cannot be computed); one line per problem."""


@dataclass
class Variable:
    name: str
    label: str
    kind: str                                          # text | code | number | datetime
    values: dict[Any, str] = field(default_factory=dict)   # category/code -> label, in order
    missing: tuple[Any, ...] = ()                      # codes that are not valid answers


@dataclass
class ExportTable:
    """The export before it is written: data, its variables and what it applied."""
    wave: str
    frame: pd.DataFrame
    variables: list[Variable]
    record: dict[str, Any]

    def codebook(self, numeric: bool) -> pd.DataFrame:
        """One row per variable and value: variable, label, type, code, value_label, missing."""
        rows = []
        for var in self.variables:
            if not var.values:
                rows.append({"variable": var.name, "label": var.label, "type": var.kind, "code": "",
                             "value_label": "", "missing": ""})
                continue
            for i, (value, text) in enumerate(var.values.items(), start=1):
                code = value if var.kind == "code" or not numeric else i
                rows.append({"variable": var.name, "label": var.label,
                             "type": "code" if numeric or var.kind == "code" else "text", "code": code,
                             "value_label": text, "missing": "yes" if value in var.missing else ""})
        return pd.DataFrame(rows, columns=["variable", "label", "type", "code", "value_label", "missing"])


def _label(key: str) -> str:
    return i18n.t(f"quality.var.{key}")


def describe(qn: Questionnaire, wave: dict[str, Any], columns: Sequence[str]) -> list[Variable]:
    """Label and values of every exported column, from the questionnaire and the wave."""
    out: list[Variable] = []
    qids = {q.id for q in qn.questions}
    for col in columns:
        if col == "unit":
            out.append(Variable(col, _label(col), "text", {u: u for u in wave["units"]}))
        elif col == "mode":
            out.append(Variable(col, _label(col), "text", {m: i18n.t(f"mode.{m}") for m in MODES}))
        elif col == "duration_s" or col == "weight":
            out.append(Variable(col, _label(col), "number"))
        elif col == "submitted_at":
            out.append(Variable(col, _label(col), "datetime"))
        elif col in qids:
            q = qn.question(col)
            if q.type == "text":
                out.append(Variable(col, q.text, "text"))
                continue
            opts = qn.options(q)
            coded = all(isinstance(o.code, int) for o in opts)
            out.append(Variable(col, q.text, "code" if coded else "text", {o.code: o.label for o in opts},
                                tuple(o.code for o in opts if coded and o.code == DONT_KNOW)))
        else:
            out.append(Variable(col, _label(col) if i18n.t(f"quality.var.{col}") != f"quality.var.{col}" else col,
                                "text"))
    return out


def _weights(frame: pd.DataFrame, population: pd.DataFrame | str | Path | None,
             variables: Sequence[str]) -> pd.Series:
    """Raked weights (analysis.weighting.rake, as a score run rakes): one per exported row."""
    from analysis.errors import InputError
    from analysis.io import read_population
    from analysis.weighting import rake
    try:
        pop = population if isinstance(population, pd.DataFrame) else read_population(population or DEFAULT_POPULATION)
        weights, _ = rake(frame, pop, list(variables))
    except InputError as err:
        raise ExportError([f"weights: {p}" for p in err.problems]) from None
    return weights


def _contacts(store: Store, actor: Account, wave: str) -> pd.DataFrame:
    """Case id and contact (phone or address) of each response that came from a case (admin only)."""
    require(actor, "export.contacts")
    from survey.fieldwork import contacts_for_wave
    contacts = pd.DataFrame(contacts_for_wave(store, actor, wave),
                            columns=["response_id", "case_id", "phone", "address"])
    return contacts[contacts["response_id"].notna()][["response_id", "case_id", "phone", "address"]]


def build_export(store: Store, actor: Account, wave: str, *, weights: bool = False,
                 population: pd.DataFrame | str | Path | None = None,
                 weight_variables: Sequence[str] = ("sex", "age_group"), include_excluded: bool = False,
                 with_contacts: bool = False) -> ExportTable:
    """The rows and variables of a wave's export (excluded responses left out unless asked)."""
    require(actor, "export.responses")
    w = get_wave(store, wave)
    qn = questionnaire_for_wave(store, wave)
    frame = responses_frame(store, actor, wave, include_excluded=include_excluded)
    # rows in the order the store holds them (sorting 100,000 text keys would cost a second)
    coded = [q.id for q in qn.questions if q.role != "screening" and q.type == "single" and q.id in frame.columns
             and all(isinstance(o.code, int) for o in qn.options(q))]
    for col in coded:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    frame["duration_s"] = pd.to_numeric(frame["duration_s"], errors="coerce")
    if include_excluded:
        frame["excluded_reason"] = frame.pop("excluded_reason")
    record: dict[str, Any] = {"wave": wave, "rows": int(len(frame)), "include_excluded": include_excluded,
                              "exclusions_left_out": 0 if include_excluded else len(store.current_exclusions(wave)),
                              "weights": None, "contacts": with_contacts}
    if weights and len(frame):
        frame.insert(frame.columns.get_loc("education") + 1 if "education" in frame else len(frame.columns),
                     "weight", _weights(frame, population, weight_variables).to_numpy())
        record["weights"] = {"variables": list(weight_variables),
                             "population": "uploaded" if isinstance(population, pd.DataFrame)
                             else Path(population or DEFAULT_POPULATION).name}
    if with_contacts:
        contacts = _contacts(store, actor, wave)
        frame = frame.merge(contacts.drop_duplicates("response_id"), on="response_id", how="left")
    return ExportTable(wave, frame, describe(qn, w, list(frame.columns)), record)


# ---- writers ----------------------------------------------------------------------------
def codebook_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".codebook.csv")


def _numeric_frame(table: ExportTable) -> tuple[pd.DataFrame, dict[str, str], dict[str, dict[Any, str]],
                                                dict[str, list[Any]]]:
    """SPSS/Stata frame: categories as 1..k, codes as floats (NaN = missing), times as datetimes."""
    frame = table.frame.copy()
    labels: dict[str, str] = {}
    value_labels: dict[str, dict[Any, str]] = {}
    missing: dict[str, list[Any]] = {}
    for var in table.variables:
        labels[var.name] = var.label
        col = frame[var.name]
        if var.kind == "code":
            frame[var.name] = col.astype("float64")
            value_labels[var.name] = {float(k): v for k, v in var.values.items()}
            if var.missing:
                missing[var.name] = [float(m) for m in var.missing]
        elif var.values:  # text categories -> 1..k in questionnaire / wave order
            codes = {value: float(i) for i, value in enumerate(var.values, start=1)}
            frame[var.name] = col.map(codes).astype("float64")
            value_labels[var.name] = {codes[k]: v for k, v in var.values.items()}
        elif var.kind == "datetime":
            frame[var.name] = pd.to_datetime(col, errors="coerce")
        elif var.kind == "number":
            frame[var.name] = pd.to_numeric(col, errors="coerce").astype("float64")
        else:
            frame[var.name] = col.astype("object").where(col.notna(), "").astype(str)
    return frame, labels, value_labels, missing


def write_export(table: ExportTable, fmt: str, out: str | Path) -> list[Path]:
    """Write the export (and its codebook next to it, except in Excel where it is a sheet).

    Each file is written to a temporary name and renamed into place, so an interrupted export
    leaves no partial file; an export with contacts is created 0600 (personal data). CSV text
    cells that a spreadsheet would run as a formula get a leading `'` (survey.outputs).
    """
    import pyreadstat
    if fmt not in FORMATS:
        raise ExportError([f"--format: `{fmt}` is not one of {', '.join(FORMATS)}"])
    out = check_output(out)
    book = codebook_path(out)
    if fmt != "xlsx":
        check_output(book, "--out (codebook)")
    private = bool(table.record.get("contacts"))
    with atomic_output(out, private=private) as tmp:
        if fmt == "csv":
            csv_safe(table.frame).to_csv(tmp, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL)
        elif fmt == "xlsx":
            write_xlsx(tmp, {"responses": table.frame, "codebook": table.codebook(numeric=False)})
        else:
            frame, labels, value_labels, missing = _numeric_frame(table)
            note = f"wave {table.wave}; exported {dt.datetime.now().isoformat(timespec='seconds')}"
            if fmt == "sav":
                pyreadstat.write_sav(frame, tmp, file_label=f"wave {table.wave}", column_labels=labels,
                                     variable_value_labels=value_labels, missing_ranges=missing, note=note,
                                     variable_measure={v: "nominal" for v in value_labels})
            else:
                pyreadstat.write_dta(frame, tmp, file_label=f"wave {table.wave}", column_labels=labels,
                                     variable_value_labels=value_labels, version=15)
    written = [out]
    if fmt != "xlsx":
        with atomic_output(book) as tmp:
            codebook = table.codebook(numeric=fmt in ("sav", "dta"))
            if fmt == "csv":
                codebook = pd.concat([codebook, pd.DataFrame([CSV_FORMULA_NOTE])], ignore_index=True)
            csv_safe(codebook).to_csv(tmp, index=False, encoding="utf-8-sig")
        written.append(book)
    return written


def export_wave(store: Store, actor: Account, wave: str, fmt: str, out: str | Path, **options: Any
                ) -> tuple[ExportTable, list[Path]]:
    """Build and write a wave's export; `options` as build_export. Returns the table and the files."""
    if fmt not in FORMATS:
        raise ExportError([f"--format: `{fmt}` is not one of {', '.join(FORMATS)}"])
    table = build_export(store, actor, wave, **options)
    written = write_export(table, fmt, out)
    qn = questionnaire_for_wave(store, wave)
    if qn.kind == "appraisal":
        written.append(write_rated_units(qn, out))
    return table, written


def units_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".units.csv")


def write_rated_units(qn: Questionnaire, out: str | Path) -> Path:
    """An appraisal wave's rated units `id,name,type`: the UNITS.csv of `python -m analysis … --appraisal`."""
    path = units_path(out)
    pd.DataFrame([u.model_dump() for u in qn.rated_units], columns=["id", "name", "type"]).to_csv(
        path, index=False, encoding="utf-8-sig")
    return path

