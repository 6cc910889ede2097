"""AppTests: the supervisor dashboard and paper keying pages."""
from __future__ import annotations

import pytest

from survey.backcheck import backcheck_list
from survey.paper import key_paper
from tests.conftest import complete_answers
from tests.test_app import app_as

pytestmark = pytest.mark.app


def test_supervisor_dashboard_shows_own_firm_progress_and_records_a_backcheck(store, accounts):
    from survey.demo import store_demo
    store_demo(store, "2025", 300, 3)  # firm 示例调查公司: not the supervisor's firm A
    from survey.responses import submit_interview
    for i in range(12):
        submit_interview(store, accounts["p1" if i % 3 else "p2"], "2025", unit="思明区", mode="phone",
                         answers=complete_answers(), submit_key=f"app{i}")
    at = app_as(store, "sup")
    at.switch_page("app_pages/supervisor_progress.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "督导工作台"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["有效问卷"] == "12" and metrics["在访访问员"] == "2"
    expected = backcheck_list(store, accounts["sup"], "2025")
    assert metrics["待回访"] == f"{len(expected)} / {len(expected)}" and len(expected) == 2  # ceil(10 %) of 8 and 4
    pollsters = at.dataframe[1].value
    assert dict(zip(pollsters["访问员"], pollsters["完成数"])) == {"p1": 8, "p2": 4}
    assert dict(zip(pollsters["访问员"], pollsters["需回访"])) == {"p1": 1, "p2": 1}
    listed = at.dataframe[2].value
    assert sorted(listed["问卷编号"]) == sorted(i.response_id for i in expected)
    target = expected[0].response_id
    at.selectbox(key="bc_response").set_value(target)
    at.radio(key="bc_outcome").set_value("denied")
    at.text_input(key="bc_note").input("受访者称未接受访问")
    at.button(key="bc_save").click().run()
    assert not at.exception, at.exception
    assert any("已记录问卷" in s.value for s in at.success)
    [hist] = store.backcheck_history(target)
    assert (hist["outcome"], hist["actor"], hist["note"]) == ("denied", "sup", "受访者称未接受访问")


def test_supervisor_resolves_a_paper_mismatch_on_the_dashboard(store, accounts):
    key_paper(store, accounts["p1"], "2025", "A-0100", unit="思明区", answers=complete_answers(),
              entry_key="e1", double_entry=True)
    key_paper(store, accounts["p2"], "2025", "A-0100", unit="思明区", answers=complete_answers(air=2),
              entry_key="e2")
    at = app_as(store, "sup")
    at.switch_page("app_pages/supervisor_progress.py").run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["待处理双录入差异"] == "1"
    at.button(key="resolve_btn_A-0100").click().run()  # nothing chosen yet: named, nothing stored
    assert "空气质量" in at.error[0].value and store.count_responses("2025") == 0
    at.radio(key="pick_A-0100_air").set_value("paper")
    at.selectbox(key="value_A-0100_air").set_value(3)
    at.button(key="resolve_btn_A-0100").click().run()
    assert not at.exception, at.exception
    assert any("已按处理结果保存" in s.value for s in at.success)
    [row] = store.responses("2025")
    assert row["answers"]["air"] == 3 and row["mode"] == "paper"


def fill(at, paper_id: str, unit: str = "思明区"):
    at.text_input(key="paper_id").input(paper_id).run()
    at.selectbox(key="paper_unit").set_value(unit)
    at.radio[0].set_value(1)
    at.radio[1].set_value(1)
    at.run()
    for radio in at.radio[2:]:
        radio.set_value(radio.options[1])
    return at.run()


def test_paper_double_entry_through_the_page(store, accounts):
    at = app_as(store, "p1")
    at.switch_page("app_pages/paper_entry.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "纸质问卷录入"
    at.toggle(key="paper_double").set_value(True)
    fill(at, "xm-000123")
    assert "新问卷" in at.info[-1].value
    at.button(key="paper_submit").click().run()
    assert "等待另一名录入员" in at.info[-1].value and store.count_responses("2025") == 0
    # the same keyer cannot key it again
    at.button[0].click().run()  # 录入下一份
    at.text_input(key="paper_id").input("XM-000123").run()
    assert "须由其他录入员" in at.warning[0].value
    # a second keyer of the firm types the same answers: stored once
    second = app_as(store, "p2")
    second.switch_page("app_pages/paper_entry.py").run()
    fill(second, "XM-000123")
    assert "待第二次录入" in second.info[-1].value
    second.button(key="paper_submit").click().run()
    assert not second.exception, second.exception
    assert "已保存" in second.success[0].value
    [row] = store.responses("2025")
    assert row["mode"] == "paper" and row["paradata"]["keyers"] == ["p1", "p2"]


def test_paper_id_of_the_wrong_format_is_refused_on_the_page(store, accounts):
    at = app_as(store, "p1")
    at.switch_page("app_pages/paper_entry.py").run()
    at.text_input(key="paper_id").input("编号 1").run()
    assert "格式不正确" in at.error[0].value


def test_pages_open_on_the_wave_in_fieldwork_and_remember_the_choice(store, accounts):
    from survey.auth import SYSTEM, assign
    from survey.responses import submit_interview
    from tests.conftest import complete_answers
    from tests.test_app import app_as
    store.add_wave("2024", "default-2025", ["思明区"], "admin")
    store.add_wave("2026", "default-2025", ["思明区"], "admin")  # set up for next year, still empty
    store.update_wave("2024", "admin", status="closed")
    for wave in ("2024", "2026"):
        assign(store, SYSTEM, "sup", wave=wave)
    submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone", answers=complete_answers(),
                     submit_key="k2025")
    at = app_as(store, "sup")
    at.switch_page("app_pages/review.py").run()
    assert at.selectbox(key="review_wave").value == "2025"
    at.selectbox(key="review_wave").set_value("2024").run()
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception and at.selectbox(key="overview_wave").value == "2024"


def test_backcheck_call_shows_the_masked_number_and_dials_in_clear_audited(store, accounts, tmp_path):
    from survey.backcheck import backcheck_contact
    from survey.auth import PermissionDenied
    from survey.responses import submit_interview
    from tests.test_cati_app import PHONES, import_cases
    import_cases(store, tmp_path)
    done = submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone", answers=complete_answers(),
                            submit_key="case-interview", case_id="C001")
    at = app_as(store, "sup")
    at.switch_page("app_pages/supervisor_progress.py").run()
    at.selectbox(key="bc_response").set_value(done.response_id).run()
    metrics = {m.label: m.value for m in at.metric}
    assert "****" in metrics["号码（已隐藏）"] and PHONES["C001"] not in metrics.values()
    assert store.audit_log("case", "C001") == [] or all(a["action"] != "view_contact"
                                                         for a in store.audit_log("case", "C001"))
    at.button(key="bc_dial").click().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["拨打号码"] == PHONES["C001"]
    at.run()  # another rerun while the number is shown (any widget): still one dial, one audit row
    assert {m.label: m.value for m in at.metric}["拨打号码"] == PHONES["C001"]
    views = [a for a in store.audit_log("case", "C001") if a["action"] == "view_contact"]
    assert [a["actor"] for a in views] == ["sup"]
    # an analyst or another firm's supervisor never gets it in clear
    with pytest.raises(PermissionDenied):
        backcheck_contact(store, accounts["supb"], done.response_id, dial=True)
    with pytest.raises(PermissionDenied):
        backcheck_contact(store, accounts["ana"], done.response_id, dial=True)
    # the admin supervises every firm and sees the masked number, never the number in clear
    from survey.auth import SYSTEM
    assert backcheck_contact(store, SYSTEM, done.response_id).masked == metrics["号码（已隐藏）"]
    with pytest.raises(PermissionDenied):
        backcheck_contact(store, SYSTEM, done.response_id, dial=True)


