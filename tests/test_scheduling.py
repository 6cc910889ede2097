"""Call scheduling (issue 17): every rule with a fixed clock, pure first, then through the store.

2025-06-02 is a Monday, 2025-06-07 a Saturday.
"""
from __future__ import annotations

import datetime as dt

import pytest

from common.errors import Invalid
from survey import scheduling
from survey.scheduling import Attempt, CallRules, Slot, Window, choose, offer, parse_schedule

MON = dt.date(2025, 6, 2)
SAT = dt.date(2025, 6, 7)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm))


def rules(**kw) -> CallRules:
    base = dict(weekday="18:00-21:00", weekend="09:00-21:00",
                slots=[{"name": "傍晚", "hours": "18:00-19:30"}, {"name": "晚上", "hours": "19:30-21:00"}],
                busy_redial_minutes=15, max_attempts=4)
    base.update(kw)
    return parse_schedule(base)


# --------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------
def test_weekday_and_weekend_windows():
    r = rules()
    new = [("C1", [])]
    assert choose(r, new, at(MON, "17:59")) is None
    assert choose(r, new, at(MON, "18:00")).case_id == "C1"
    assert choose(r, new, at(MON, "20:59")).case_id == "C1"
    assert choose(r, new, at(MON, "21:00")) is None  # the end is excluded
    assert choose(r, new, at(MON, "10:00")) is None  # weekday morning: shut
    assert choose(r, new, at(SAT, "10:00")).case_id == "C1"  # weekend morning: open
    assert choose(r, new, at(SAT, "08:59")) is None
    assert "18:00-21:00" in scheduling.closed_message(r, at(MON, "10:00"))
    assert scheduling.closed_message(r, at(MON, "19:00")) is None


def test_no_window_means_any_time():
    r = parse_schedule({})
    assert r.callable_at(at(MON, "03:00")) and r.max_attempts == scheduling.DEFAULT_MAX_ATTEMPTS


# --------------------------------------------------------------------------------------
# Order, appointments, busy redial, slot rotation, attempt limit
# --------------------------------------------------------------------------------------
def test_appointment_outranks_busy_new_and_retry():
    r = rules()
    now = at(MON, "19:40")
    cases = [
        ("NEW", []),
        ("RETRY", [Attempt(at(MON, "18:10"), "3.13")]),
        ("BUSY", [Attempt(at(MON, "19:00"), "3.12")]),
        ("APPT", [Attempt(at(MON, "18:05"), "2.21", at(MON, "19:30"))]),
    ]
    assert choose(r, cases, now).reason == "callback"
    assert choose(r, cases[:3], now).reason == "busy"  # a busy line before new cases
    assert choose(r, cases[:2], now).reason == "new"
    assert choose(r, cases[:2][1:], now).reason == "retry"


def test_appointment_waits_until_due_and_earliest_first():
    r = rules()
    a = ("A", [Attempt(at(MON, "18:05"), "2.21", at(MON, "20:00"))])
    b = ("B", [Attempt(at(MON, "18:06"), "2.21", at(MON, "19:45"))])
    assert choose(r, [a, b], at(MON, "19:44")) is None
    assert choose(r, [a, b], at(MON, "19:45")).case_id == "B"
    assert choose(r, [a, b], at(MON, "20:30")).case_id == "B"  # overdue, still the earliest


def test_appointment_outranks_slot_rotation_and_the_attempt_limit():
    r = rules(max_attempts=2)
    history = [Attempt(at(MON, "18:10"), "3.13"), Attempt(at(MON, "18:20"), "2.21", at(MON, "18:40"))]
    found = offer(r, "C", history, at(MON, "18:45"))  # 2 tries = the limit, and the slot 傍晚 was used twice
    assert found is not None and found.reason == "callback"
    assert not scheduling.exhausted(r, history)
    done = history + [Attempt(at(MON, "18:45"), "3.13")]
    assert scheduling.exhausted(r, done) and offer(r, "C", done, at(MON, "20:00")) is None


def test_busy_redial_after_n_minutes():
    r = rules(busy_redial_minutes=15)
    busy = [Attempt(at(MON, "18:00"), "3.12")]
    assert offer(r, "C", busy, at(MON, "18:14")) is None
    found = offer(r, "C", busy, at(MON, "18:15"))
    assert found.reason == "busy" and found.tries == 1  # same slot again: a busy line is someone at home
    plain = rules(busy_redial_minutes=0)  # an ordinary non-contact: rotated to the other slot
    assert offer(plain, "C", busy, at(MON, "18:20")) is None
    assert offer(plain, "C", busy, at(MON, "19:30")).reason == "retry"


