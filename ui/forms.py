"""Questionnaire widgets: one place that turns a Question into a Streamlit input."""
from __future__ import annotations

from typing import Any

import streamlit as st

from survey.questionnaire import Question, Questionnaire
from ui.session import lang, t

KEY_PREFIX = "q_"


def widget_key(qid: str, form: str) -> str:
    return f"{KEY_PREFIX}{form}_{qid}"


def option_label(qn: Questionnaire, q: Question, code: Any, mode: str) -> str:
    for opt in qn.options(q):
        if opt.code == code:
            label = opt.label_en if lang() == "en" and opt.label_en else opt.label
            return label if opt.shown_in(mode) else f"{label}（不读出）"
    return str(code)


def ask(qn: Questionnaire, q: Question, mode: str, form: str, horizontal: bool = True) -> Any:
    """Render one question and return its current answer (None when unanswered).

    `horizontal=False` stacks the options, as a phone screen needs.
    """
    key = widget_key(q.id, form)
    if q.type == "text":
        return st.text_input(qn.text(q, lang()), key=key) or None
    codes = [o.code for o in qn.options(q)]
    return st.radio(qn.text(q, lang()), codes, index=None, key=key, horizontal=horizontal,
                    format_func=lambda c: option_label(qn, q, c, mode))


def ask_section(qn: Questionnaire, role: str, mode: str, form: str, answers: dict[str, Any]) -> None:
    """Ask every question of a role whose skip logic lets it show; fill `answers` in place."""
    for q in qn.by_role(role):
        if qn.is_shown(q, answers):
            answers[q.id] = ask(qn, q, mode, form)
        else:
            answers.pop(q.id, None)


def clear(form: str) -> None:
    """Forget a form's answers (start the next interview empty)."""
    prefix = f"{KEY_PREFIX}{form}_"
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]


def missing_fields(qn: Questionnaire, problems: list[str]) -> str:
    names = []
    for p in problems:
        qid = p.split(":", 1)[0]
        try:
            names.append(qn.label(qn.question(qid), lang()))
        except KeyError:
            names.append(p)
    return "、".join(names)
