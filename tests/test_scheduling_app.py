"""AppTests of issue 17 points 1, 2, 5: the schedule and 异地交叉 in the settings page, the home district on
the accounts page, the calling screen outside the window, number cells in the supervisor's quota view."""
from __future__ import annotations

import datetime as dt

import pytest

from survey import fieldwork, quotas
from survey.auth import SYSTEM, load_account
from tests.test_app import app_as

pytestmark = pytest.mark.app


def errors(at) -> str:
    return "\n".join(e.value for e in at.error)


def page(store, path: str, who: str = "admin"):
    at = app_as(store, who)
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def test_settings_page_edits_the_schedule_and_cross_district(store, accounts):
    at = page(store, "app_pages/admin_settings.py")
    at.selectbox(key="settings_wave").set_value("2025").run()
    at.text_input(key="settings_2025_weekday").input("晚上六点")
    at.text_input(key="settings_2025_max_attempts").input("0")
    at.text_area(key="settings_2025_workdays").input("2025-10-01")
    at.button[0].click().run()
    text = errors(at)
    assert "工作日拨打时段：“晚上六点”不是时段" in text and "每个样本最多拨打次数：须在 1 到 50 之间" in text
    assert "调休上班日：2025-10-01 是周三，本来就按工作日时段拨打" in text
    assert "schedule" not in store.wave("2025")["settings"]  # nothing written
    at.text_input(key="settings_2025_weekday").input("18:00-21:00")
    at.text_input(key="settings_2025_weekend").input("09:00-21:00")
    at.text_input(key="settings_2025_max_attempts").input("5")
    at.text_input(key="settings_2025_busy").input("20")
    at.checkbox(key="settings_2025_cross").check()
    at.text_area(key="settings_2025_workdays").input("2025-09-28\n2025-10-11")
    at.text_area(key="settings_2025_holidays").input("2025-10-01, 2025-10-02")
    at.button[0].click().run()
    assert not at.error, errors(at)
    s = store.wave("2025")["settings"]
    assert s["schedule"] == {"weekday": "18:00-21:00", "weekend": "09:00-21:00", "slots": [],
                             "busy_redial_minutes": 20, "max_attempts": 5,
                             "workdays": ["2025-09-28", "2025-10-11"], "holidays": ["2025-10-01", "2025-10-02"]}
    again = page(store, "app_pages/admin_settings.py")  # a new visit shows the stored dates, one a line
    again.selectbox(key="settings_wave").set_value("2025").run()
    assert again.text_area(key="settings_2025_holidays").value == "2025-10-01\n2025-10-02"
    assert s["cross_district"] is True
    assert [c.key for c in at.data_editor][:2] == ["settings_2025_quotas", "settings_2025_slots"]


def test_accounts_page_sets_a_home_district(store, accounts):
    at = page(store, "app_pages/admin_accounts.py")
    at.selectbox(key="home_who").set_value("p1")
    at.text_input(key="home_district").input("区" * 41)
    submit = next(i for i, b in enumerate(at.button) if b.label == "保存所在区")
    at.button[submit].click().run()
    assert "所在区须为" in errors(at) and load_account(store, "p1").home_district is None
    at.text_input(key="home_district").input("思明区")
    at.button[submit].click().run()
    assert not at.error, errors(at)
    assert load_account(store, "p1").home_district == "思明区"
    listed = at.dataframe[0].value
    assert listed.set_index("用户名").loc["p1", "所在区（异地交叉用）"] == "思明区"


def test_calling_screen_says_when_the_window_is_shut(store, accounts, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("case_id,unit,mode,phone\nC1,思明区,phone,13800138001\n", encoding="utf-8")
    fieldwork.import_cases(store, SYSTEM, path, "2025")
    fieldwork.assign_cases(store, SYSTEM, "2025", "p1", case_ids=["C1"])
    shut = "01:00-01:30" if dt.datetime.now().hour >= 12 else "23:00-23:30"  # a window that excludes now
    w = store.wave("2025")
    store.update_wave("2025", "test", settings={**w["settings"], "schedule": {"weekday": shut, "weekend": shut}})
    at = app_as(store, "p1")
    assert not at.exception
    info = " ".join(i.value for i in at.info)
    assert "不在拨打时段内" in info and shut in info
    assert "cati_dial" not in [b.key for b in at.button]


def test_supervisor_quota_view_shows_number_cells(store, accounts):
    quotas.set_quotas(store, SYSTEM, "2025", [{"unit": "思明区", "line_type": "mobile", "prefix": "138",
                                               "target": 10}])
    from survey.responses import submit_interview
    from tests.conftest import complete_answers
    submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone", answers=complete_answers(),
                     submit_key="one")  # the progress tab needs a complete to show
    at = page(store, "app_pages/supervisor_progress.py", "sup")
    cells = [df.value for df in at.dataframe if "配额单元" in " ".join(map(str, df.value.columns))
             or any("手机" in str(v) for v in df.value.to_numpy().ravel())]
    assert cells, [list(df.value.columns) for df in at.dataframe]
    assert any("手机 × 138" in str(v) for v in cells[0].to_numpy().ravel())
