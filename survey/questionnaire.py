"""Questionnaire model: load and validate a YAML spec, evaluate skip logic.

A questionnaire is versioned by its `id` (file name); a wave pins one id and every
response stores the id it answered, so a questionnaire in use is never edited in place
(the store refuses to register a changed file under an id it already holds).
Validation collects every problem and names file, question and field, because the
people who edit these files are survey managers, not programmers.
"""
from __future__ import annotations

from common.errors import Invalid

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from survey.config import QUESTIONNAIRE_DIR

SATISFACTION_CODES = (5, 4, 3, 2, 1, 9)
VALID_CODES = (1, 2, 3, 4, 5)
DONT_KNOW = 9
ITEM_IDS = ("air", "water", "sea", "noise", "waste", "greenery", "rural",
            "enforcement", "publicity", "overall")
DEMOGRAPHIC_IDS = ("sex", "age_group", "education")
REQUIRED_IDS = (*ITEM_IDS, "change", *DEMOGRAPHIC_IDS)
KINDS = ("district", "appraisal")
UNIT_TYPES = ("department", "provincial", "soe")  # analysis.appraisal.UNIT_TYPES
AWARE_SCALE = [{"code": 1, "label": "了解/接触过", "label_en": "Know it / had contact"},
               {"code": 2, "label": "不了解", "label_en": "Do not know it"}]

Code = int | str


class QuestionnaireError(Invalid):
    """All problems found in one questionnaire file, one line each."""

    pass


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    label: str
    label_en: str | None = None
    read_aloud: dict[str, bool] = Field(default_factory=dict)

    def shown_in(self, mode: str) -> bool:
        """Whether the option is read out / shown in `mode` (e.g. 不了解 is not read on the phone)."""
        return self.read_aloud.get(mode, True)


class ShowIf(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    question: str
    in_: list[Code] = Field(alias="in")


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    role: Literal["screening", "item", "followup", "demographic", "awareness", "rating", "dimension"]
    type: Literal["single", "text"] = "single"
    text: str
    text_en: str | None = None
    label: str | None = None
    label_en: str | None = None
    scale: str | None = None
    options: list[Option] | None = None
    eligible: list[Code] | None = None
    required: bool = True
    show_if: ShowIf | None = None


class RatedUnitSpec(BaseModel):
    """A unit an appraisal wave rates (部门评议): its id names the response columns."""
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str = Field(min_length=1, max_length=100)
    type: Literal["department", "provincial", "soe"]


class Dimension(BaseModel):
    """An optional per-unit dimension item of an appraisal (e.g. 履职成效, 信息公开)."""
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,19}$")
    label: str = Field(min_length=1, max_length=40)