def test_paper_code_string_keys_a_form_and_the_second_keyer_sees_the_mismatch(store, accounts):
    at = app_as(store, "p1")
    at.switch_page("app_pages/paper_entry.py").run()
    at.toggle(key="paper_double").set_value(True)
    at.text_input(key="paper_id").input("XM-000200").run()
    at.selectbox(key="paper_unit").set_value("思明区")
    # the 4th key (6) is no option of water: named with its position and options, the field keeps the string
    at.text_input(key="paper_quick").input("1146").run()
    assert not at.exception, at.exception
    [err] = [e.value for e in at.error]
    assert "第 4 位" in err and "水环境" in err and "6" in err
    assert at.text_input(key="paper_quick").value == "1146"
    assert at.radio(key="q_paper_air").value == 4 and at.radio(key="q_paper_water").value is None
    at.text_input(key="paper_quick").input("11 4593454344 3 233").run()
    assert not at.error and at.radio(key="q_paper_sex").value == "女"
    assert "16/16" in " ".join(c.value for c in at.caption)
    at.button(key="paper_submit").click().run()
    assert "等待另一名录入员" in at.info[-1].value

    second = app_as(store, "p2")
    second.switch_page("app_pages/paper_entry.py").run()
    second.text_input(key="paper_id").input("XM-000200").run()
    second.selectbox(key="paper_unit").set_value("思明区")
    second.text_input(key="paper_quick").input("11 2593454344 3 233").run()  # air keyed 2, not 4
    second.button(key="paper_submit").click().run()
    assert not second.exception, second.exception
    assert "1 处不一致" in second.warning[0].value
    table = second.dataframe[0].value
    assert list(table.columns) == ["题目", "第一次录入", "第二次录入"]
    assert table.iloc[0].tolist() == [store_label("air"), "4 比较满意", "2 不太满意"]
    assert store.count_responses("2025") == 0


def store_label(qid: str) -> str:
    from survey.questionnaire import load_shipped
    qn = load_shipped("default-2025")
    return qn.label(qn.question(qid))
