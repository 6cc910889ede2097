"""Quick entry: a typed code string over a questionnaire (interviews and paper keying)."""
from __future__ import annotations

from survey import quick_entry as qe
from survey.questionnaire import load_shipped
from tests.conftest import complete_answers

PAPER_ROLES = ("screening", "item", "followup", "demographic", "awareness", "rating", "dimension")


def test_a_paper_code_string_fills_every_choice_question_in_order():
    qn = load_shipped("default-2025")
    questions = qe.keyable(qn, PAPER_ROLES)
    # screening 1 1, ten items, change 3, then sex/age/education by position: 2 女, 3 40-49, 3 大专
    filled = qe.fill(qn, questions, "11 4593454344 3 233")
    assert not filled.problems and not filled.missing
    assert filled.answers == complete_answers()
    # a demographic's key is its position on the form, shown as such
    assert qe.key_of(qn, qn.question("sex"), "女") == "2"
    assert qe.options_text(qn, qn.question("sex")) == "1 男、2 女"


def test_a_wrong_key_names_the_question_and_position_and_leaves_it_empty():
    qn = load_shipped("default-2025")
    questions = qe.keyable(qn, PAPER_ROLES)
    filled = qe.fill(qn, questions, "1146")
    [bad] = filled.problems
    assert (bad.kind, bad.position, bad.key, bad.qid) == ("not_option", 4, "6", "water")
    assert "water" not in filled.answers and filled.answers["air"] == 4
    text = qe.message(qn, bad, len(questions))
    assert "第 4 位" in text and "6" in text and qn.label(qn.question("water")) in text and "5 满意" in text
    # 7 is no option of sea or noise either
    assert [p.qid for p in qe.fill(qn, questions, "114677").problems] == ["water", "sea", "noise"]


def test_surplus_keys_are_one_problem_at_their_first_position():
    qn = load_shipped("default-2025")
    items = qe.keyable(qn, ("item",))
    filled = qe.fill(qn, items, "4" * 12)
    assert len(filled.answers) == 10
    [extra] = filled.problems
    assert (extra.kind, extra.position, extra.key) == ("too_many", 11, "44")
    assert "第 11 位" in qe.message(qn, extra, len(items))


def test_skip_logic_is_followed_while_reading():
    qn = load_shipped("appraisal-2025")
    questions = qe.keyable(qn, PAPER_ROLES)
    # not aware of the first unit (2): its rating and dimensions take no key; the next key goes to unit 2
    filled = qe.fill(qn, questions, "11" + "2" + "1" + "453")
    assert filled.answers["eco_env_aware"] == 2 and "eco_env" not in filled.answers
    assert filled.answers["garden_aware"] == 1 and filled.answers["garden"] == 4
    assert filled.asked[:5] == ("age18", "resident", "eco_env_aware", "garden_aware", "garden")
