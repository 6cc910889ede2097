"""Questionnaire widgets: one place that turns a Question into a Streamlit input."""
from __future__ import annotations

from typing import Any

import streamlit as st

from survey.questionnaire import Question, Questionnaire
from ui.session import lang, t

KEY_PREFIX = "q_"


def widget_key(qid: str, form: str) -> str:
    return f"{KEY_PREFIX}{form}_{qid}"


def option_label(qn: Questionnaire, q: Question, code: Any, mode: str, numbered: bool = False,
                 language: str | None = None) -> str:
    """An option as shown; `numbered` puts the code first ("5 满意") so a pollster can key it.

    `language` is fixed when the widget is drawn: a format function called later (e.g. by the
    widget's serialiser) must label the options the way they were shown.
    """
    language = language or lang()
    for opt in qn.options(q):
        if opt.code == code:
            label = opt.label_en if language == "en" and opt.label_en else opt.label
            if numbered and isinstance(code, int):
                label = f"{code} {label}"
            return label if opt.shown_in(mode) else f"{label}（{t('interview.not_read')}）"
    return str(code)


def numeric_codes(qn: Questionnaire, q: Question) -> bool:
    """Whether every option code is a single digit (so one key press can choose it)."""
    return q.type == "single" and all(isinstance(o.code, int) and 0 <= o.code <= 9 for o in qn.options(q))


def ask(qn: Questionnaire, q: Question, mode: str, form: str, horizontal: bool = True,
        numbered: bool = False) -> Any:
    """Render one question and return its current answer (None when unanswered).

    `horizontal=False` stacks the options, as a phone screen needs; `numbered` shows the codes.
    """
    key = widget_key(q.id, form)
    if q.type == "text":
        return st.text_input(qn.text(q, lang()), key=key) or None
    codes = [o.code for o in qn.options(q)]
    language = lang()
    return st.radio(qn.text(q, language), codes, index=None, key=key, horizontal=horizontal,
                    format_func=lambda c: option_label(qn, q, c, mode, numbered, language))


def ask_section(qn: Questionnaire, role: str, mode: str, form: str, answers: dict[str, Any],
                numbered: bool = False) -> None:
    """Ask every question of a role whose skip logic lets it show; fill `answers` in place."""
    for q in qn.by_role(role):
        if qn.is_shown(q, answers):
            answers[q.id] = ask(qn, q, mode, form, numbered=numbered and numeric_codes(qn, q))
        else:
            answers.pop(q.id, None)


UNIT_ROLES = ("awareness", "rating", "dimension")


def ask_units(qn: Questionnaire, mode: str, form: str, answers: dict[str, Any], numbered: bool = False) -> None:
    """Appraisal waves: each rated unit's block in questionnaire order (awareness, then the
    satisfaction and dimension items, shown only when aware), as on the web list."""
    for q in qn.questions:
        if q.role not in UNIT_ROLES:
            continue
        if qn.is_shown(q, answers):
            answers[q.id] = ask(qn, q, mode, form, numbered=numbered and numeric_codes(qn, q))
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
