"""Checks of an uploaded table before it is parsed: decompression bombs, formula cells, duplicate headers.

An .xlsx is a zip: 1.5 MB can inflate to 1.6 GB and take the server's memory with it,
so the inflated size is read from the zip directory (no inflating) and refused above
`MAX_XLSX_INFLATED`. A wave's largest real file (100,000 responses) inflates to about
120 MB, so the limit leaves room for it and nothing for a bomb.

A formula cell saved without its computed value (files written by scripts, or Excel with
manual calculation) would read as a blank answer; it is refused with its cell instead.
Two columns with the same header would be read as `x` and `x.1`, silently dropping one:
refused too.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from xml.etree import ElementTree

from common.errors import FileProblem, file_problem

MAX_XLSX_INFLATED = 250 * 1024 * 1024   # bytes, all members of the zip together
MAX_XLSX_RATIO = 200                     # inflated / compressed of one member; real sheets reach ~20
_SHEET = re.compile(r"^xl/worksheets/sheet\d+\.xml$")
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.0f} MB"


def xlsx_problems(raw: bytes, name: str) -> list[FileProblem]:
    """Why an .xlsx must not be parsed: not a zip, inflates too far, formula cells without values."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        return [file_problem(name, "not a readable .xlsx file (not a zip archive)", "not_xlsx")]
    with archive:
        infos = archive.infolist()
        inflated = sum(i.file_size for i in infos)
        if inflated > MAX_XLSX_INFLATED:
            return [file_problem(name, f"inflates to {_mb(inflated)}, above the limit of {_mb(MAX_XLSX_INFLATED)}; "
                                 "not read", "xlsx_too_big", size=_mb(inflated), limit=_mb(MAX_XLSX_INFLATED))]
        for info in infos:
            if info.compress_size and info.file_size > 1024 * 1024 and \
                    info.file_size / info.compress_size > MAX_XLSX_RATIO:
                ratio = info.file_size // info.compress_size
                return [file_problem(name, f"member {info.filename} inflates {ratio}-fold (a decompression bomb?); "
                                     "not read", "xlsx_bomb", member=info.filename, ratio=ratio)]
        sheets = sorted((i for i in infos if _SHEET.match(i.filename)), key=lambda i: i.filename)
        if not sheets:
            return [file_problem(name, "no worksheet in the file", "no_sheet")]
        return _formula_problems(archive, sheets[0].filename, name)


def _formula_problems(archive: zipfile.ZipFile, member: str, name: str, limit: int = 20) -> list[str]:
    """Formula cells of the first sheet that carry no computed value."""
    with archive.open(member) as fh:
        if not any(b"<f" in chunk or b":f" in chunk for chunk in iter(lambda: fh.read(1 << 20), b"")):
            return []  # no formula at all: the usual case, no XML parsing
    problems: list[str] = []
    with archive.open(member) as fh:
        for _, elem in ElementTree.iterparse(fh, events=("end",)):
            if elem.tag != f"{_NS}c":
                continue
            formula, value = elem.find(f"{_NS}f"), elem.find(f"{_NS}v")
            if formula is not None and (value is None or not (value.text or "").strip()):
                ref = elem.get("r", "?")
                row = "".join(ch for ch in ref if ch.isdigit())
                col = "".join(ch for ch in ref if ch.isalpha())
                problems.append(FileProblem(f"{name}: row {row}, column {col}: a formula without a computed value — "
                                            "open the file in Excel, let it calculate, save it and import again",
                                            col, "formula_no_value", row=int(row) if row else None,
                                            params={"name": name}))
                if len(problems) >= limit:
                    break
            elem.clear()
    return problems


def duplicate_headers(headers: list[object], name: str) -> list[str]:
    """Headers given twice (after trimming spaces), each named with its columns."""
    seen: dict[str, int] = {}
    problems = []
    for i, header in enumerate(headers, start=1):
        key = str(header).strip()
        if key in seen:
            problems.append(file_problem(name, f"column `{key}` appears twice (columns {seen[key]} and {i}); "
                                         "keep one of them", "duplicate_header", key, first=seen[key], second=i))
        else:
            seen[key] = i
    return problems


def csv_header(text: str) -> list[str]:
    """The first record of a CSV text, as the csv module reads it."""
    return next(csv.reader(io.StringIO(text)), [])


def nul_problems(text: str, name: str, limit: int = 20) -> list[str]:
    """Lines of a CSV holding a NUL character, which the CSV parser would cut the cell at."""
    if "\x00" not in text:
        return []
    lines = [i for i, line in enumerate(text.split("\n"), start=1) if "\x00" in line]
    return [FileProblem(f"{name}: row {i}: holds a NUL character (U+0000); save the file again as plain text",
                        None, "nul_char", row=i, params={"name": name}) for i in lines[:limit]]
