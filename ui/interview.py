"""One interview screen for pollsters, shared by the phone (CATI) and door-to-door pages.

Questions, numbered options and quick entry, a draft saved at every step (so a closed
tab or a new login resumes the interview where it was), the duration from the draft's
start, and one idempotent submit. Pages choose the wave, unit or case and add their own
record (e.g. the household at the door); everything else lives here, once.
"""
from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from survey import drafts
from survey.auth import Account, PermissionDenied
from survey.bootstrap import questionnaire_for_wave
from survey.quotas import QuotaStatus, cell_name, quota_progress
from survey.questionnaire import Questionnaire
from survey.responses import SubmitError, Submitted
from common.errors import Rejected
from ui import forms, session
from ui.plain import md_escape
from ui.session import t

if TYPE_CHECKING:  # the type only: pages and ui/ reach the store through survey's services
    from survey.store import Store


@dataclass(frozen=True)
class Record:
    """An extra record asked before the questions and kept in the response's paradata.

    `render(form)` draws its widgets (keys from `record_key`); `read(form)` returns
    (values, problems) from those keys' state, also while another section is shown.
    """
    name: str
    heading_key: str
    render: Callable[[str], None]
    read: Callable[[str], tuple[dict[str, Any], list[str]]]


@dataclass(frozen=True)
class Setup:
    form: str                      # "phone" / "door": the draft's form and the widgets' key prefix
    mode: str
    wave: str
    unit: str
    case_id: str | None = None
    record: Record | None = None


# One section on screen at a time (name, heading, question roles), so a call needs no long scroll;
# a section without questions in the wave's questionnaire is left out (screening always stays).
SECTIONS = (("screening", "interview.screening", ("screening",)),
            ("items", "interview.items", ("item",)),
            ("units", "interview.units", forms.UNIT_ROLES),
            ("followups", "interview.followups", ("followup",)),
            ("demographics", "interview.demographics", ("demographic",)))
NUMBERED_SECTIONS = ("items", "units", "followups")
MISSING_NAMED = 3  # a failed submit names this many unanswered questions, then counts the rest
# session keys of one interview on a form, forgotten together by `reset`
_STATE = ("draft", "key", "result", "saved", "saved_at", "loaded", "resumed", "quick", "quick_msg", "step",
          "focus", "missing", "submit_error", "shown", "evidence", "evidence_problems", "scrolls")


def record_key(form: str, name: str) -> str:
    return f"{form}_rec_{name}"


def _k(form: str, name: str) -> str:
    return f"{form}_{name}"


def sections(qn: Questionnaire) -> list[tuple[str, str, list[Any]]]:
    """(name, heading key, questions) of each section of this questionnaire, in interview order."""
    out = []
    for name, heading, roles in SECTIONS:
        questions = [q for q in qn.questions if q.role in roles]
        if questions or name == "screening":
            out.append((name, heading, questions))
    return out


def _value(form: str, qid: str) -> Any:
    value = st.session_state.get(forms.widget_key(qid, form))
    return None if value == "" else value


def answers_of(qn: Questionnaire, form: str) -> dict[str, Any]:
    """Every answer given so far on `form`, shown section or not (skip logic applied in order)."""
    answers: dict[str, Any] = {}
    for _, _, questions in sections(qn):
        for q in questions:
            if qn.is_shown(q, answers):
                answers[q.id] = _value(form, q.id)
    return answers


def _section_of(qn: Questionnaire, qid: str) -> str:
    return next((name for name, _, questions in sections(qn) if any(q.id == qid for q in questions)), "screening")


def _first_missing(qn: Questionnaire, answers: dict[str, Any]) -> list[str]:
    """Ids of the required questions still unanswered, in interview order."""
    return [p.split(":", 1)[0] for p in qn.check_answers(answers) if p.endswith("required")]


def _hold(form: str) -> None:
    """Keep the answers of the sections not on screen: Streamlit drops the state of a widget that
    a run does not draw, unless the key is set again (before any widget of the run)."""
    prefixes = (f"{forms.KEY_PREFIX}{form}_", record_key(form, ""))
    for key in [k for k in st.session_state if str(k).startswith(prefixes)]:
        st.session_state[key] = st.session_state[key]


