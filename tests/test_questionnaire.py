"""Questionnaire validation names file, question and field; skip logic and eligibility."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from survey import questionnaire as qmod
from survey.config import QUESTIONNAIRE_DIR
from survey.questionnaire import QuestionnaireError

SHIPPED = QUESTIONNAIRE_DIR / "default-2025.yaml"


def write_variant(tmp_path: Path, name: str, change) -> Path:
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    raw["id"] = name
    change(raw)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(QuestionnaireError) as err:
        qmod.load(path)
    return err.value.problems


def question(raw: dict, qid: str) -> dict:
    return next(q for q in raw["questions"] if q["id"] == qid)


def test_shipped_questionnaire_is_valid_and_ordered():
    qn = qmod.load(SHIPPED)
    assert qn.item_ids == list(qmod.ITEM_IDS)
    assert [o.code for o in qn.options(qn.question("air"))] == [5, 4, 3, 2, 1, 9]
    dont_know = qn.options(qn.question("air"))[-1]
    assert not dont_know.shown_in("phone") and dont_know.shown_in("web")


def test_item_option_code_outside_scale_is_named(tmp_path):
    def change(raw):
        noise = question(raw, "noise")
        noise.pop("scale")
        noise["options"] = [{"code": c, "label": str(c)} for c in (5, 4, 3, 2, 1, 6)]
    path = write_variant(tmp_path, "bad-2025", change)
    assert "bad-2025.yaml: item `noise`: option code 6 not allowed (satisfaction items use 5..1 and 9)" \
        in problems_of(path)


def test_unknown_field_and_type_are_named(tmp_path):
    def change(raw):
        question(raw, "air")["colour"] = "red"
        question(raw, "water")["required"] = "perhaps"
    problems = problems_of(write_variant(tmp_path, "bad-2025", change))
    assert any(p.startswith("bad-2025.yaml: question `air`: colour:") for p in problems)
    assert any(p.startswith("bad-2025.yaml: question `water`: required:") for p in problems)


def test_missing_required_question_and_unknown_scale(tmp_path):
    def change(raw):
        raw["questions"] = [q for q in raw["questions"] if q["id"] != "sea"]
        question(raw, "air")["scale"] = "stars"
    problems = problems_of(write_variant(tmp_path, "bad-2025", change))
    assert "bad-2025.yaml: questions: required question `sea` is missing" in problems
    assert any("item `air`: scale: unknown scale `stars`" in p for p in problems)


def test_show_if_must_refer_to_an_earlier_question_and_its_codes(tmp_path):
    def change(raw):
        question(raw, "air")["show_if"] = {"question": "overall", "in": [1]}
        question(raw, "overall_reason")["show_if"] = {"question": "overall", "in": [7]}
    problems = problems_of(write_variant(tmp_path, "bad-2025", change))
    assert "bad-2025.yaml: item `air`: show_if: refers to `overall`, which is not an earlier question" in problems
    assert "bad-2025.yaml: question `overall_reason`: show_if: code 7 is not an option of `overall`" in problems


def test_file_name_must_match_id_and_yaml_errors_are_one_line(tmp_path):
    path = write_variant(tmp_path, "other", lambda raw: None)
    renamed = path.rename(tmp_path / "mismatch.yaml")
    assert problems_of(renamed) == ["mismatch.yaml: id: `other` must equal the file name `mismatch`"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("questions: [unclosed", encoding="utf-8")
    [line] = problems_of(broken)
    assert line.startswith("broken.yaml: (file): not valid YAML")


def test_skip_logic_and_eligibility():
    qn = qmod.load(SHIPPED)
    reason = qn.question("overall_reason")
    assert qn.is_shown(reason, {"overall": 1}) and not qn.is_shown(reason, {"overall": 4})
    assert not qn.is_eligible({"age18": 2, "resident": 1})
    from tests.conftest import complete_answers
    assert qn.check_answers(complete_answers()) == []
    assert "overall_reason: answered but skipped by show_if" in qn.check_answers(
        complete_answers(overall_reason="太吵"))
    assert "noise: code 7 not an option" in qn.check_answers(complete_answers(noise=7))


def test_questionnaire_in_use_is_never_edited_in_place(store, tmp_path):
    from survey.bootstrap import register_questionnaire
    from survey.store import StoreError
    path = write_variant(tmp_path, "default-2025", lambda raw: question(raw, "air").update(text="改过的问题？"))
    with pytest.raises(StoreError, match="never edited in place"):
        register_questionnaire(store, path)
    assert register_questionnaire(store, SHIPPED) is False  # same content: nothing to do
