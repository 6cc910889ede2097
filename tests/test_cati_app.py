"""AppTests of the pollster pages: CATI calling, draft resume, quota stop, door-to-door."""
from __future__ import annotations

import datetime as dt

import pytest

from survey import aapor, drafts, fieldwork, quotas
from survey.auth import SYSTEM
from survey.responses import submit_interview
from survey.store import StoreError
from tests.conftest import complete_answers
from tests.test_app import app_as

pytestmark = pytest.mark.app
PHONES = {"C001": "13800138001", "C002": "13800138002"}


def import_cases(store, tmp_path, unit: str = "思明区") -> None:
    path = tmp_path / "cases.csv"
    path.write_text("case_id,unit,mode,phone\n" + "".join(f"{c},{unit},phone,{p}\n" for c, p in PHONES.items()),
                    encoding="utf-8")
    assert fieldwork.import_cases(store, SYSTEM, path, "2025") == 2
    assert fieldwork.assign_cases(store, SYSTEM, "2025", "p1", case_ids=list(PHONES)) == 2


def answer_section(at, form: str = "phone") -> None:
    """The second option of every unanswered question on the section shown (also those skip logic opens)."""
    while open_ := [r for r in at.radio if r.key and r.key.startswith(f"q_{form}_") and r.value is None]:
        for radio in open_:
            radio.set_value(radio.options[1])
        at.run()


def next_section(at, form: str = "phone") -> bool:
    """Press 下一节; False on the last section (where 提交问卷 is)."""
    if f"{form}_next" not in [b.key for b in at.button]:
        return False
    at.button(key=f"{form}_next").click().run()
    return True


def answer_everything(at, form: str = "phone") -> None:
    """Screening yes, then the second option of every other question, section by section to the last."""
    if at.segmented_control(key=f"{form}_step").value != "screening":
        at.segmented_control(key=f"{form}_step").set_value("screening").run()
    if at.radio(key=f"q_{form}_age18").value is None:
        at.radio(key=f"q_{form}_age18").set_value(1)
        at.radio(key=f"q_{form}_resident").set_value(1)
        at.run()
    answer_section(at, form)
    while next_section(at, form):
        answer_section(at, form)


def pick(at, label: str) -> None:
    """Press one disposition button: its group's row of buttons."""
    at.pills(key=f"cati_group_{aapor.DISPOSITIONS[label].group}").set_value(label).run()


def picked(at) -> list:
    return [p.value for p in at.pills if p.key and p.key.startswith("cati_group_") and p.value is not None]


def heading(at) -> str:
    return " ".join(h.value for h in at.subheader)