def reset(form: str) -> None:
    """Forget this session's interview on `form` (answers, draft, result): the next run starts afresh."""
    forms.clear(form)
    prefix = record_key(form, "")
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]
    for name in _STATE:
        st.session_state.pop(_k(form, name), None)


def resume(store: Store, account: Account, form: str, case_id: str | None = None,
           waves: list[str] | None = None) -> dict[str, Any] | None:
    """Load the draft this account left open on `form` (and case) into the widgets, once per session.

    Call before the page draws its wave and unit selectors (`<form>_wave`, `<form>_unit`):
    their values come from the draft too. The interview reopens on the first section with an
    unanswered question.
    """
    context = case_id or ""
    if st.session_state.get(_k(form, "loaded")) == context:
        return st.session_state.get(_k(form, "draft"))
    reset(form)
    st.session_state[_k(form, "loaded")] = context
    draft = drafts.open_draft(store, account, form, case_id)
    if draft is None or (waves is not None and draft["wave"] not in waves):
        return None
    if _k(form, "wave") not in st.session_state:  # the page may have drawn its wave selector already
        st.session_state[_k(form, "wave")] = draft["wave"]
    st.session_state[_k(form, "unit")] = draft["unit"]
    for qid, value in draft["answers"].items():
        st.session_state[forms.widget_key(qid, form)] = value
    for record in draft["paradata"].values():
        if isinstance(record, dict):
            for name, value in record.items():
                st.session_state[record_key(form, name)] = value
    st.session_state[_k(form, "draft")] = draft
    st.session_state[_k(form, "resumed")] = draft["started_at"]
    qn = questionnaire_for_wave(store, draft["wave"])
    missing = _first_missing(qn, answers_of(qn, form))
    names = [name for name, _, _ in sections(qn)]
    st.session_state[_k(form, "step")] = _section_of(qn, missing[0]) if missing else names[-1]
    return draft


def _elapsed(started_at: str) -> int:
    return max(int((dt.datetime.now() - dt.datetime.fromisoformat(started_at)).total_seconds()), 0)


def _clock(form: str, draft: dict[str, Any]) -> None:
    """The interview's running time, counted in the browser (no rerun per second; answers untouched).

    The server gives the seconds so far at each run, so the pollster's own clock does not matter.
    """
    started = draft["started_at"].replace("T", " ")[11:16]
    text = html.escape(t("interview.elapsed", started=started, elapsed="%E%"))
    seconds = _elapsed(draft["started_at"])
    node = f"clock-{form}-{draft['draft_id']}"
    st.html(f"""<div id="{node}" style="font-size:0.875rem;color:rgba(49,51,63,0.6)"></div>
<script>(function(){{
  const el = document.getElementById("{node}"); if (!el) return;
  const text = {json.dumps(text, ensure_ascii=False)}, base = Date.now() - {seconds} * 1000;
  const draw = () => {{ const s = Math.max(0, Math.floor((Date.now() - base) / 1000));
    el.textContent = text.replace("%E%", Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0")); }};
  draw(); window.__surveyClock && clearInterval(window.__surveyClock);
  window.__surveyClock = setInterval(draw, 1000);
}})();</script>""", unsafe_allow_javascript=True)


def _focus_key(form: str) -> str:
    return _k(form, "focus_box")


def _scroll_to(form: str) -> None:
    """Bring the highlighted question into view (once per failed submit)."""
    n = st.session_state.get(_k(form, "scrolls"), 0)
    st.html(f"""<script>/* {n} */ setTimeout(function(){{
  const el = document.querySelector(".st-key-{_focus_key(form)}");
  el && el.scrollIntoView({{behavior: "smooth", block: "center"}}); }}, 150);</script>""",
            unsafe_allow_javascript=True)


def _go(form: str, name: str | None) -> None:
    st.session_state[_k(form, "step")] = name


def _picked(form: str, current: str) -> None:
    """on_change of the section selector: a click on the shown section keeps it (no empty choice)."""
    if st.session_state.get(_k(form, "step")) is None:
        st.session_state[_k(form, "step")] = current


