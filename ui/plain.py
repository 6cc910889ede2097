"""User text on screen stays text: ids, names, comments, reasons are never read as Markdown.

Prefer st.text / st.dataframe / st.code for user text. Where a catalog message must carry
a user value inside st.info / st.warning / st.error / st.caption (which render Markdown),
pass the value through `md_escape`: `[点此核实](http://…)` then shows as those characters,
not as a live link, and `![x](http://…)` is never fetched by the reader's browser.
"""
from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=&])")


def md_escape(value: object) -> str:
    """The value as Markdown that shows exactly its characters (newlines become spaces)."""
    text = " ".join(str(value).splitlines())
    return _SPECIAL.sub(r"\\\1", text)


def problem_table(problems: list[str]) -> None:
    """An import's problems as a table (行 / 列 / 值 / 问题), said from the catalog in the UI language."""
    import pandas as pd
    import streamlit as st

    from survey.errors import problem_rows
    from ui.session import lang
    st.dataframe(pd.DataFrame(problem_rows(list(problems), lang())), hide_index=True, width="stretch")


def headed(frame, prefix: str):
    """A frame with its code-named columns (`n_eff_w`) renamed from the catalog (`<prefix><column>`).

    A column without a catalog text keeps its name, so a gap shows (tests/test_try_everything.py
    fails on code headers).
    """
    from survey import i18n
    from ui.session import lang
    known = i18n.catalog("zh")
    return frame.rename(columns={c: i18n.t(f"{prefix}{c}", lang()) for c in frame.columns
                                 if f"{prefix}{c}" in known})
