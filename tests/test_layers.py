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


# ---- SQL lives in survey/storage/ only ---------------------------------------------------
RAW_STORE_CALLS = {"query", "execute", "executemany", "exec_driver_sql", "scalar", "insert_many", "insert_id"}
SQL_START = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "CREATE ", "ALTER ", "DROP ", "PRAGMA ", "WITH ")
OUTSIDE_STORAGE = ("survey", "app_pages", "ui", "analysis", "common")


def raw_sql_uses(path: Path) -> list[str]:
    """Calls of a store's raw SQL methods, uses of its connection (`.db`) and SQL texts in one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RAW_STORE_CALLS:
            found.append(f"{path.name}:{node.lineno} calls .{node.func.attr}()")
        elif isinstance(node, ast.Attribute) and node.attr == "db" and isinstance(node.ctx, ast.Load):
            found.append(f"{path.name}:{node.lineno} uses .db")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and node.value.lstrip().upper().startswith(SQL_START) and node.value.lstrip()[:6].isupper()):
            found.append(f"{path.name}:{node.lineno} holds SQL {node.value.strip()[:30]!r}")
    return found


def test_no_sql_outside_the_storage_package():
    files = [ROOT / "streamlit_app.py"] + [p for pkg in OUTSIDE_STORAGE for p in sorted((ROOT / pkg).rglob("*.py"))]
    found = [use for path in files if "storage" not in path.relative_to(ROOT).parts[:2]
             for use in raw_sql_uses(path)]
    assert found == []


def test_the_sql_scan_sees_queries_and_connections(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("def f(store):\n    store.query('SELECT 1')\n    store.db.scalar('x')\n"
                      "    s = 'UPDATE accounts SET x = 1'\n")
    assert len(raw_sql_uses(sample)) == 5


# ---- pages and ui/ call survey's services, never the store ------------------------------
STORE_MODULES = ("survey.store", "survey.storage")
STORE_OPENERS = {"store", "_store", "get_store", "init_store", "open_store"}  # calls that hand out a store


def _is_store(node: ast.expr) -> bool:
    """A store object as pages and ui/ name it: `store`, `x_store`, `x.store`, or `store()` / `get_store()`."""
    if isinstance(node, ast.Name):
        return node.id == "store" or node.id.endswith("_store")
    if isinstance(node, ast.Attribute):
        return node.attr == "store" or node.attr.endswith("_store")
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return name in STORE_OPENERS
    return False


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of the nodes under `if TYPE_CHECKING:`: a type named in a hint, never called."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            inside.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return inside


def store_uses(source: str, name: str = "<source>") -> list[str]:
    """Method calls on a store object and imports of the store modules in one module's source."""
    tree = ast.parse(source, filename=name)
    hints = _type_checking_only(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in hints:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_store(node.func.value):
            found.append(f"{name}:{node.lineno} calls the store's .{node.func.attr}()")
        elif isinstance(node, ast.Import):
            found += [f"{name}:{node.lineno} imports {a.name}" for a in node.names if a.name.startswith(STORE_MODULES)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith(STORE_MODULES):
                found.append(f"{name}:{node.lineno} imports {node.module}")
            elif node.module == "survey" and any(a.name in ("store", "storage") for a in node.names):
                found.append(f"{name}:{node.lineno} imports survey.store/storage")
    return found


def test_pages_ui_and_cli_call_services_never_the_store():
    files = ([ROOT / "streamlit_app.py"] + sorted((ROOT / "app_pages").rglob("*.py")) + sorted((ROOT / "ui").rglob("*.py"))
             + sorted((ROOT / "survey" / "cli").rglob("*.py")))
    found = [use for path in files
             for use in store_uses(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert found == []


def test_the_store_scan_sees_calls_and_imports_but_not_services_or_hints():
    planted = ("from survey.store import StoreError\nimport survey.storage.waves\nfrom survey import store as s\n"
               "store = session.store()\nwaves = store.waves()\nunits = session.store().wave('x')\n"
               "n = self.store.count_responses()\nm = get_store().accounts()\nk = my_store.cases('w')\n")
    assert len(store_uses(planted)) == 8
    clean = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from survey.store import Store\n"
             "store = session.store()\nwaves = wave_ids(store, account)\nsession.wave_picker(col, waves, 'k')\n"
             "text = restore.strip()\n")
    assert store_uses(clean) == []