def _check_submit(qn: Questionnaire, setup: Setup, last: str) -> bool:
    """Is the interview complete? If not, name the missing answer, show its section and mark it."""
    form = setup.form
    answers = answers_of(qn, form)
    missing = _first_missing(qn, answers)
    record_problems = setup.record.read(form)[1] if setup.record else []
    evidence_problems = st.session_state.get(_k(form, "evidence_problems"), [])
    if not (missing or record_problems or evidence_problems):
        return True
    shown = missing[:MISSING_NAMED]  # the first few by name: the marked one comes first
    names = [forms.missing_fields(qn, [f"{q}: required" for q in shown])] if missing else []
    if len(missing) > len(shown):
        names = [t("interview.missing_more", first=names[0], n=len(missing))]
    if missing:
        target = _section_of(qn, missing[0])
        st.session_state[_k(form, "focus")] = missing[0]
        st.session_state[_k(form, "scrolls")] = st.session_state.get(_k(form, "scrolls"), 0) + 1
    else:
        target = "screening" if record_problems else last
        st.session_state.pop(_k(form, "focus"), None)
    heading = next(h for name, h, _ in sections(qn) if name == target)
    st.session_state[_k(form, "step")] = target
    st.session_state[_k(form, "missing")] = t("interview.missing_jump", section=t(heading),
                                              fields="、".join(names + record_problems + evidence_problems))
    return False


def _submit(store: Store, account: Account, setup: Setup, qn: Questionnaire, last: str, draft: dict[str, Any],
            paradata: dict[str, Any], on_submitted: Callable[[Submitted, dict[str, Any]], None] | None) -> None:
    """on_click of 提交问卷: check, store and keep the result, all before the next run starts.

    Inside the callback nothing can interrupt between the stored response and the result kept in
    the session: a rerun that a component or another widget asks for meanwhile (the browser's
    position arriving, say) stops a script run at its next element, and a submit done in the run
    itself was then stored without its 问卷已保存 ever showing."""
    form = setup.form
    if not _check_submit(qn, setup, last):
        return
    try:
        done = drafts.submit_draft(store, account, draft["draft_id"], answers=answers_of(qn, form), unit=setup.unit,
                                   paradata=paradata)
        if on_submitted:
            on_submitted(done, draft)
    except (SubmitError, PermissionDenied, Rejected) as err:
        st.session_state[_k(form, "submit_error")] = t("common.error", detail=md_escape(err))
        return
    st.session_state[_k(form, "result")] = (done.response_id, done.created)


def _ask(qn: Questionnaire, questions: list[Any], setup: Setup, answers: dict[str, Any], numbered: bool) -> None:
    """The questions of one section; the question a failed submit pointed at is framed and marked."""
    form = setup.form
    focus = st.session_state.get(_k(form, "focus"))
    for q in questions:
        if not qn.is_shown(q, answers):
            answers.pop(q.id, None)
            continue
        number = numbered and forms.numeric_codes(qn, q)
        if q.id == focus and answers.get(q.id) is None:
            with st.container(border=True, key=_focus_key(form)):
                st.error(t("interview.missing_here", field=md_escape(qn.label(q, session.lang()))))
                answers[q.id] = forms.ask(qn, q, setup.mode, form, numbered=number)
            _scroll_to(form)
        else:
            answers[q.id] = forms.ask(qn, q, setup.mode, form, numbered=number)
    if focus is not None and answers.get(focus) is not None:
        st.session_state.pop(_k(form, "focus"), None)


