"""Arrows one way: pages → survey → analysis → common. An AST scan, so a lazy import inside a
function counts as much as one at the top of a module."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            if name.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_analysis_never_imports_survey_ui_or_pages():
    assert offenders("analysis", ("survey", "ui", "app_pages", "streamlit")) == []


def test_survey_and_analysis_never_import_streamlit():
    assert offenders("survey", ("streamlit", "ui", "app_pages")) == []
    assert offenders("analysis", ("streamlit",)) == []


def test_common_imports_neither_side():
    assert offenders("common", ("survey", "analysis", "ui", "app_pages", "streamlit")) == []


def test_the_scan_sees_lazy_imports(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from survey.store import Store\n    import streamlit as st\n")
    assert imported_modules(sample) == {"survey.store", "streamlit"}
