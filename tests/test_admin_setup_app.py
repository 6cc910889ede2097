"""AppTests: the admin console pages (waves, settings, contact lists, population, scoring, questionnaires)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from survey import wave_setup
from survey.config import QUESTIONNAIRE_DIR
from tests.test_app import app_as

pytestmark = pytest.mark.app


def page(store, path: str) -> AppTest:
    at = app_as(store, "admin")
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def test_waves_page_creates_a_wave_and_refuses_a_bad_date_naming_the_field(store, accounts):
    at = page(store, "app_pages/admin_waves.py")
    assert at.title[0].value == "调查轮次"
    at.text_input(key="wave_name").input("2026-Q1")
    at.text_input(key="wave_opens").input("2026-02-30")
    at.button[0].click().run()
    assert "开始日期：“2026-02-30”不是有效日期" in errors(at) and store.wave("2026-Q1") is None
    at.text_input(key="wave_opens").input("2026-03-01")
    at.text_input(key="wave_closes").input("2026-03-31")
    at.button[0].click().run()
    assert not at.exception and not at.error, errors(at)
    w = store.wave("2026-Q1")
    assert (w["opens_at"], w["closes_at"], w["status"], w["questionnaire_id"]) == \
        ("2026-03-01", "2026-03-31", "open", "default-2025")
    table = at.dataframe[0].value
    assert list(table.columns)[:3] == ["调查轮次", "问卷版本", "状态"] and "开放" in set(table["状态"])


def test_waves_page_closes_a_wave_and_refuses_close_before_open(store, accounts):
    at = page(store, "app_pages/admin_waves.py")
    at.selectbox(key="wave_edit_id").set_value("2025").run()
    at.text_input(key="wave_e_opens").input("2025-10-31")
    at.text_input(key="wave_e_closes").input("2025-10-01")
    at.radio(key="wave_e_status").set_value("closed")
    at.button[1].click().run()
    assert "结束日期：结束日期早于开始日期" in errors(at) and store.wave("2025")["status"] == "open"
    at.text_input(key="wave_e_opens").input("")
    at.button[1].click().run()
    assert not at.error, errors(at)
    assert store.wave("2025")["status"] == "closed" and store.wave("2025")["closes_at"] == "2025-10-01"


def test_settings_page_refuses_bad_values_in_chinese_and_saves_good_ones(store, accounts):
    at = page(store, "app_pages/admin_settings.py")
    at.selectbox(key="settings_wave").set_value("2025").run()
    at.text_input(key="settings_2025_qc.speeder_ratio").input("1.5")
    at.text_input(key="settings_2025_web.min_seconds").input("abc")
    at.text_input(key="settings_2025_backcheck_rate").input("-1")
    at.button[0].click().run()
    text = errors(at)
    assert "过快判定比例（占中位时长）：须小于 1" in text
    assert "网络问卷最短作答时长（秒）：须为数字" in text
    assert "回访比例（0–1）：须大于 0" in text
    assert "Input should" not in text and "qc." not in text
    assert "qc" not in store.wave("2025")["settings"]  # nothing written
    at.text_input(key="settings_2025_qc.speeder_ratio").input("0.25")
    at.text_input(key="settings_2025_web.min_seconds").input("90")
    at.text_input(key="settings_2025_backcheck_rate").input("0.2")
    at.text_input(key="settings_2025_backcheck_seed").input("seed-1")
    at.checkbox(key="settings_2025_double").check()
    at.radio(key="settings_2025_action").set_value("stop")
    at.button[0].click().run()
    assert not at.error, errors(at)
    s = store.wave("2025")["settings"]
    assert s["qc"]["speeder_ratio"] == 0.25 and s["web"]["min_seconds"] == 90
    assert (s["backcheck_rate"], s["backcheck_seed"], s["double_entry"], s["quota_action"]) == \
        (0.2, "seed-1", True, "stop")


def test_save_settings_names_quota_rows_and_writes_nothing(store, accounts):
    form = wave_setup.current_settings(store, "2025")
    bad = wave_setup.WaveSettingsForm(**{**form.__dict__, "quotas": [
        {"unit": "思明区", "target": 100}, {"unit": "鼓浪屿", "target": 0}, {"unit": "思明区", "target": 50}]})
    with pytest.raises(wave_setup.SetupError) as err:
        wave_setup.save_settings(store, accounts["admin"], "2025", bad)
    assert "第 2 行 目标样本量：须大于 0" in err.value.problems
    with pytest.raises(wave_setup.SetupError) as err:
        wave_setup.save_settings(store, accounts["admin"], "2025", wave_setup.WaveSettingsForm(
            **{**form.__dict__, "quotas": [{"unit": "鼓浪屿", "target": 5}, {"unit": "思明区", "target": 5},
                                           {"unit": "思明区", "target": 6}]}))
    assert err.value.problems == ["第 1 行 区：“鼓浪屿”不是本轮的被评价区", "第 3 行 配额：与第 2 行是同一配额单元"]
    assert [(p.field, p.code) for p in err.value.problems] == [("quotas.unit", "not_a_unit"), ("quotas", "same_cell")]


def test_setup_refusals_are_invalid_with_a_field_and_code_per_problem(store, accounts):
    from common.errors import Invalid
    with pytest.raises(Invalid) as err:  # the common vocabulary: pages and the CLI catch Invalid
        wave_setup.create_wave(store, accounts["admin"], wave_setup.WaveForm(
            "bad name!", "default-2025", ("思明区", "思明区"), opens_at="2026-02-30"))
    assert isinstance(err.value, wave_setup.SetupError)
    assert [(p.field, p.code) for p in err.value.problems] == [
        ("name", "wave_name"), ("units", "duplicate_units"), ("opens_at", "not_a_date")]
    assert err.value.problems[2].startswith("开始日期：“2026-02-30”不是有效日期")
    with pytest.raises(Invalid) as err:
        wave_setup.check_scoring(b"name: x\nitems: [air\n", "broken.yaml")
    assert (err.value.field, err.value.code) == ("scoring", "yaml_error")
    assert "quotas" not in store.wave("2025")["settings"]


def test_backcheck_list_uses_the_wave_rate(store, accounts):
    from survey.backcheck import backcheck_list
    from survey.responses import submit_interview
    from tests.conftest import complete_answers
    for i in range(10):
        submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone", answers=complete_answers(),
                         submit_key=f"bc{i}")
    assert len(backcheck_list(store, accounts["sup"], "2025")) == 1
    form = wave_setup.current_settings(store, "2025")
    wave_setup.save_settings(store, accounts["admin"], "2025",
                             wave_setup.WaveSettingsForm(**{**form.__dict__, "backcheck_rate": "0.5"}))
    assert len(backcheck_list(store, accounts["sup"], "2025")) == 5


CONTACTS = ("case_id,unit,mode,phone,address\nC1,思明区,phone,13800001111,\nC2,思明区,phone,13800002222,\n"
            "C3,湖里区,door,,湖里区某路1号\nC4,湖里区,phone,13800004444,\n")


def test_contacts_page_lists_row_problems_then_imports_and_assigns(store, accounts):
    at = page(store, "app_pages/admin_contacts.py")
    at.selectbox(key="contacts_wave").set_value("2025").run()
    bad = CONTACTS + "C5,鼓浪屿,phone,13800005555,\n"
    imported = wave_setup.import_contact_list
    with pytest.raises(Exception) as err:
        imported(store, accounts["admin"], "2025", bad.encode(), "名单.csv")
    assert any("row 6" in p and "鼓浪屿" in p for p in err.value.problems)
    assert "/tmp" not in "\n".join(err.value.problems)
    assert imported(store, accounts["admin"], "2025", CONTACTS.encode("gbk"), "名单.csv") == 4
    at.run()
    summary = at.dataframe[0].value
    assert list(summary.columns) == ["区", "访问方式", "访问员", "样本数"] and set(summary["访问员"]) == {"（未分派）"}
    assert set(summary["访问方式"]) == {"电话", "入户"}
    at.radio(key="assign_how").set_value("even").run()
    at.multiselect(key="assign_pollsters").set_value(["p1", "p2"])
    at.button[0].click().run()
    assert not at.exception and not at.error, errors(at)
    got = {c["case_id"]: c["pollster"] for c in store.cases("2025")}
    assert got == {"C1": "p1", "C2": "p2", "C3": "p1", "C4": "p2"}


def test_contacts_page_assigns_by_list_and_by_unit(store, accounts):
    wave_setup.import_contact_list(store, accounts["admin"], "2025", CONTACTS.encode(), "c.csv")
    at = page(store, "app_pages/admin_contacts.py")
    at.selectbox(key="contacts_wave").set_value("2025").run()
    at.radio(key="assign_how").set_value("list").run()
    at.selectbox(key="assign_pollster").set_value("p2")
    at.text_area(key="assign_ids").input("C4，C9")
    at.button[0].click().run()
    assert "C9" in errors(at) and all(c["pollster"] is None for c in store.cases("2025"))
    at.text_area(key="assign_ids").input("C4")
    at.button[0].click().run()
    at.radio(key="assign_how").set_value("unit").run()
    at.selectbox(key="assign_pollster").set_value("p1")
    at.selectbox(key="assign_unit_unit").set_value("思明区")
    at.button[0].click().run()
    assert not at.error, errors(at)
    got = {c["case_id"]: c["pollster"] for c in store.cases("2025")}
    assert got == {"C1": "p1", "C2": "p1", "C3": None, "C4": "p2"}


def test_population_page_checks_and_chooses_a_file_per_wave(store, accounts):
    at = page(store, "app_pages/admin_population.py")
    at.selectbox(key="population_wave").set_value("2025").run()
    assert "检查通过" in at.success[0].value
    at.button(key="population_choose").click().run()
    assert not at.error, errors(at)
    chosen = wave_setup.chosen_file(store, "2025", "population")
    assert chosen.name == "xiamen-2020.csv" and len(chosen.sha256) == 64
    assert wave_setup.chosen_population(store, "2025")["population"].sum() > 1e6
    with pytest.raises(wave_setup.SetupError) as err:
        wave_setup.choose_population(store, accounts["admin"], "2025",
                                     "unit,variable,category,population\n思明区,sex,男,-5\n".encode(), "p.csv")
    assert any("negative" in p for p in err.value.problems) or any("缺少本轮被评价区" in p for p in err.value.problems)
    assert wave_setup.chosen_file(store, "2025", "population").name == "xiamen-2020.csv"


def test_scoring_page_views_validates_and_chooses_a_config(store, accounts):
    at = page(store, "app_pages/admin_scoring.py")
    at.selectbox(key="scoring_wave").set_value("2025").run()
    at.radio(key="scoring_source").set_value("default.yaml").run()
    assert "方案 default 检查通过" in at.success[-1].value
    items = at.dataframe[1].value
    assert list(items.columns) == ["分项", "权重"] and "空气质量" in set(items["分项"])
    at.button(key="scoring_choose").click().run()
    assert wave_setup.chosen_file(store, "2025", "scoring").name == "default.yaml"
    with pytest.raises(wave_setup.SetupError) as err:
        wave_setup.check_scoring(b"name: x\nitems: [air]\nfull_points: -1\n", "bad.yaml")
    assert any("full_points" in p for p in err.value.problems)
    with pytest.raises(wave_setup.SetupError) as err:
        wave_setup.check_scoring(b"name: x\nitems: [air\n", "broken.yaml")
    assert "第 3 行" in err.value.problems[0] or "第 2 行" in err.value.problems[0]


def test_questionnaire_upload_reports_file_lines_and_registers_a_version(store, accounts):
    text = (QUESTIONNAIRE_DIR / "default-2025.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    scale_line = next(i for i, line in enumerate(lines, start=1) if "scale:" in line and "satisfaction" in line)
    broken = "\n".join(line.replace("satisfaction", "nosuchscale") if i == scale_line else line
                       for i, line in enumerate(lines, start=1))
    from survey.questionnaire import QuestionnaireError
    with pytest.raises(QuestionnaireError) as err:
        wave_setup.register_questionnaire_upload(store, accounts["admin"], broken.encode(), "q.yaml")
    first = err.value.problems[0]
    assert first.startswith("q.yaml:") and "nosuchscale" in first
    line_no = int(first.split(":")[1])
    assert abs(line_no - scale_line) <= 3, (first, scale_line)
    renamed = text.replace("id: default-2025", "id: default-2026", 1)
    qn, created = wave_setup.register_questionnaire_upload(store, accounts["admin"], renamed.encode(), "new.yaml")
    assert created and qn.id == "default-2026" and store.questionnaire_spec("default-2026")
    at = page(store, "app_pages/admin_questionnaires.py")
    assert "default-2026" in set(at.dataframe[0].value["问卷版本"])
    at.selectbox(key="qn_preview").set_value("default-2025").run()
    assert not at.exception
    labels = [r.label for r in at.radio]
    assert any("空气" in x for x in labels)
    door = at.radio(key="qn_preview_mode").set_value("door").run()
    assert not door.exception and any("空气" in r.label for r in door.radio)
    at.radio(key="qn_preview_mode").set_value("web").run()
    at.slider(key="preview_default-2025_screen").set_value(2).run()
    assert not at.exception
    assert store.count_responses() == 0


def test_every_admin_page_opens_in_english_without_chinese_setup_text(store, accounts):
    for path in ("app_pages/admin_waves.py", "app_pages/admin_settings.py", "app_pages/admin_contacts.py",
                 "app_pages/admin_population.py", "app_pages/admin_scoring.py", "app_pages/admin_questionnaires.py"):
        at = app_as(store, "admin")
        at.session_state["lang"] = "en"
        at.switch_page(path).run()
        assert not at.exception, (path, at.exception)
        assert all(not any("\u4e00" <= ch <= "\u9fff" for ch in t.value) for t in at.title), path


def test_analysis_page_offers_the_files_chosen_for_the_wave_first(store, accounts):
    from survey.config import POPULATION_DIR, SCORING_DIR
    wave_setup.choose_scoring(store, accounts["admin"], "2025", (SCORING_DIR / "banded.yaml").read_bytes(), "banded.yaml")
    wave_setup.choose_population(store, accounts["admin"], "2025",
                                 (POPULATION_DIR / "xiamen-2020.csv").read_bytes(), "本地人口.csv")
    at = app_as(store, "ana")
    at.switch_page("app_pages/analysis.py").run()
    assert not at.exception, at.exception
    shown = {s.label: s.format_func(s.value) for s in at.selectbox}
    assert shown["人口边际数据"] == "本轮选定：本地人口.csv" and shown["计分方案"] == "本轮选定：banded.yaml", shown


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_qc_and_web_setting_has_a_label_in_the_catalog(lang):
    """The settings page labels each QC and web field from the catalog; a field without one showed its key."""
    from survey.quality import QCSettings
    names = [f"qc.{n}" for n in QCSettings.model_fields] + [f"web.{n}" for n in wave_setup.WebLimits.model_fields]
    unlabelled = [n for n in names if wave_setup.field_label(n, lang) == n]
    assert unlabelled == []