def run(store: Store, account: Account, setup: Setup, *,
        on_submitted: Callable[[Submitted, dict[str, Any]], None] | None = None,
        on_ineligible: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
        quota: Callable[[dict[str, Any]], QuotaStatus] | None = None,
        on_quota_full: Callable[[dict[str, Any]], None] | None = None,
        new_label: str | None = None, on_new: Callable[[], None] | None = None,
        evidence: Callable[[dict[str, Any]], tuple[dict[str, Any], list[str]]] | None = None) -> str:
    """Draw the interview one section at a time; returns "done", "ineligible", "quota_full" or "open".

    `on_submitted(done, draft)` runs after every submit (also a repeated one), e.g. to record the
    call attempt of a case; `on_ineligible(draft, answers)` when the pollster ends an ineligible
    interview (the draft is abandoned either way). `quota(answers)` is asked at every step (so after
    screening, and when sex and age are known): a full cell warns, or with the wave's action "stop"
    ends the interview (`on_quota_full(draft)`). `on_new` runs when the pollster moves on.
    `evidence(answers)` draws a block on the last section, just before the submit (door evidence:
    position, photo, recording) and returns (values kept in paradata under `evidence`, problems
    that block the submit). The draft is saved at every step; 已保存 shows when.
    """
    form = setup.form
    _hold(form)

    def move_on() -> None:
        reset(form)
        if on_new:
            on_new()

    result = st.session_state.get(_k(form, "result"))
    if result:
        st.success(t("interview.submitted" if result[1] else "interview.already", response_id=result[0]))
        st.button(new_label or t("interview.new"), on_click=move_on, type="primary", key=_k(form, "new"))
        return "done"

    draft = st.session_state.get(_k(form, "draft"))
    if draft is None or (draft.get("case_id") or "") != (setup.case_id or ""):
        draft = drafts.start_draft(store, account, form, wave=setup.wave, unit=setup.unit, mode=setup.mode,
                                   case_id=setup.case_id)
        st.session_state[_k(form, "draft")] = draft
    st.session_state[_k(form, "key")] = draft["submit_key"]
    qn = questionnaire_for_wave(store, setup.wave)
    parts = sections(qn)
    names = [name for name, _, _ in parts]
    headings = {name: t(heading) for name, heading, _ in parts}
    if st.session_state.get(_k(form, "step")) not in names:
        st.session_state[_k(form, "step")] = names[0]
    step = st.session_state[_k(form, "step")]
    at = names.index(step)

    resumed = st.session_state.get(_k(form, "resumed"))
    if resumed:
        st.info(t("interview.resumed", started=resumed.replace("T", " ")))
    c_clock, c_saved = st.columns([3, 1])
    with c_clock:
        _clock(form, draft)
    saved_slot = c_saved.empty()
    st.segmented_control(t("interview.section_pick"), names, key=_k(form, "step"), label_visibility="collapsed",
                         format_func=lambda n: f"{names.index(n) + 1} {headings[n]}",
                         on_change=_picked, args=(form, step))
    if st.session_state.get(_k(form, "shown")) not in (None, step):  # a new section opens at its top
        st.html(f"""<script>/* {step} */ setTimeout(function(){{
  const el = document.querySelector(".st-key-{_k(form, 'step')}");
  el && el.getBoundingClientRect().top < 0 && el.scrollIntoView({{block: "start"}}); }}, 100);</script>""",
                unsafe_allow_javascript=True)
    st.session_state[_k(form, "shown")] = step
    missing_note = st.session_state.pop(_k(form, "missing"), None)
    if missing_note:
        st.error(missing_note)

    answers = answers_of(qn, form)
    paradata: dict[str, Any] = {}
    record_problems: list[str] = []
    questions = parts[at][2]
    if step == "screening":
        if at == 0 and not resumed:
            with st.expander(t("interview.intro_heading"), expanded=True):
                st.text(qn.intro_en if session.lang() == "en" and qn.intro_en else qn.intro)
        if setup.record:
            st.subheader(t(setup.record.heading_key))
            setup.record.render(form)
    elif step == "items":
        forms.quick_entry_field(qn, form, ("item",))
        if setup.mode == "phone":
            st.caption(t("interview.dk_hint"))
    _ask(qn, questions, setup, answers, numbered=step in NUMBERED_SECTIONS)
    if setup.record:
        record_values, record_problems = setup.record.read(form)
        paradata[setup.record.name] = record_values

    def show_saved() -> None:
        when = st.session_state.get(_k(form, "saved_at"))
        if when:
            saved_slot.caption(t("interview.saved", at=when))

    screened = [q.id for q in qn.by_role("screening")]
    if all(answers.get(q) is not None for q in screened) and not qn.is_eligible(answers):
        st.warning(t("interview.not_eligible"))
        _save(store, account, setup, draft, answers, paradata)
        show_saved()

        def end_ineligible() -> None:
            drafts.abandon_draft(store, account, draft["draft_id"], "not eligible")
            if on_ineligible:
                on_ineligible(draft, answers)
            move_on()

        st.button(new_label or t("interview.new"), on_click=end_ineligible, key=_k(form, "end_ineligible"))
        return "ineligible"

    last = at == len(names) - 1
    if evidence is not None:
        if last:
            values, problems = evidence(answers)
            st.session_state[_k(form, "evidence")] = values
            st.session_state[_k(form, "evidence_problems")] = problems
        if st.session_state.get(_k(form, "evidence")):
            paradata["evidence"] = st.session_state[_k(form, "evidence")]
    _save(store, account, setup, draft, answers, paradata)
    show_saved()

    if quota is not None:
        status = quota(answers)
        if status.full and not status.stop:
            st.warning(status.message)
        elif status.full:
            st.error(status.message)

            def end_quota() -> None:
                drafts.abandon_draft(store, account, draft["draft_id"], "quota full")
                if on_quota_full:
                    on_quota_full(draft)
                move_on()

            st.button(t("interview.end_quota"), on_click=end_quota, type="primary", key=_k(form, "end_quota"))
            return "quota_full"

    c_prev, c_next, c_where = st.columns([1, 1, 2], vertical_alignment="center")
    c_prev.button(t("interview.prev_section"), key=_k(form, "prev"), disabled=at == 0,
                  on_click=_go, args=(form, names[max(at - 1, 0)]), use_container_width=True)
    c_where.caption(t("interview.section_of", n=at + 1, total=len(names)))
    if not last:
        c_next.button(t("interview.next_section"), key=_k(form, "next"), type="primary",
                      on_click=_go, args=(form, names[at + 1]), use_container_width=True)
        return "open"
    c_next.button(t("interview.submit"), type="primary", key=_k(form, "submit"), use_container_width=True,
                  on_click=_submit, args=(store, account, setup, qn, names[-1], draft, paradata, on_submitted))
    failed = st.session_state.pop(_k(form, "submit_error"), None)
    if failed:
        st.error(failed)
    return "open"


