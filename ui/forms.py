"""Questionnaire widgets: one place that turns a Question into a Streamlit input."""
from __future__ import annotations

from typing import Any

import streamlit as st

from survey import quick_entry
from survey.questionnaire import MAX_TEXT_CHARS, Question, Questionnaire
from ui.session import lang, t

KEY_PREFIX = "q_"


def widget_key(qid: str, form: str) -> str:
    return f"{KEY_PREFIX}{form}_{qid}"


def option_label(qn: Questionnaire, q: Question, code: Any, mode: str, numbered: bool = False,
                 language: str | None = None) -> str:
    """An option as shown; `numbered` puts its key first ("5 满意", "1 男") so a pollster can key it.

    `language` is fixed when the widget is drawn: a format function called later (e.g. by the
    widget's serialiser) must label the options the way they were shown.
    """
    language = language or lang()
    for opt in qn.options(q):
        if opt.code == code:
            label = opt.label_en if language == "en" and opt.label_en else opt.label
            key = quick_entry.key_of(qn, q, code) if numbered else None
            if key is not None:
                label = f"{key} {label}"
            return label if opt.shown_in(mode) else f"{label}（{t('interview.not_read')}）"
    return str(code)


def numeric_codes(qn: Questionnaire, q: Question) -> bool:
    """Whether one key press can choose each option (its code, or its position for text codes)."""
    return quick_entry.key_map(qn, q) is not None


def ask(qn: Questionnaire, q: Question, mode: str, form: str, horizontal: bool = True,
        numbered: bool = False) -> Any:
    """Render one question and return its current answer (None when unanswered).

    `horizontal=False` stacks the options, as a phone screen needs; `numbered` shows the codes.
    """
    key = widget_key(q.id, form)
    if q.type == "text":
        return st.text_input(qn.text(q, lang()), key=key, max_chars=MAX_TEXT_CHARS) or None
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


def quick_state(form: str) -> str:
    return f"{form}_quick"


def _quick_fill(qn: Questionnaire, form: str, roles: tuple[str, ...], keep: bool) -> None:
    """on_change of the quick-entry field: runs before the widgets, so it may set their values."""
    raw = str(st.session_state.get(quick_state(form)) or "")
    questions = quick_entry.keyable(qn, roles)
    known = {q.id: st.session_state.get(widget_key(q.id, form)) for q in qn.questions}
    filled = quick_entry.fill(qn, questions, raw, known)
    for qid, code in filled.answers.items():
        st.session_state[widget_key(qid, form)] = code
    for problem in filled.problems:  # a wrong key empties its question rather than keep an old answer
        if problem.qid is not None:
            st.session_state[widget_key(problem.qid, form)] = None
    messages = [quick_entry.message(qn, p, len(questions), lang()) for p in filled.problems]
    st.session_state[f"{form}_quick_msg"] = (messages, len(filled.answers))
    if not keep:
        st.session_state[quick_state(form)] = ""


def quick_entry_field(qn: Questionnaire, form: str, roles: tuple[str, ...], *, keep: bool = False,
                      label: str | None = None, help: str | None = None, placeholder: str = "4459...") -> None:
    """The code-string field and what the last Enter did (errors naming question and position).

    `keep` leaves the typed string in the field (paper keying corrects a key in place);
    interviews clear it, the radios then show what was filled.
    """
    st.text_input(label or t("interview.quick"), key=quick_state(form), help=help or t("interview.quick_help"),
                  placeholder=placeholder, on_change=_quick_fill, args=(qn, form, roles, keep))
    msg = st.session_state.pop(f"{form}_quick_msg", None)
    if msg:
        problems, filled = msg
        for problem in problems:
            st.error(problem)
        if filled:
            st.caption(t("interview.quick_done", n=filled))


def field_label(qn: Questionnaire, name: str) -> str:
    """A paper form's field as named on screen: 区, 访问员编号 or the question's label."""
    if name == "unit":
        return t("common.unit")
    if name == "interviewer":
        return t("supervision.paper.interviewer")
    try:
        return qn.label(qn.question(name), lang())
    except KeyError:
        return name


def shown_value(qn: Questionnaire, name: str, value: Any, mode: str = "paper") -> str:
    """A keyed value as shown to keyers and supervisors: with its key ("4 比较满意"), （空） when blank."""
    if value is None:
        return t("supervision.paper.blank")
    try:
        return option_label(qn, qn.question(name), value, mode, numbered=True)
    except KeyError:
        return str(value)