def test_cati_attempt_callback_interview_submit_stored_once(store, accounts, tmp_path):
    import_cases(store, tmp_path)
    at = app_as(store, "p1")
    assert "C001" in heading(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["号码（已隐藏）"] != PHONES["C001"] and "****" in metrics["号码（已隐藏）"]
    at.button(key="cati_dial").click().run()
    assert {m.label: m.value for m in at.metric}["拨打号码"] == PHONES["C001"]

    # 约定回访 needs a time, and one still to come: a past time is refused and nothing is stored
    pick(at, "约定回访")
    past = (dt.datetime.now() - dt.timedelta(minutes=2)).replace(second=0, microsecond=0)
    at.date_input(key="cati_cb_date").set_value(past.date())
    at.time_input(key="cati_cb_time").set_value(past.time())
    at.button(key="cati_record").click().run()
    assert "已经过去" in at.error[0].value and store.attempts("2025", case_ids=["C001"]) == []
    later = (dt.datetime.now() + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    at.date_input(key="cati_cb_date").set_value(later.date())
    at.time_input(key="cati_cb_time").set_value(later.time())
    at.button(key="cati_record").click().run()
    assert not at.exception
    assert "约定回访" in at.success[0].value
    # the callback holds C001 back; the next case starts with an empty outcome box
    assert "C002" in heading(at) and picked(at) == []
    assert "拨打号码" not in {m.label for m in at.metric}
    [callback] = store.attempts("2025", case_ids=["C001"])
    assert callback["disposition"] == "2.21" and callback["callback_at"] == later.isoformat(timespec="seconds")

    # the respondent agrees: straight into the interview for this case
    at.button(key="cati_agree").click().run()
    assert "cati_break_off" in [b.key for b in at.button]
    answer_everything(at)
    at.button(key="phone_submit").click().run()
    assert not at.exception and "问卷已保存" in at.success[0].value
    assert "cati_break_off" not in [b.key for b in at.button]  # nothing left to break off
    [stored] = store.responses("2025")
    assert stored["case_id"] == "C002" and stored["mode"] == "phone" and stored["interviewer"] == "p1"
    assert stored["duration_s"] is not None
    codes = [(a["disposition"], a["response_id"]) for a in store.attempts("2025", case_ids=["C002"])]
    assert codes == [("1.1", stored["response_id"])]

    # submitting the same interview again (double click, resent request) stores nothing new
    draft = store.interview_draft(stored["paradata"]["draft_id"])
    assert draft["status"] == "done" and draft["response_id"] == stored["response_id"]
    again = drafts.submit_draft(store, accounts["p1"], draft["draft_id"], answers=stored["answers"])
    assert not again.created and store.count_responses("2025") == 1

    # the case is closed; C001's callback is not due yet: nothing to call now
    at.button(key="phone_new").click().run()
    assert "目前没有需要拨打的样本" in at.info[0].value
    assert [a["disposition"] for a in store.attempts("2025", case_ids=["C002"])] == ["1.1"]


def test_a_due_callback_comes_first_with_its_time(store, accounts, tmp_path):
    import_cases(store, tmp_path)
    now = dt.datetime.now().replace(microsecond=0)
    fieldwork.record_attempt(store, accounts["p1"], "C002", "约定回访", wave="2025", at=now - dt.timedelta(hours=2),
                             callback_at=now - dt.timedelta(hours=1))
    at = app_as(store, "p1")
    assert "C002" in heading(at) and "约定回访" in at.warning[0].value


def test_a_past_callback_is_refused_by_the_core_too(store, accounts, tmp_path):
    import_cases(store, tmp_path)
    with pytest.raises(StoreError, match="callback_at"):
        fieldwork.record_attempt(store, accounts["p1"], "C001", "约定回访", wave="2025",
                                 callback_at=dt.datetime.now() - dt.timedelta(hours=1))
    assert store.attempts("2025", case_ids=["C001"]) == []


def test_cati_interview_resumes_after_a_new_session(store, accounts, tmp_path):
    import_cases(store, tmp_path)
    at = app_as(store, "p1")
    at.button(key="cati_agree").click().run()
    at.radio(key="q_phone_age18").set_value(1)
    at.radio(key="q_phone_resident").set_value(1)
    at.run()
    next_section(at)
    # 不了解 is offered on the phone but marked not to be read aloud; options show their code
    assert "9 不了解/说不清（不读出）" in at.radio(key="q_phone_air").options
    at.text_input(key="phone_quick").input("45392").run()  # quick entry: air=4, water=5, sea=3, noise=9, waste=2
    assert [at.radio(key=f"q_phone_{q}").value for q in ("air", "water", "sea", "noise", "waste")] == [4, 5, 3, 9, 2]
    started = drafts.open_draft(store, accounts["p1"], "phone", "C001")["started_at"]

    # the tab is closed; a new login lands in the same case's interview, on the section it was at
    at2 = app_as(store, "p1")
    assert "C001" in heading(at2) and "已恢复" in at2.info[0].value
    assert at2.segmented_control(key="phone_step").value == "items" and at2.radio(key="q_phone_noise").value == 9
    at2.button(key="phone_prev").click().run()  # the screening answers came back too
    assert at2.radio(key="q_phone_age18").value == 1 and at2.radio(key="q_phone_resident").value == 1
    answer_everything(at2)
    at2.button(key="phone_submit").click().run()
    [stored] = store.responses("2025")
    assert stored["case_id"] == "C001" and stored["started_at"] == started
    assert stored["answers"]["air"] == 4 and stored["answers"]["noise"] == 9


def test_free_interview_resumes_after_a_new_session(store, accounts):
    at = app_as(store, "p1")
    at.selectbox(key="phone_unit").set_value("湖里区").run()
    at.radio(key="q_phone_age18").set_value(1)
    at.radio(key="q_phone_resident").set_value(1)
    at.run()
    next_section(at)
    at.radio(key="q_phone_air").set_value(2).run()
    at2 = app_as(store, "p1")
    assert at2.selectbox(key="phone_unit").value == "湖里区" and at2.radio(key="q_phone_air").value == 2
    answer_everything(at2)
    at2.button(key="phone_submit").click().run()
    [stored] = store.responses("2025")
    assert stored["unit"] == "湖里区" and stored["answers"]["air"] == 2 and stored["case_id"] is None


def test_quota_stop_ends_the_interview_and_records_quota_filled(store, accounts, tmp_path):
    import_cases(store, tmp_path)
    quotas.set_quotas(store, accounts["admin"], "2025", [{"unit": "思明区", "target": 1}], action="stop")
    submit_interview(store, accounts["p2"], "2025", unit="思明区", mode="phone", answers=complete_answers(),
                     submit_key="other-interview")
    at = app_as(store, "p1")
    quota_cells = at.dataframe[0].value
    assert list(quota_cells.iloc[0][:3]) == ["思明区", "全部", "1/1"]
    at.button(key="cati_agree").click().run()
    assert "配额已满" in at.error[0].value
    assert "phone_submit" not in [b.key for b in at.button]
    at.button(key="phone_end_quota").click().run()
    assert not at.exception
    assert [a["disposition"] for a in store.attempts("2025", case_ids=["C001"])] == ["4.80"]
    assert store.count_responses("2025") == 1
    assert drafts.open_draft(store, accounts["p1"], "phone", "C001") is None
    assert "C002" in heading(at)


def test_door_interview_stored_with_household_record(store, accounts):
    at = app_as(store, "p1")
    at.switch_page("app_pages/door_interview.py").run()
    assert at.title[0].value == "入户访问"
    at.radio(key="q_door_age18").set_value(1)
    at.radio(key="q_door_resident").set_value(1)
    at.run()
    next_section(at, "door")
    assert "9 不了解/说不清" in at.radio(key="q_door_air").options  # read out at the door (show card)
    answer_everything(at, "door")
    at.button(key="door_submit").click().run()
    # the household record is missing: named, and its section (the first) is shown
    assert "社区/小区" in at.error[0].value and store.count_responses("2025") == 0
    assert at.segmented_control(key="door_step").value == "screening"
    at.text_input(key="door_rec_community").input("莲前街道 前埔北社区")
    at.text_input(key="door_rec_address").input("12号楼")
    at.number_input(key="door_rec_size").set_value(4)
    at.number_input(key="door_rec_adults").set_value(5)
    at.radio(key="door_rec_method").set_value("kish")
    at.number_input(key="door_rec_selected_no").set_value(2)
    at.text_input(key="door_rec_selected").input("配偶，女，45岁")
    at.segmented_control(key="door_step").set_value("demographics").run()
    at.button(key="door_submit").click().run()
    assert "不能多于家庭常住人口数" in at.error[0].value and store.count_responses("2025") == 0
    at.number_input(key="door_rec_adults").set_value(3)
    at.segmented_control(key="door_step").set_value("demographics").run()
    at.button(key="door_submit").click().run()
    assert not at.exception and "问卷已保存" in at.success[0].value
    [stored] = store.responses("2025")
    assert stored["mode"] == "door" and stored["interviewer"] == "p1"
    assert stored["paradata"]["household"] == {"community": "莲前街道 前埔北社区", "address": "12号楼", "size": 4,
                                               "adults": 3, "method": "kish", "selected_no": 2,
                                               "selected": "配偶，女，45岁"}


def test_cati_ineligible_and_break_off_are_recorded(store, accounts, tmp_path):
    import_cases(store, tmp_path)
    at = app_as(store, "p1")
    at.button(key="cati_agree").click().run()
    at.radio(key="q_phone_age18").set_value(2)
    at.radio(key="q_phone_resident").set_value(1)
    at.run()
    assert "不符合条件" in at.warning[0].value
    assert "cati_break_off" not in [b.key for b in at.button]  # ended as ineligible: no break-off
    at.button(key="phone_end_ineligible").click().run()
    assert [a["label"] for a in store.attempts("2025", case_ids=["C001"])] == ["不符合条件：未满18岁"]
    assert "C002" in heading(at)
    at.button(key="cati_agree").click().run()
    at.radio(key="q_phone_age18").set_value(1).run()
    at.button(key="cati_break_off").click().run()
    assert [a["disposition"] for a in store.attempts("2025", case_ids=["C002"])] == ["2.12"]
    assert drafts.open_drafts(store, accounts["p1"], "phone") == []
    assert store.count_responses("2025") == 0
    assert "目前没有需要拨打的样本" in at.info[0].value


def test_door_household_record_resumes_after_a_new_session(store, accounts):
    at = app_as(store, "p1")
    at.switch_page("app_pages/door_interview.py").run()
    at.selectbox(key="door_unit").set_value("集美区")
    at.text_input(key="door_rec_community").input("杏林街道")
    at.number_input(key="door_rec_size").set_value(3)
    at.radio(key="door_rec_method").set_value("kish")
    at.radio(key="q_door_age18").set_value(1).run()
    at2 = app_as(store, "p1")
    at2.switch_page("app_pages/door_interview.py").run()
    assert not at2.exception
    assert at2.selectbox(key="door_unit").value == "集美区"
    assert at2.text_input(key="door_rec_community").value == "杏林街道"
    assert at2.number_input(key="door_rec_size").value == 3 and at2.radio(key="door_rec_method").value == "kish"
    assert at2.radio(key="q_door_age18").value == 1


def test_quick_entry_with_a_digit_that_is_no_option_names_it_instead_of_crashing(store, accounts):
    at = app_as(store, "p1")
    at.radio(key="q_phone_age18").set_value(1)
    at.radio(key="q_phone_resident").set_value(1)
    at.run()
    next_section(at)
    at.text_input(key="phone_quick").input("446").run()  # 6 is no option of the third item
    assert not at.exception
    assert [at.radio(key=f"q_phone_{q}").value for q in ("air", "water")] == [4, 4]
    assert at.radio(key="q_phone_sea").value is None
    assert "没有编号为 6 的选项" in at.error[0].value


def test_supervisor_lands_on_progress_and_counts_own_interviews_only(store, accounts):
    submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone", answers=complete_answers(),
                     submit_key="p1-interview")
    at = app_as(store, "sup")
    assert at.title[0].value != "电话访问" and not at.exception
    at.switch_page("app_pages/phone_interview.py").run()
    assert [m.value for m in at.metric][0] == "0"  # the firm's p1 interview is not the supervisor's own


def test_grouped_disposition_buttons_record_the_chosen_code(store, accounts, tmp_path):
    import_cases(store, tmp_path)
    at = app_as(store, "p1")
    rows = {p.key: p.options for p in at.pills if p.key and p.key.startswith("cati_group_")}
    assert [p.label for p in at.pills if p.key in rows] == ["接通", "未接通", "无效号码", "不符合条件"]
    assert sum(len(o) for o in rows.values()) == 19 and "完成" not in sum(rows.values(), [])
    pick(at, "忙音")
    pick(at, "空号")  # a button in another group replaces the first choice
    assert picked(at) == ["空号"]
    at.button(key="cati_record").click().run()
    assert not at.exception and "空号" in at.success[0].value
    [attempt] = store.attempts("2025", case_ids=["C001"])
    assert attempt["disposition"] == "4.31" and attempt["label"] == "空号"
    assert "C002" in heading(at) and picked(at) == []
    pick(at, "无人接听")
    at.button(key="cati_record").click().run()
    assert [a["disposition"] for a in store.attempts("2025", case_ids=["C002"])] == ["3.13"]


def test_a_missing_answer_is_named_and_its_section_shown_marked(store, accounts, tmp_path):
    import_cases(store, tmp_path)
    at = app_as(store, "p1")
    at.button(key="cati_agree").click().run()
    answer_everything(at)
    # the pollster goes back and clears the second item, then submits from the last section
    at.segmented_control(key="phone_step").set_value("items").run()
    at.radio(key="q_phone_water").set_value(None).run()
    at.segmented_control(key="phone_step").set_value("demographics").run()
    at.button(key="phone_submit").click().run()
    assert not at.exception and store.count_responses("2025") == 0
    label = "河流湖库与饮用水水环境"
    assert label in at.error[0].value and "满意度评价" in at.error[0].value
    assert at.segmented_control(key="phone_step").value == "items"
    assert any(e.value == f"请回答：{label}" for e in at.error)  # the marker next to the question
    assert any("scrollIntoView" in h.proto.body for h in at.html)
    at.radio(key="q_phone_water").set_value(2).run()
    assert not any(e.value.startswith("请回答") for e in at.error)  # answered: the mark goes
    at.segmented_control(key="phone_step").set_value("demographics").run()
    at.button(key="phone_submit").click().run()
    assert "问卷已保存" in at.success[0].value and store.count_responses("2025") == 1


def test_each_saved_step_shows_saved(store, accounts, tmp_path):
    import_cases(store, tmp_path)
    at = app_as(store, "p1")
    at.button(key="cati_agree").click().run()

    def saved_mark() -> str:
        return next(c.value for c in at.caption if c.value.startswith("已保存"))

    at.radio(key="q_phone_age18").set_value(1).run()
    first = saved_mark()
    # the running time is counted in the browser, not by rerunning the page every second
    assert any("setInterval" in h.proto.body and "已用时" in h.proto.body for h in at.html)
    assert drafts.open_draft(store, accounts["p1"], "phone", "C001")["answers"] == {"age18": 1}
    at.radio(key="q_phone_resident").set_value(1).run()
    next_section(at)
    at.radio(key="q_phone_air").set_value(4).run()
    assert saved_mark() >= first
    assert drafts.open_draft(store, accounts["p1"], "phone", "C001")["answers"] == {"age18": 1, "resident": 1,
                                                                                    "air": 4}