class Questionnaire(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    version: int
    kind: Literal["district", "appraisal"] = "district"
    example: bool = False
    rated_units: list[RatedUnitSpec] = Field(default_factory=list)
    unit_dimensions: list[Dimension] = Field(default_factory=list, max_length=2)
    title: str
    title_en: str | None = None
    intro: str
    intro_en: str | None = None
    scales: dict[str, list[Option]] = Field(default_factory=dict)
    questions: list[Question]

    # -- lookups -------------------------------------------------------------------
    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    def options(self, q: Question) -> list[Option]:
        """The answer options of a question, resolved from its scale if it names one."""
        if q.options is not None:
            return q.options
        return self.scales.get(q.scale or "", [])

    def by_role(self, role: str) -> list[Question]:
        return [q for q in self.questions if q.role == role]

    @property
    def item_ids(self) -> list[str]:
        return [q.id for q in self.by_role("item")]

    @property
    def rating_ids(self) -> list[str]:
        """Satisfaction columns of the rated units (appraisal waves), in questionnaire order."""
        return [q.id for q in self.by_role("rating")]

    def appraisal_columns(self) -> list[str]:
        """`<id>_aware`, `<id>` (and dimension columns) per rated unit: the responses-file layout."""
        return [q.id for q in self.questions if q.role in ("awareness", "rating", "dimension")]

    def label(self, q: Question, lang: str = "zh") -> str:
        if lang == "en" and (q.label_en or q.text_en):
            return q.label_en or q.text_en or q.id
        return q.label or q.text

    def text(self, q: Question, lang: str = "zh") -> str:
        return (q.text_en if lang == "en" and q.text_en else q.text)

    # -- logic ---------------------------------------------------------------------
    def is_shown(self, q: Question, answers: dict[str, Any]) -> bool:
        """Skip logic: a question with `show_if` is asked only when the condition holds."""
        if q.show_if is None:
            return True
        return answers.get(q.show_if.question) in q.show_if.in_

    def is_eligible(self, answers: dict[str, Any]) -> bool:
        """True when every screening answer given is an eligible one."""
        for q in self.by_role("screening"):
            if q.eligible is not None and answers.get(q.id) not in q.eligible:
                return False
        return True

    def check_answers(self, answers: dict[str, Any]) -> list[str]:
        """Problems with a set of answers (question id: reason), empty when complete and valid."""
        problems: list[str] = []
        for q in self.questions:
            value = answers.get(q.id)
            shown = self.is_shown(q, answers)
            if value in (None, ""):
                if shown and q.required:
                    problems.append(f"{q.id}: required")
                continue
            if not shown:
                problems.append(f"{q.id}: answered but skipped by show_if")
            elif q.type == "single" and value not in {o.code for o in self.options(q)}:
                problems.append(f"{q.id}: code {value!r} not an option")
        if not self.is_eligible(answers):
            problems.append("screening: respondent not eligible")
        return problems

    def content_hash(self) -> str:
        blob = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _pydantic_problems(name: str, raw: dict[str, Any], err: ValidationError) -> list[str]:
    problems = []
    for e in err.errors():
        loc = list(e["loc"])
        where = name
        if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
            qs = raw.get("questions") or []
            qid = qs[loc[1]].get("id", f"#{loc[1] + 1}") if loc[1] < len(qs) and isinstance(qs[loc[1]], dict) else f"#{loc[1] + 1}"
            where += f": question `{qid}`"
            loc = loc[2:]
        field = ".".join(str(p) for p in loc) or "(file)"
        problems.append(f"{where}: {field}: {e['msg']}")
    return problems


def _semantic_problems(name: str, qn: Questionnaire) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for q in qn.questions:
        where = f"{name}: {'item' if q.role == 'item' else 'question'} `{q.id}`"
        if q.id in seen:
            problems.append(f"{where}: id: duplicate question id")
        if q.show_if is not None:
            if q.show_if.question not in seen:
                problems.append(f"{where}: show_if: refers to `{q.show_if.question}`, "
                                "which is not an earlier question")
        seen.add(q.id)
        if q.type == "text":
            continue
        if q.scale is not None and q.scale not in qn.scales:
            problems.append(f"{where}: scale: unknown scale `{q.scale}` (known: {', '.join(qn.scales)})")
            continue
        opts = qn.options(q)
        if not opts:
            problems.append(f"{where}: options: a single-choice question needs options or a scale")
        codes = [o.code for o in opts]
        if len(set(codes)) != len(codes):
            problems.append(f"{where}: options: duplicate option codes")
        if q.role == "item":
            for c in codes:
                if c not in SATISFACTION_CODES:
                    problems.append(f"{where}: option code {c} not allowed (satisfaction items use 5..1 and 9)")
        if q.role == "screening" and not q.eligible:
            problems.append(f"{where}: eligible: a screening question must list its eligible codes")
        for c in q.eligible or []:
            if c not in codes:
                problems.append(f"{where}: eligible: code {c} is not an option")
    for q in qn.questions:
        if q.show_if is not None and q.show_if.question in seen:
            target = qn.question(q.show_if.question)
            allowed = {o.code for o in qn.options(target)}
            for c in q.show_if.in_:
                if allowed and c not in allowed:
                    problems.append(f"{name}: question `{q.id}`: show_if: code {c} is not an option of `{target.id}`")
    required = DEMOGRAPHIC_IDS if qn.kind == "appraisal" else REQUIRED_IDS
    if qn.kind == "appraisal" and not qn.rated_units:
        problems.append(f"{name}: rated_units: an appraisal questionnaire lists at least one rated unit")
    if qn.kind == "district" and qn.rated_units:
        problems.append(f"{name}: rated_units: only a questionnaire of kind `appraisal` rates units "
                        "(one wave is one kind)")
    unit_ids = [u.id for u in qn.rated_units]
    for uid in sorted({u for u in unit_ids if unit_ids.count(u) > 1}):
        problems.append(f"{name}: rated_units: id `{uid}` is listed twice")
    for uid in unit_ids:
        if uid in ITEM_IDS or uid in DEMOGRAPHIC_IDS or uid.endswith("_aware"):
            problems.append(f"{name}: rated_units: id `{uid}` clashes with a column name of the responses file")
    for rid in required:
        if rid not in seen:
            problems.append(f"{name}: questions: required question `{rid}` is missing")
    return problems


def expand_rated_units(raw: dict[str, Any]) -> dict[str, Any]:
    """Add each rated unit's block to an appraisal questionnaire: awareness, then satisfaction
    (and the dimension items) shown only to those aware of it, before the demographics.

    The file lists only `rated_units`; the questions are generated, so every unit is asked the
    same way in every mode, and the column names are `<id>_aware`, `<id>`, `<id>_<dimension>`.
    """
    if raw.get("kind") != "appraisal" or not isinstance(raw.get("rated_units"), list):
        return raw
    raw = dict(raw)
    scales = dict(raw.get("scales") or {})
    scales.setdefault("aware", AWARE_SCALE)
    raw["scales"] = scales
    questions = list(raw.get("questions") or [])
    present = {q.get("id") for q in questions if isinstance(q, dict)}
    dims = [d for d in raw.get("unit_dimensions") or [] if isinstance(d, dict)]
    block: list[dict[str, Any]] = []
    for unit in raw["rated_units"]:
        if not isinstance(unit, dict) or not unit.get("id") or f"{unit['id']}_aware" in present:
            continue
        uid, uname = str(unit["id"]), str(unit.get("name", unit["id"]))
        block.append({"id": f"{uid}_aware", "role": "awareness", "scale": "aware", "label": f"{uname}（了解）",
                      "text": f"您是否了解或接触过{uname}？", "text_en": f"Do you know or have you had contact with {uname}?"})
        block.append({"id": uid, "role": "rating", "scale": "satisfaction", "label": uname,
                      "text": f"您对{uname}的工作是否满意？", "text_en": f"How satisfied are you with the work of {uname}?",
                      "show_if": {"question": f"{uid}_aware", "in": [1]}})
        for d in dims:
            block.append({"id": f"{uid}_{d.get('id')}", "role": "dimension", "scale": "satisfaction",
                          "label": f"{uname}：{d.get('label')}", "text": f"您对{uname}的{d.get('label')}是否满意？",
                          "required": False, "show_if": {"question": f"{uid}_aware", "in": [1]}})
    at = next((i for i, q in enumerate(questions) if isinstance(q, dict) and q.get("role") == "demographic"),
              len(questions))
    raw["questions"] = questions[:at] + block + questions[at:]
    return raw


def parse(raw: Any, name: str) -> Questionnaire:
    """Validate a parsed YAML document; raise QuestionnaireError listing every problem."""
    if not isinstance(raw, dict):
        raise QuestionnaireError([f"{name}: (file): expected a mapping at the top level"])
    raw = expand_rated_units(raw)
    try:
        qn = Questionnaire.model_validate(raw)
    except ValidationError as err:
        raise QuestionnaireError(_pydantic_problems(name, raw, err)) from None
    problems = _semantic_problems(name, qn)
    if problems:
        raise QuestionnaireError(problems)
    return qn


def load(path: str | Path) -> Questionnaire:
    """Load and validate one questionnaire file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise QuestionnaireError([f"{path.name}: (file): not valid YAML: {err}".splitlines()[0]]) from None
    except OSError as err:
        raise QuestionnaireError([f"{path.name}: (file): cannot read: {err.strerror}"]) from None
    qn = parse(raw, path.name)
    if qn.id != path.stem:
        raise QuestionnaireError([f"{path.name}: id: `{qn.id}` must equal the file name `{path.stem}`"])
    return qn


def _node_line(root: Any, loc: list[Any]) -> int:
    """The 1-based line of the deepest YAML node on the path `loc` (mapping keys / list indexes)."""
    node, line = root, (root.start_mark.line + 1 if root is not None else 1)
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _question_lines(root: Any) -> dict[str, int]:
    """Line of each question's `id` in the file, to place problems that name a question."""
    out: dict[str, int] = {}
    questions = None
    if isinstance(root, yaml.MappingNode):
        questions = next((v for k, v in root.value if k.value == "questions"), None)
    if isinstance(questions, yaml.SequenceNode):
        for item in questions.value:
            if isinstance(item, yaml.MappingNode):
                for k, v in item.value:
                    if k.value == "id" and isinstance(v, yaml.ScalarNode):
                        out.setdefault(v.value, k.start_mark.line + 1)
    return out


def parse_text(text: str, name: str) -> Questionnaire:
    """Validate questionnaire YAML text; every problem starts with `name:line N:` (the file's line).

    The admin console's upload: the same checks as `load`, placed on the lines of the file
    so a problem can be found in an editor.
    """
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise QuestionnaireError([f"{name}:{line}: (file): not valid YAML: {problem}"]) from None
    if not isinstance(raw, dict):
        raise QuestionnaireError([f"{name}:1: (file): expected a mapping at the top level"])
    try:
        qn = Questionnaire.model_validate(raw)
    except ValidationError as err:
        problems = _pydantic_problems(name, raw, err)
        lines = [_node_line(root, list(e["loc"])) for e in err.errors()]
        raise QuestionnaireError([p.replace(f"{name}:", f"{name}:{n}:", 1) for p, n in zip(problems, lines)]) from None
    problems = _semantic_problems(name, qn)
    if problems:
        qlines = _question_lines(root)
        placed = []
        for p in problems:
            found = re.search(r"`([^`]+)`", p)
            n = qlines.get(found.group(1), 1) if found else 1
            placed.append(p.replace(f"{name}:", f"{name}:{n}:", 1))
        raise QuestionnaireError(placed)
    return qn


def load_shipped(qid: str) -> Questionnaire:
    return load(QUESTIONNAIRE_DIR / f"{qid}.yaml")


def from_json(spec: str) -> Questionnaire:
    """Rebuild a stored questionnaire (already validated when it was registered)."""
    return Questionnaire.model_validate(json.loads(spec))
