"""Reading the responses file and the population file (DESIGN.md data contracts)."""
from __future__ import annotations

from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from analysis.errors import InputError
from common.io import read_table

POPULATION_COLUMNS = ("unit", "variable", "category", "population")
TEXT_COLUMNS = {"response_id": str, "wave": str, "unit": str, "mode": str, "interviewer": str, "sex": str,
                "age_group": str, "education": str}


_read_table = read_table  # the earlier private name


def read_responses(source: str | Path | IO[bytes], name: str | None = None) -> pd.DataFrame:
    """A responses file: text columns as text, item codes as numbers (missing as NaN)."""
    name = name or Path(str(getattr(source, "name", source))).name
    frame = read_table(source, name, TEXT_COLUMNS)
    missing = [c for c in ("unit",) if c not in frame.columns]
    if missing:
        raise InputError([f"{name}: column `{c}` is missing" for c in missing])
    return frame


def read_population(source: str | Path | IO[bytes], name: str | None = None) -> pd.DataFrame:
    """A population margins file `unit,variable,category,population`, checked cell by cell."""
    name = name or Path(str(getattr(source, "name", source))).name
    frame = read_table(source, name, {"unit": str, "variable": str, "category": str, "population": str})
    missing = [c for c in POPULATION_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError([f"{name}: column `{c}` is missing (need {','.join(POPULATION_COLUMNS)})"
                          for c in missing])
    problems = []
    values = pd.to_numeric(frame["population"], errors="coerce")
    for i, (raw, val) in enumerate(zip(frame["population"], values), start=2):
        where = f"{name}: line {i} ({frame.at[i - 2, 'unit']}, {frame.at[i - 2, 'variable']}, " \
                f"{frame.at[i - 2, 'category']})"
        if pd.isna(raw) or str(raw).strip() == "":
            problems.append(f"{where}: population is missing")
        elif pd.isna(val):
            problems.append(f"{where}: population `{raw}` is not a number")
        elif not np.isfinite(val):
            problems.append(f"{where}: population `{raw}` is not a finite number")
        elif val < 0:
            problems.append(f"{where}: population {raw} is negative")
    if problems:
        raise InputError(problems)
    frame = frame.assign(population=values.astype(float))
    return frame[list(POPULATION_COLUMNS)]
