"""Bulk import of the responses file (DESIGN.md format) into a wave, all or nothing.

Third-party firms run CATI in their own systems or key paper forms in Excel and hand
over a file. Every row is checked against the wave and its questionnaire before
anything is stored; a file with any problem stores nothing and lists every problem as
`row N, column C: value V — reason`.

Required in every row: response_id, unit, mode and the demographics (weighting needs
them). A blank satisfaction item or follow-up is kept as "no answer" (a paper form with
an unanswered question is data, not an error; analysis treats it like 9, not valid).
Screening columns are optional: a firm's completes are screened already; when present,
they are checked like any answer.

Row numbers are those the user sees in Excel or a text editor: the header is row 1, so
the first data row is row 2.

Idempotent: a row's submit key is `import:<wave>:<response_id>`, and a response id that
is already stored with the same content is skipped, so importing the same file again
stores nothing new; the same id with different content is a problem of that row.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from common.errors import Invalid as InputError
from common.io import read_table, source_name
from survey.auth import Account, require
from survey.bootstrap import questionnaire_for_wave
from survey.config import MODES
from survey.errors import ImportRejected, file_problem, row_problem
from survey.questionnaire import MAX_TEXT_CHARS, Question, Questionnaire
from survey.responses import build_record, content_hash
from survey.store import Store, now
from survey.waves import get_wave

FIRST_DATA_ROW = 2  # the header is row 1, as Excel numbers it
META_COLUMNS = ("response_id", "wave", "unit", "mode", "interviewer", "submitted_at", "duration_s")
OPTIONAL_META = ("firm", "case_id", "started_at")
REQUIRED_META = ("response_id", "unit", "mode")
BLANK_ALLOWED_ROLES = ("item", "followup")  # an unanswered question on a form: kept as missing
ID_COLUMNS = ("response_id", "interviewer", "case_id", "firm")
MAX_DURATION_S = 86_400  # a day: longer is a clock or file error, not an interview


def id_problem(value: str) -> tuple[str, str, dict[str, str]] | None:
    """Why an id cannot be stored: invisible characters (zero-width, bidi) or a formula start.

    `X1` and `X1` + a zero-width space look the same and would be two responses; an id
    starting with = + @ would run as a formula in a spreadsheet.
    """
    import unicodedata
    bad = sorted({f"U+{ord(ch):04X}" for ch in value if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")})
    if bad:
        return (f"holds invisible or control characters ({', '.join(bad)}); retype the id", "id_invisible",
                {"chars": ", ".join(bad)})
    if value.startswith(("=", "+", "@", "-")):
        return "starts with = + - or @ (read as a formula by spreadsheets); remove that character", "id_formula", {}
    return None


@dataclass(frozen=True)
class ImportResult:
    wave: str
    rows: int        # data rows in the file
    created: int     # responses stored by this import
    unchanged: int   # rows already stored with the same content (nothing new)
    file_sha256: str
    screened_out: int = 0  # ODK submissions of ineligible respondents: a screen-out, not a response


def _text(value: Any) -> str:
    """A cell as stripped text ('' for empty / NaN)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def _code(q: Question, qn: Questionnaire, raw: str) -> Any:
    """An answer cell as the questionnaire's code: `4`, `4.0` (Excel) → 4; text codes as text."""
    if q.type == "text":
        return raw
    codes = [o.code for o in qn.options(q)]
    if codes and all(isinstance(c, int) for c in codes):
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() else raw
    return raw


def _options_text(q: Question, qn: Questionnaire, sep: str = ", ") -> str:
    return sep.join(f"{o.code} {o.label}" if str(o.code) != o.label else str(o.code) for o in qn.options(q))


def _timestamp(raw: str) -> str | None:
    """ISO text (or Excel's `2025-10-08 09:00:00`) as ISO seconds; None when unreadable."""
    try:
        return dt.datetime.fromisoformat(raw.replace("/", "-")).isoformat(timespec="seconds")
    except ValueError:
        return None


