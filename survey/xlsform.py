"""A wave's questionnaire as an XLSForm, for offline door interviews in ODK Collect / KoboCollect.

Where phones have no signal, firms interview with ODK Collect and send the submissions to
ODK Central later; `survey.odk` imports Central's CSV export back into the wave. The form
is built from the same questionnaire the app shows, so the two cannot drift:

- every question keeps its id as the XLSForm `name`, and every option its code as the
  choice `name` (5…1, 9; 男/女; 18-29 …), so an exported submission reads as a
  responses-file row;
- `show_if` becomes `relevant` (`selected(${overall}, '1') or …`);
- the screening questions come first; an ineligible respondent sees a note to end the
  interview and nothing else (the group `grp` holding the questionnaire is relevant only
  when every screening answer is eligible). Its submission records the screen-out;
- the metadata ODK records itself: `start`, `end`, `deviceid`, and a `gps` geopoint
  (not required: a fix can fail indoors);
- `unit` (the district, a choice of the wave's units) and `interviewer` (the pollster's
  account) are asked first, and `wave` is a constant the import checks.

The workbook is converted with pyxform before it is written, so a form that ODK would
refuse is never handed out.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from common.errors import Invalid
from survey.auth import Account, require
from survey.bootstrap import questionnaire_for_wave
from survey.i18n import t
from survey.outputs import atomic_output
from survey.questionnaire import MAX_TEXT_CHARS, Question, Questionnaire
from survey.store import Store
from survey.waves import get_wave

GROUP = "grp"            # the questionnaire's group: Central exports its columns as `grp-<id>`
UNITS_LIST = "units"
META_FIELDS = ("start", "end", "deviceid")
SURVEY_COLUMNS = ("type", "name", "label", "hint", "relevant", "required", "constraint", "constraint_message",
                  "calculation", "appearance")


@dataclass(frozen=True)
class XlsForm:
    """The three sheets of an XLSForm as rows (dicts keyed by column)."""
    survey: list[dict[str, str]]
    choices: list[dict[str, str]]
    settings: dict[str, str]

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        """The form as pyxform's dict input (its `convert` takes it directly)."""
        return {"survey": self.survey, "choices": self.choices, "settings": [self.settings]}


def _list_name(qn: Questionnaire, q: Question) -> str:
    return q.scale if q.options is None and q.scale else f"q_{q.id}"


def _code(value: Any) -> str:
    return str(value)


def _selected(qid: str, codes: list[Any]) -> str:
    parts = [f"selected(${{{qid}}}, '{_code(c)}')" for c in codes]
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def form_id(wave: str) -> str:
    """An XML-safe form id for the wave (`survey_2025`; other characters become `_`)."""
    return "survey_" + re.sub(r"[^A-Za-z0-9_.-]", "_", wave)


def build_form(qn: Questionnaire, wave: dict[str, Any]) -> XlsForm:
    """The XLSForm of a wave: metadata, district and pollster, screening, then the questionnaire group."""
    survey: list[dict[str, str]] = [{"type": m, "name": m} for m in META_FIELDS]
    survey.append({"type": "calculate", "name": "wave", "calculation": f"'{wave['id']}'"})
    survey.append({"type": f"select_one {UNITS_LIST}", "name": "unit", "label": t("odk.form.unit"),
                   "required": "yes"})
    survey.append({"type": "text", "name": "interviewer", "label": t("odk.form.interviewer"), "required": "yes"})
    survey.append({"type": "geopoint", "name": "gps", "label": t("odk.form.gps"), "hint": t("odk.form.gps_hint")})
    choices: list[dict[str, str]] = [{"list_name": UNITS_LIST, "name": u, "label": u} for u in wave["units"]]
    lists_done: set[str] = set()

    def add_choices(q: Question) -> str:
        name = _list_name(qn, q)
        if name not in lists_done:
            lists_done.add(name)
            for o in qn.options(q):
                label = o.label if (o.shown_in("door")) else f"{o.label}（不读出）"
                choices.append({"list_name": name, "name": _code(o.code), "label": label})
        return name

    def row(q: Question) -> dict[str, str]:
        out = {"name": q.id, "label": qn.text(q)}
        if q.type == "text":
            out["type"] = "text"
            out["constraint"] = f"string-length(.) <= {MAX_TEXT_CHARS}"
            out["constraint_message"] = t("odk.form.too_long", n=MAX_TEXT_CHARS)
        else:
            out["type"] = f"select_one {add_choices(q)}"
        if q.required:
            out["required"] = "yes"
        if q.show_if is not None:
            out["relevant"] = _selected(q.show_if.question, q.show_if.in_)
        return out

    screening = qn.by_role("screening")
    survey += [row(q) for q in screening]
    eligible = " and ".join(_selected(q.id, q.eligible or []) for q in screening) or "true()"
    if screening:
        survey.append({"type": "note", "name": "not_eligible", "label": t("odk.form.not_eligible"),
                       "relevant": f"not({eligible})"})
    survey.append({"type": "begin group", "name": GROUP, "label": qn.title, "relevant": eligible})
    survey += [row(q) for q in qn.questions if q.role != "screening"]
    survey.append({"type": "end group", "name": GROUP})
    settings = {"form_title": f"{qn.title}（{wave['id']}）", "form_id": form_id(wave["id"]),
                "version": f"{qn.id}-v{qn.version}", "instance_name": "concat(${unit}, '-', ${interviewer})"}
    return XlsForm(survey, choices, settings)


def workbook_bytes(form: XlsForm) -> bytes:
    """The form as an .xlsx file: sheets survey, choices, settings (the XLSForm layout)."""
    wb = Workbook()
    sheets = [("survey", list(SURVEY_COLUMNS), form.survey),
              ("choices", ["list_name", "name", "label"], form.choices),
              ("settings", list(form.settings), [form.settings])]
    for i, (title, columns, rows) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = title
        ws.append(columns)
        for r in rows:
            ws.append([r.get(c, "") for c in columns])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def convert(data: bytes) -> str:
    """The XForm XML pyxform makes of an XLSForm file (Invalid with its message when it refuses)."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert as xls2xform
    try:
        return xls2xform(io.BytesIO(data), file_type=".xlsx").xform
    except PyXFormError as err:
        raise Invalid([t("odk.form.refused", detail=str(err).splitlines()[0])], code="xlsform_refused") from None


def xlsform_bytes(store: Store, actor: Account, wave: str) -> bytes:
    """The wave's XLSForm as .xlsx bytes, converted by pyxform first (Invalid when it refuses)."""
    require(actor, "export.responses")
    w = get_wave(store, wave)
    data = workbook_bytes(build_form(questionnaire_for_wave(store, wave), w))
    convert(data)  # a form pyxform refuses is never handed out
    return data


def export_xlsform(store: Store, actor: Account, wave: str, out: str | Path) -> Path:
    """Write the wave's XLSForm to `out` after pyxform converted it; returns the path."""
    data = xlsform_bytes(store, actor, wave)
    with atomic_output(out) as tmp:
        tmp.write_bytes(data)
    return Path(out)