def test_non_contact_is_retried_in_a_slot_not_yet_tried():
    r = rules()
    tried_early = [Attempt(at(MON, "18:10"), "3.13")]
    assert offer(r, "C", tried_early, at(MON, "19:00")) is None  # 傍晚 again: wait
    assert offer(r, "C", tried_early, at(MON, "19:30")).reason == "retry"  # 晚上: not yet tried
    both = tried_early + [Attempt(at(MON, "19:40"), "2.24")]
    assert offer(r, "C", both, at(dt.date(2025, 6, 3), "18:10")).reason == "retry"  # every slot once: round two
    # tried in 傍晚 on two days and 晚上 once: only 晚上 now
    three = both + [Attempt(at(dt.date(2025, 6, 3), "18:10"), "3.13")]
    assert offer(r, "C", three, at(dt.date(2025, 6, 4), "18:30")) is None
    assert offer(r, "C", three, at(dt.date(2025, 6, 4), "20:00")) is not None


def test_retry_order_fewest_tries_then_longest_ago():
    r = rules(slots=[])
    cases = [("A", [Attempt(at(MON, "18:00"), "3.13"), Attempt(at(MON, "18:30"), "3.13")]),
             ("B", [Attempt(at(MON, "18:20"), "3.13")]),
             ("C", [Attempt(at(MON, "18:10"), "3.13")])]
    assert choose(r, cases, at(MON, "19:00")).case_id == "C"


def test_max_attempts_closes_with_the_methods_final_code():
    r = rules(max_attempts=3, slots=[])
    history = [Attempt(at(MON, "18:00"), "3.13"), Attempt(at(MON, "18:40"), "2.24"),
               Attempt(at(MON, "19:20"), "3.12")]
    assert offer(r, "C", history[:2], at(MON, "20:00")) is not None
    assert offer(r, "C", history, at(MON, "20:00")) is None
    assert scheduling.case_final_code(r, history) == "2.24"  # 2.2x (NC) beats 3.x (METHODS §4)
    assert scheduling.case_final_code(r, history[:2]) is None  # still open
    assert scheduling.case_final_code(r, [Attempt(at(MON, "18:00"), "2.11")]) == "2.11"


def test_final_case_is_never_offered():
    assert offer(rules(), "C", [Attempt(at(MON, "18:00"), "1.1")], at(MON, "19:00")) is None


def test_appointment_outside_the_window_is_refused_in_chinese():
    r = rules()
    msg = scheduling.appointment_problem(r, at(MON, "22:00"))
    assert msg and "不在拨打时段内" in msg and "工作日 18:00-21:00" in msg and "周末 09:00-21:00" in msg
    assert scheduling.appointment_problem(r, at(SAT, "10:00")) is None


# --------------------------------------------------------------------------------------
# The boundary: settings refused with a Chinese line naming the field
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, expect", [
    ({"weekday": "21:00-18:00"}, "工作日拨打时段"),
    ({"weekend": "9点到晚上"}, "周末拨打时段"),
    ({"weekday": "25:00-26:00"}, "不是时段"),
    ({"max_attempts": 0}, "须在 1 到 50 之间"),
    ({"max_attempts": "nan"}, "须为整数"),
    ({"max_attempts": float("inf")}, "须为整数"),
    ({"max_attempts": 2.5}, "须为整数"),
    ({"max_attempts": True}, "须为整数"),
    ({"busy_redial_minutes": -5}, "须在 0 到 1440 之间"),
    ({"slots": [{"name": "", "hours": "18:00-19:00"}]}, "时间段名称不能为空"),
    ({"slots": [{"name": "x" * 21, "hours": "18:00-19:00"}]}, "最多 20 个字"),
    ({"slots": [{"name": "a\x00", "hours": "18:00-19:00"}]}, "控制字符"),
    ({"slots": [{"name": "a", "hours": "18:00-19:00"}, {"name": "b", "hours": "18:30-20:00"}]}, "重叠"),
    ({"slots": [{"name": "a", "hours": "18:00-19:00"}, {"name": "a", "hours": "19:00-20:00"}]}, "出现了两次"),
    ({"colour": "red"}, "不是可用的设置项"),
    ({"weekday": "18:00-21:00", "weekend": "09:00-17:00", "slots": [{"name": "傍晚", "hours": "17:30-19:00"}]},
     "时间段“傍晚”（17:30-19:00）不在拨打时段内（工作日 18:00-21:00，周末 09:00-17:00）"),
    ({"weekday": "18:00-21:00", "weekend": "18:00-21:00", "slots": [{"name": "午间", "hours": "12:00-13:00"}]},
     "时间段“午间”（12:00-13:00）不在拨打时段内"),
    ({"workdays": "2025-10-01"}, "调休上班日：2025-10-01 是周三，本来就按工作日时段拨打"),
    ({"holidays": ["2025-10-04"]}, "节假日：2025-10-04 是周六，本来就按周末时段拨打"),
    ({"holidays": "2025-10-32"}, "“2025-10-32”不是日期"),
    ({"holidays": "10/01"}, "“10/01”不是日期"),
    ({"workdays": 20250928}, "调休上班日：须为日期列表"),
    ({"workdays": ["2025-09-27"] * 401}, "最多 400 个日期"),
])
def test_bad_schedule_settings_are_refused(raw, expect):
    with pytest.raises(Invalid) as err:
        parse_schedule(raw)
    assert expect in str(err.value), str(err.value)