def read_file(source: str | Path | IO[bytes], name: str | None = None) -> tuple[pd.DataFrame, bytes]:
    """The file as text cells (CSV UTF-8 or GBK/GB18030, or .xlsx) and its raw bytes."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ImportRejected([file_problem(str(path), "file not found", "file_not_found")])
        raw, name = path.read_bytes(), name or path.name
    else:
        raw = source.read()
        name = source_name(source, name)
    buffer = io.BytesIO(raw)
    buffer.name = name  # read_table picks CSV or Excel by the name's suffix
    try:
        frame = read_table(buffer, name, str)
    except InputError as err:
        raise ImportRejected(err.problems) from None
    except Exception as err:  # a corrupt .xlsx, an empty file: say so in one line
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ImportRejected([file_problem(name, f"cannot read the file: {detail}", "unreadable", detail=detail)]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, raw


def check_rows(store: Store, wave: dict[str, Any], qn: Questionnaire, frame: pd.DataFrame, name: str,
               row_numbers: list[int] | None = None) -> tuple[list[dict[str, Any]], int, list[str]]:
    """Validate every row; returns (records to store, rows already stored identically, problems).

    `row_numbers` names each frame row as the user's file numbers it (when rows were left
    out before the check, e.g. ODK screen-outs); by default the frame's rows from row 2.
    """
    columns = set(frame.columns)
    problems: list[str] = []
    questions = [q for q in qn.questions if q.role != "screening" or q.id in columns]
    for col in REQUIRED_META:
        if col not in columns:
            problems.append(file_problem(name, f"column `{col}` is missing (responses format: "
                                         f"{', '.join(META_COLUMNS)}, sex, age_group, education, item codes…)",
                                         "column_missing", col, columns=", ".join(META_COLUMNS)))
    for q in questions:
        if q.id not in columns and q.required and q.show_if is None:
            problems.append(file_problem(name, f"column `{q.id}` is missing ({qn.label(q)})", "question_column_missing",
                                         q.id, label=qn.label(q)))
    if problems:
        return [], 0, problems
    if frame.empty:
        return [], 0, [file_problem(name, "no data rows below the header", "no_rows")]

    firms = {a["username"]: a["firm"] for a in store.accounts()}
    stored = store.responses_by_ids(_text(v) for v in frame["response_id"])
    seen: dict[str, int] = {}
    records: list[dict[str, Any]] = []
    unchanged = 0
    cells = frame.to_dict("records")
    for i, cell in enumerate(cells):
        row = row_numbers[i] if row_numbers is not None else i + FIRST_DATA_ROW
        text = {c: _text(v) for c, v in cell.items()}
        found: list[str] = [row_problem(row, col, text[col], bad[0], bad[1], **bad[2]) for col in ID_COLUMNS
                            if text.get(col) and (bad := id_problem(text[col]))]
        rid = text["response_id"]
        if not rid:
            found.append(row_problem(row, "response_id", "", "required", "required"))
        elif rid in seen:
            found.append(row_problem(row, "response_id", rid, f"duplicate of row {seen[rid]} in this file",
                                     "duplicate_row", first=seen[rid]))
        else:
            seen[rid] = row
        if text.get("wave") and text["wave"] != wave["id"]:
            found.append(row_problem(row, "wave", text["wave"], f"file is imported into wave {wave['id']}",
                                     "other_wave", wave=wave["id"]))
        if not text["unit"]:
            found.append(row_problem(row, "unit", "", "required", "required"))
        elif text["unit"] not in wave["units"]:
            found.append(row_problem(row, "unit", text["unit"],
                                     f"not a unit of wave {wave['id']} ({', '.join(wave['units'])})", "unknown_unit",
                                     wave=wave["id"], units="、".join(wave["units"])))
        if not text["mode"]:
            found.append(row_problem(row, "mode", "", "required", "required"))
        elif text["mode"] not in MODES:
            found.append(row_problem(row, "mode", text["mode"], f"not a mode ({', '.join(MODES)})", "unknown_mode",
                                     modes=", ".join(MODES)))
        duration = None
        if text.get("duration_s"):
            try:
                duration = float(text["duration_s"])
            except ValueError:
                found.append(row_problem(row, "duration_s", text["duration_s"], "not a number of seconds",
                                         "not_seconds"))
            else:
                if not (0 <= duration <= MAX_DURATION_S):  # also nan and inf (inf crashed the .dta export)
                    found.append(row_problem(row, "duration_s", text["duration_s"],
                                             f"must be 0 or more seconds, at most {MAX_DURATION_S:,} (a day)",
                                             "seconds_range", most=f"{MAX_DURATION_S:,}"))
                    duration = None
        stamps: dict[str, str | None] = {}
        for col in ("submitted_at", "started_at"):
            if text.get(col):
                stamps[col] = _timestamp(text[col])
                if stamps[col] is None:
                    found.append(row_problem(row, col, text[col], "not a date-time such as 2025-10-08T09:30:00",
                                             "not_datetime"))
        answers = {q.id: _code(q, qn, text[q.id]) for q in questions if text.get(q.id)}
        for p in qn.check_answers(answers):
            qid, reason = p.split(": ", 1)
            if qid == "screening":
                if not any(q.role == "screening" for q in questions):
                    continue  # screening not in the file: a firm's completes are screened already
                found.append(row_problem(row, ", ".join(q.id for q in qn.by_role("screening")),
                                         "", "respondent not eligible", "not_eligible"))
                continue
            if qid not in {q.id for q in questions}:
                continue  # screening not in the file: a firm's completes are screened already
            q = qn.question(qid)
            if reason == "required" and q.role in BLANK_ALLOWED_ROLES:
                continue
            code, params = "invalid_answer", {"label": qn.label(q)}
            if reason.startswith("code"):
                reason = f"not an option of {qid} ({_options_text(q, qn)})"
                code, params = "not_an_option", {"label": qn.label(q), "options": _options_text(q, qn, "、")}
            elif reason == "required" and qid not in columns:
                reason = f"required, but the file has no column {qid}"
                code = "required_no_column"
            elif reason == "required":
                code = "required_answer"
            elif "skipped by show_if" in reason:
                code = "skipped_answer"
            elif "characters" in reason:
                code, params = "text_too_long", {"label": qn.label(q), "most": MAX_TEXT_CHARS}
            found.append(row_problem(row, qid, text.get(qid, ""), reason, code, **params))
        if found:
            problems += found
            continue
        key = f"import:{wave['id']}:{rid}"
        before = stored.get(rid)
        if before is not None:
            # content = unit, mode, interviewer and the answers of the file's columns (a file
            # exported from this store lacks the screening answers, which are not data)
            stored_answers = {k: v for k, v in before["answers"].items() if k in columns}
            same = (before["wave"] == wave["id"] and before["unit"] == text["unit"] and before["mode"] == text["mode"]
                    and (before["interviewer"] or "") == text.get("interviewer", "")
                    and content_hash(stored_answers) == content_hash(answers))
            if same:
                unchanged += 1
            else:
                problems.append(row_problem(row, "response_id", rid,
                                            f"already stored (wave {before['wave']}, {before['source']}, "
                                            f"{before['created_at']}) with different content", "stored_differently",
                                            wave=before["wave"], source=before["source"],
                                            at=str(before["created_at"]).replace("T", " ")[:16]))
            continue
        interviewer = text.get("interviewer") or None
        records.append(build_record(
            qn, wave, unit=text["unit"], mode=text["mode"], answers=answers, submit_key=key, source="import",
            interviewer=interviewer, firm=text.get("firm") or firms.get(interviewer or ""),
            started_at=stamps.get("started_at"), submitted_at=stamps.get("submitted_at") or now(),
            duration_s=duration, case_id=text.get("case_id") or None, response_id=rid, check=False,
            paradata={"import_file": name}))
    return records, unchanged, problems


def import_responses(store: Store, actor: Account, wave: str, source: str | Path | IO[bytes],
                     name: str | None = None) -> ImportResult:
    """Validate a responses file against the wave and store its new rows in one transaction.

    Raises ImportRejected (first 100 problems and a count) and stores nothing when any
    row has a problem.
    """
    require(actor, "responses.import")
    w = get_wave(store, wave)
    frame, raw = read_file(source, name)
    name = source_name(source, name)
    qn = questionnaire_for_wave(store, wave)
    records, unchanged, problems = check_rows(store, w, qn, frame, name)
    if problems:
        raise ImportRejected(problems)
    digest = hashlib.sha256(raw).hexdigest()
    out = store.import_responses(records, actor.username, wave,
                                 {"file": name, "sha256": digest, "rows": len(frame)}) if records else []
    created = sum(new for _, new in out)
    return ImportResult(wave, len(frame), created, unchanged + len(out) - created, digest)
