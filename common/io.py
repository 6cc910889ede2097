"""The one file reader of tabular inputs, shared by analysis (responses, population) and the
store's imports (survey.importing): CSV in UTF-8 (with or without BOM) or GBK, or .xlsx.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import IO

import pandas as pd

from common.errors import Invalid, file_problem
from common.input_checks import csv_header, duplicate_headers, nul_problems, xlsx_problems


def source_name(source: str | Path | IO[bytes], name: str | None = None) -> str:
    """The name a problem message shows for an input: the given one, the file's, or the upload's."""
    if name:
        return name
    if isinstance(source, (str, Path)):
        return Path(source).name
    return Path(str(getattr(source, "name", "upload"))).name


def read_table(source: str | Path | IO[bytes], name: str, dtype: dict[str, type] | type) -> pd.DataFrame:
    """CSV (UTF-8, with or without BOM, or GBK as Chinese Excel writes it) or .xlsx.

    GB18030 is tried after UTF-8: it is a superset of GBK, so files saved by Chinese Excel
    decode. Shared by the analysis inputs and the store's bulk import (survey.importing).
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise Invalid([file_problem(name, f"file not found: {path}", "file_not_found")])
        raw = path.read_bytes()
        suffix = path.suffix.lower()
    else:
        raw = source.read()
        suffix = Path(getattr(source, "name", "")).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        problems = xlsx_problems(raw, name)  # bombs and formula cells, before parsing
        if problems:
            raise Invalid(problems)
        header = pd.read_excel(io.BytesIO(raw), header=None, nrows=1).iloc[0].tolist() if raw else []
        problems = duplicate_headers([h for h in header if not pd.isna(h)], name)
        if problems:
            raise Invalid(problems)
        return pd.read_excel(io.BytesIO(raw), dtype=dtype)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Invalid([file_problem(name, "not UTF-8 or GBK text", "not_text")])
    problems = duplicate_headers(csv_header(text), name) + nul_problems(text, name)
    if problems:
        raise Invalid(problems)
    try:
        return pd.read_csv(io.StringIO(text), dtype=dtype, keep_default_na=True)
    except pd.errors.ParserError as err:
        detail = str(err).splitlines()[0]
        raise Invalid([file_problem(name, f"not a readable CSV: {detail}", "unreadable", detail=detail)]) from None