def test_a_slot_must_lie_within_the_weekday_or_the_weekend_window():
    # a weekend-morning slot is fine: it fits the weekend window (weekdays never reach it)
    r = parse_schedule({"weekday": "18:00-21:00", "weekend": "09:00-21:00",
                        "slots": [{"name": "上午", "hours": "09:00-12:00"}, {"name": "晚上", "hours": "18:00-21:00"}]})
    assert [s.name for s in r.slots] == ["上午", "晚上"]
    # a day type without a window is open all day, so any slot fits
    assert parse_schedule({"weekday": "18:00-21:00", "slots": [{"name": "午间", "hours": "12:00-13:00"}]}).slots
    # a slot reaching past the window's end by one minute is refused, naming the slot, the row and the windows
    with pytest.raises(Invalid) as err:
        parse_schedule({"weekday": "18:00-21:00", "weekend": "18:00-21:00",
                        "slots": [{"name": "傍晚", "hours": "18:00-19:30"}, {"name": "深夜", "hours": "20:00-21:01"}]})
    assert [p.code for p in err.value.problems] == ["slot_outside"]
    assert "第 2 行" in str(err.value) and "深夜" in str(err.value) and "傍晚" not in str(err.value)
    # a broken window is reported once, not again for every slot
    with pytest.raises(Invalid) as err:
        parse_schedule({"weekday": "晚上", "weekend": "09:00-12:00", "slots": [{"name": "傍晚", "hours": "18:00-19:30"}]})
    assert [p.code for p in err.value.problems] == ["hours_format"]
    # rules stored before the check existed still schedule (the settings page refuses them at the next save)
    stored = {"schedule": {"weekday": "18:00-21:00", "weekend": "18:00-21:00",
                           "slots": [{"name": "午间", "hours": "12:00-13:00"}]}}
    assert scheduling.rules_from_settings(stored).slots[0].name == "午间"


# 2025-09-28 (Sun) and 2025-10-11 (Sat) were working days; 2025-10-01 .. 10-03 (Wed-Fri) holidays
TIAOXIU = {"weekday": "18:00-21:00", "weekend": "09:00-21:00", "workdays": "2025-09-28, 2025-10-11",
           "holidays": "2025-10-01\n2025-10-02，2025-10-03"}
SUN_WORK, SAT_WORK, WED_OFF = dt.date(2025, 9, 28), dt.date(2025, 10, 11), dt.date(2025, 10, 1)


