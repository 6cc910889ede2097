"""The one UI text catalog.

Texts live in `survey/locales/<lang>/*.yaml` (one file per area, merged into one flat
catalog per language) so pages never hold user-facing strings. Chinese is the default;
a key missing from another language falls back to Chinese, and a key missing
everywhere shows as the key itself so a gap is visible rather than fatal.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

LOCALE_DIR = Path(__file__).with_name("locales")
DEFAULT_LANG = "zh"


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)


@functools.lru_cache(maxsize=None)
def catalog(lang: str = DEFAULT_LANG) -> dict[str, str]:
    """All texts of one language, keys like `login.title`."""
    out: dict[str, str] = {}
    folder = LOCALE_DIR / lang
    for path in sorted(folder.glob("*.yaml")):
        _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")) or {}, out)
    return out


def languages() -> list[str]:
    return sorted(p.name for p in LOCALE_DIR.iterdir() if p.is_dir())


def t(key: str, lang: str = DEFAULT_LANG, /, **values: Any) -> str:
    """The text for `key`, formatted with `values` (positional-only: a placeholder may be named `key`)."""
    text = catalog(lang).get(key) or catalog(DEFAULT_LANG).get(key) or key
    return text.format(**values) if values else text


def when(value: Any) -> str:
    """A stored ISO timestamp as people read it ("2025-06-01 18:00"); empty for None."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return ""
    text = str(value).replace("T", " ")
    return text[:16] if len(text) >= 16 else text


def yes_no(value: Any, lang: str = DEFAULT_LANG, /) -> str:
    """1/0, True/False as 是/否 (empty for None)."""
    if value is None or value == "":
        return ""
    return t("common.yes" if bool(value) else "common.no", lang)
