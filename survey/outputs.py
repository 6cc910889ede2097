"""Output files written by commands and pages: checked first, written atomically, CSV made formula-safe.

- `check_output` refuses an `--out` that is a directory, in a missing folder, or not
  writable *before* a command stores anything, so a failing command writes nothing.
- `atomic_output` writes to a temporary file in the target folder and renames it into
  place: an interrupted export leaves no partial file under the final name.
- Files holding personal data (contact exports, backups, the store) are created 0600.
- `csv_cell` neutralises spreadsheet formulas: a text cell starting with = + - @ tab or CR
  gets a leading `'` (the usual CSV-injection defence, as OWASP recommends). The text is
  kept (`=_=` is an emoticon residents write), only Excel / WPS no longer run it.
"""
from __future__ import annotations

from common.errors import Invalid

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PRIVATE = 0o600


class OutputError(Invalid):
    """An output path that cannot be written; the message names the option and the path."""


def check_output(path: str | Path, option: str = "--out") -> Path:
    """The output path, refused (OutputError, one line) when it cannot be written as a file."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{option}: {p} is a folder; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{option}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise OutputError(f"{option}: {p} cannot be written (no permission)")
    return p


@contextmanager
def atomic_output(path: str | Path, *, private: bool = False, option: str = "--out") -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success rename it into place, else remove it."""
    final = check_output(path, option)
    tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE if private else 0o644)
    os.close(fd)
    try:
        yield tmp
        if private:
            os.chmod(tmp, PRIVATE)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def csv_cell(value: Any) -> Any:
    """A text value with a leading `'` when a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell passed through `csv_cell` (numbers untouched)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(csv_cell)
    out.columns = [csv_cell(c) for c in out.columns]
    return out