def test_tiaoxiu_dates_swap_the_windows_with_a_fixed_clock():
    r = parse_schedule(TIAOXIU)
    new = [("C1", [])]
    assert r.workdays == {SUN_WORK, SAT_WORK} and len(r.holidays) == 3
    assert choose(r, new, at(SUN_WORK, "10:00")) is None  # a make-up workday: the weekday window
    assert choose(r, new, at(SUN_WORK, "18:30")).case_id == "C1"
    assert choose(r, new, at(SAT_WORK, "09:30")) is None
    assert choose(r, new, at(WED_OFF, "10:00")).case_id == "C1"  # a holiday: the weekend window
    assert choose(r, new, at(dt.date(2025, 10, 9), "10:00")) is None  # an ordinary Thursday
    assert choose(r, new, at(dt.date(2025, 10, 5), "10:00")).case_id == "C1"  # an ordinary Sunday
    assert scheduling.appointment_problem(r, at(WED_OFF, "10:00")) is None
    assert "不在拨打时段内" in scheduling.appointment_problem(r, at(SUN_WORK, "10:00"))
    assert "不在拨打时段内" in scheduling.closed_message(r, at(SUN_WORK, "10:00"))
    stored = r.to_settings()
    assert stored["workdays"] == ["2025-09-28", "2025-10-11"]
    assert stored["holidays"] == ["2025-10-01", "2025-10-02", "2025-10-03"]
    assert parse_schedule(stored) == r
    with pytest.raises(Invalid) as err:
        parse_schedule({**TIAOXIU, "holidays": "2025-10-01", "workdays": ["2025-10-01"]})
    assert "2025-10-01 是周三" in str(err.value)
    with pytest.raises(Invalid) as err:  # the same Saturday as a workday and (wrongly) a holiday
        parse_schedule({"workdays": ["2025-10-11"], "holidays": ["2025-10-11"]})
    assert "2025-10-11 是周六，本来就按周末时段拨打" in str(err.value)


def test_settings_round_trip_and_wide_dash():
    r = parse_schedule({"weekday": "18:30～21:00", "weekend": "", "busy_redial_minutes": "10",
                        "max_attempts": " 5 "})
    assert r.weekday == Window(dt.time(18, 30), dt.time(21)) and r.weekend is None
    assert parse_schedule(r.to_settings()) == r
    assert parse_schedule({"weekday": "09:00-24:00"}).callable_at(at(MON, "23:30"))


# --------------------------------------------------------------------------------------
# Through the store: next_case with an injected clock, record_attempt, the settings form
# --------------------------------------------------------------------------------------
@pytest.fixture
def sched(store, accounts, tmp_path):
    from survey.auth import SYSTEM
    from survey.fieldwork import assign_cases, import_cases
    from survey.wave_setup import current_settings, save_settings
    path = tmp_path / "cases.csv"
    path.write_text("case_id,unit,mode,phone\nC1,思明区,phone,13812345678\nC2,思明区,phone,13900001111\n"
                    "C3,湖里区,phone,13700002222\n", encoding="utf-8")
    import_cases(store, SYSTEM, path, "2025")
    assign_cases(store, SYSTEM, "2025", "p1", case_ids=["C1", "C2"])
    form = current_settings(store, "2025")
    from dataclasses import replace
    save_settings(store, SYSTEM, "2025", replace(form, schedule={
        "weekday": "18:00-21:00", "weekend": "09:00-21:00", "busy_redial_minutes": 15, "max_attempts": 2,
        "slots": [{"name": "傍晚", "hours": "18:00-19:30"}, {"name": "晚上", "hours": "19:30-21:00"}]}))
    return store


def test_next_case_follows_the_wave_rules_with_a_fixed_clock(sched, accounts):
    from survey.fieldwork import calling_closed_message, next_case, record_attempt
    store, p1 = sched, accounts["p1"]
    assert next_case(store, p1, "2025", clock=lambda: at(MON, "10:00")) is None  # outside the window
    assert "不在拨打时段内" in calling_closed_message(store, "2025", clock=lambda: at(MON, "10:00"))
    first = next_case(store, p1, "2025", clock=lambda: at(MON, "18:05"))
    assert (first["case_id"], first["reason"]) == ("C1", "new")
    record_attempt(store, p1, "C1", "忙音", at=at(MON, "18:05"))
    record_attempt(store, p1, "C2", "无人接听", at=at(MON, "18:06"))
    assert next_case(store, p1, "2025", clock=lambda: at(MON, "18:10")) is None  # busy waits, C2 waits for 晚上
    busy = next_case(store, p1, "2025", clock=lambda: at(MON, "18:20"))
    assert (busy["case_id"], busy["reason"]) == ("C1", "busy")
    retry = next_case(store, p1, "2025", at=at(MON, "19:35"))
    assert retry["case_id"] == "C1"  # busy redial first (due since 18:20), then C2
    record_attempt(store, p1, "C1", "无人接听", at=at(MON, "19:35"))  # second try = the limit of 2
    assert next_case(store, p1, "2025", at=at(MON, "19:40"))["case_id"] == "C2"
    with pytest.raises(Invalid) as err:
        record_attempt(store, p1, "C1", "无人接听", at=at(MON, "19:45"))
    assert err.value.code == "attempts_exhausted" and "最多拨打次数 2" in str(err.value)