def _save(store: Store, account: Account, setup: Setup, draft: dict[str, Any], answers: dict[str, Any],
          paradata: dict[str, Any]) -> None:
    """Save the draft when anything changed since the last save of this session (one write per step)."""
    fingerprint = json.dumps([setup.wave, setup.unit, answers, paradata], ensure_ascii=False, sort_keys=True,
                             default=str)
    if st.session_state.get(_k(setup.form, "saved")) == fingerprint:
        return
    drafts.save_draft(store, account, draft["draft_id"], wave=setup.wave, unit=setup.unit,
                      answers=answers, paradata=paradata)
    st.session_state[_k(setup.form, "saved")] = fingerprint
    st.session_state[_k(setup.form, "saved_at")] = dt.datetime.now().strftime("%H:%M:%S")


def quota_table(store: Store, wave: str) -> None:
    """The wave's quota cells with completes so far (nothing when the wave sets no quotas)."""
    progress = quota_progress(store, wave)
    if progress.empty:
        return
    st.subheader(t("interview.quota_heading"))
    shown = pd.DataFrame({
        t("common.unit"): progress["unit"],
        t("interview.quota_cell"): [cell_name(cell, session.lang()) or t("interview.quota_all")
                                    for cell in progress.to_dict("records")],
        t("interview.quota_done"): [f"{n}/{target}" for n, target in zip(progress["n"], progress["target"])],
        t("interview.quota_share"): progress["share"] * 100})
    st.dataframe(shown, hide_index=True, use_container_width=True,
                 column_config={t("interview.quota_share"): st.column_config.ProgressColumn(
                     format="%.0f%%", min_value=0, max_value=100, width="small")})
