"""Quick entry: a string of option codes typed in questionnaire order ("11445439…").

One component for the interviews (satisfaction items, one digit each) and paper keying
(every single-choice question of the form, as printed on the paper). Each question that
can be keyed has one key per option: its code when every code is a single digit (5 满意,
9 不了解), else the option's position (1 男, 2 女), as the SPSS export numbers them.
Skip logic is followed as the string is read: a question the earlier answers skip takes
no key. Problems name the question and the position of the key, so the keyer can find it
on the paper; nothing here knows about widgets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from survey import i18n
from survey.questionnaire import Code, Question, Questionnaire

SEPARATORS = " ,，、\t"


def key_map(qn: Questionnaire, q: Question) -> dict[str, Code] | None:
    """Key -> option code of a question, None when it cannot be keyed with one key per option."""
    options = qn.options(q)
    if q.type != "single" or not options:
        return None
    if all(isinstance(o.code, int) and not isinstance(o.code, bool) and 0 <= o.code <= 9 for o in options):
        return {str(o.code): o.code for o in options}
    if len(options) <= 9:
        return {str(i): o.code for i, o in enumerate(options, start=1)}
    return None


def key_of(qn: Questionnaire, q: Question, code: Any) -> str | None:
    """The key that enters `code` (None when the question takes no key or the code is no option)."""
    for key, value in (key_map(qn, q) or {}).items():
        if value == code:
            return key
    return None


def keyable(qn: Questionnaire, roles: tuple[str, ...]) -> list[Question]:
    """The questions of `roles` that take one key, in questionnaire order."""
    return [q for q in qn.questions if q.role in roles and key_map(qn, q) is not None]


@dataclass(frozen=True)
class KeyProblem:
    """One key that was not entered: `kind` is "not_option" or "too_many"."""
    kind: str
    position: int          # 1-based position of the key in the typed string
    key: str
    qid: str | None = None


@dataclass(frozen=True)
class Filled:
    answers: dict[str, Code]                   # question id -> code, for every key that was an option
    problems: tuple[KeyProblem, ...] = ()
    asked: tuple[str, ...] = ()               # the questions the keys went to, in order (skips followed)
    keys: int = 0                              # how many keys were typed (separators left out)
    missing: tuple[str, ...] = field(default_factory=tuple)  # shown questions no key reached


def fill(qn: Questionnaire, questions: list[Question], raw: str, known: dict[str, Any] | None = None) -> Filled:
    """Read a typed code string over `questions` (skip logic from `known` plus what is read)."""
    keys = [c for c in str(raw or "") if c not in SEPARATORS]
    answers: dict[str, Code] = {}
    context = dict(known or {})
    problems: list[KeyProblem] = []
    asked: list[str] = []
    pos = 0
    for q in questions:
        if not qn.is_shown(q, context):
            context.pop(q.id, None)
            continue
        if pos >= len(keys):
            break
        key = keys[pos]
        pos += 1
        asked.append(q.id)
        code = (key_map(qn, q) or {}).get(key)
        if code is None:
            problems.append(KeyProblem("not_option", pos, key, q.id))
            context.pop(q.id, None)
        else:
            answers[q.id] = code
            context[q.id] = code
    if pos < len(keys):  # one problem for the surplus, at its first key
        problems.append(KeyProblem("too_many", pos + 1, "".join(keys[pos:])))
    missing = tuple(q.id for q in questions if q.id not in asked and qn.is_shown(q, context))
    return Filled(answers, tuple(problems), tuple(asked), len(keys), missing)


def options_text(qn: Questionnaire, q: Question, lang: str = i18n.DEFAULT_LANG) -> str:
    """A question's keys with their labels, "5 满意、4 比较满意、…", for a message or a help text."""
    parts = []
    for key, code in (key_map(qn, q) or {}).items():
        opt = next(o for o in qn.options(q) if o.code == code)
        parts.append(f"{key} {opt.label_en if lang == 'en' and opt.label_en else opt.label}")
    return i18n.t("common.list_sep", lang).join(parts)


def message(qn: Questionnaire, problem: KeyProblem, n_questions: int, lang: str = i18n.DEFAULT_LANG) -> str:
    """A problem as the keyer reads it, naming the question and the key's position."""
    if problem.kind == "too_many":
        return i18n.t("interview.quick_too_many", lang, position=problem.position, digit=problem.key,
                      n=n_questions)
    q = qn.question(problem.qid or "")
    return i18n.t("interview.quick_bad", lang, position=problem.position, item=qn.label(q, lang),
                  digit=problem.key, options=options_text(qn, q, lang))