def test_appointment_outside_window_refused_and_inside_outranks(sched, accounts):
    from survey.fieldwork import next_case, record_attempt
    store, p1 = sched, accounts["p1"]
    with pytest.raises(Invalid) as err:
        record_attempt(store, p1, "C2", "约定回访", callback_at=at(MON, "22:30"), at=at(MON, "18:10"))
    assert err.value.code == "appointment_outside_window" and "不在拨打时段内" in str(err.value)
    assert store.attempts("2025", case_ids=["C2"]) == []  # nothing written
    record_attempt(store, p1, "C2", "约定回访", callback_at=at(MON, "20:00"), at=at(MON, "18:10"))
    assert next_case(store, p1, "2025", at=at(MON, "19:00"))["case_id"] == "C1"  # C2 waits for 20:00
    due = next_case(store, p1, "2025", at=at(MON, "20:00"))
    assert (due["case_id"], due["reason"]) == ("C2", "callback")


def test_pool_claims_nothing_outside_the_window(sched, accounts):
    from survey.fieldwork import next_case
    store, p2 = sched, accounts["p2"]
    assert next_case(store, p2, "2025", pool=True, at=at(MON, "12:00")) is None
    assert all(c["pollster"] is None for c in store.cases("2025", case_ids=["C3"]))
    assert next_case(store, p2, "2025", pool=True, at=at(MON, "18:00"))["case_id"] == "C3"


def test_settings_form_refuses_bad_schedule_and_writes_nothing(sched):
    from dataclasses import replace

    from survey.auth import SYSTEM
    from survey.wave_setup import SetupError, current_settings, save_settings
    before = current_settings(sched, "2025")
    assert before.schedule["weekday"] == "18:00-21:00" and before.schedule["max_attempts"] == 2
    with pytest.raises(SetupError) as err:
        save_settings(sched, SYSTEM, "2025", replace(before, schedule={**before.schedule, "weekday": "晚上"},
                                                     backcheck_rate="0.2"))
    assert any("工作日拨打时段" in line for line in err.value.problems)
    assert current_settings(sched, "2025") == before


def test_tiaoxiu_through_the_store_with_a_fixed_clock(sched, accounts):
    from survey.auth import SYSTEM
    from survey.fieldwork import calling_closed_message, next_case, record_attempt
    from survey.wave_setup import save_schedule
    store, p1 = sched, accounts["p1"]
    save_schedule(store, SYSTEM, "2025", {"workdays": ["2025-09-28"], "holidays": "2025-10-01"})
    assert next_case(store, p1, "2025", clock=lambda: at(SUN_WORK, "10:00")) is None
    assert "工作日 18:00-21:00" in calling_closed_message(store, "2025", clock=lambda: at(SUN_WORK, "10:00"))
    assert next_case(store, p1, "2025", clock=lambda: at(SUN_WORK, "18:30"))["case_id"] == "C1"
    assert next_case(store, p1, "2025", clock=lambda: at(WED_OFF, "10:00"))["case_id"] == "C1"
    # an appointment on the holiday morning is inside its (weekend) window
    record_attempt(store, p1, "C2", "约定回访", callback_at=at(WED_OFF, "10:30"), at=at(dt.date(2025, 9, 30), "19:00"))
    with pytest.raises(Invalid) as err:
        record_attempt(store, p1, "C1", "约定回访", callback_at=at(dt.date(2025, 10, 9), "10:30"),
                       at=at(dt.date(2025, 9, 30), "19:05"))
    assert err.value.code == "appointment_outside_window"


def test_save_schedule_changes_the_given_keys_only_and_refuses_whole(sched):
    from survey.auth import SYSTEM
    from survey.wave_setup import SetupError, current_settings, save_schedule
    before = current_settings(sched, "2025").schedule
    rules = save_schedule(sched, SYSTEM, "2025", {"max_attempts": "4", "holidays": "2025-10-01"})
    after = current_settings(sched, "2025").schedule
    assert rules.max_attempts == 4 and after == {**before, "max_attempts": 4, "holidays": ["2025-10-01"]}
    audits = len(sched.audit_log())
    save_schedule(sched, SYSTEM, "2025", {"max_attempts": 4})  # the same again: nothing written
    assert len(sched.audit_log()) == audits
    with pytest.raises(SetupError) as err:
        save_schedule(sched, SYSTEM, "2025", {"weekday": "19:00-21:00", "weekend": "09:00-12:00",
                                             "max_attempts": 3})
    assert any("时间段“傍晚”（18:00-19:30）不在拨打时段内" in line for line in err.value.problems)
    assert current_settings(sched, "2025").schedule == after
