"""The analysis page on the demo appraisal wave: per type, rates with CIs, awareness, ranks."""
from __future__ import annotations

import pytest

from tests.test_app import app_as

pytestmark = pytest.mark.app


def test_demo_appraisal_wave_scored_on_the_analysis_page(store, accounts):
    from survey.bootstrap import questionnaire_for_wave
    from survey.config import XIAMEN_UNITS
    from survey.demo_appraisal import store_demo_appraisal
    store.add_wave("2025-评议", "appraisal-2025", list(XIAMEN_UNITS), "system")
    qn = questionnaire_for_wave(store, "2025-评议")
    store_demo_appraisal(store, "2025-评议", 900, 3, qn)
    at = app_as(store, "ana")
    at.switch_page("app_pages/analysis.py").run()
    at.selectbox(key="analysis_wave").select("2025-评议").run()
    assert not at.exception, at.exception
    assert any("未加权" in c.value for c in at.caption)
    departments = at.dataframe[0].value
    assert list(departments.columns[:4]) == ["排名", "单位", "得分", "满意率"]
    n_dept = sum(u.type == "department" for u in qn.rated_units)
    assert len(departments) == n_dept and sorted(departments["排名"]) == list(range(1, n_dept + 1))
    assert {"了解率", "排名区间（95%）", "低于门槛概率"} <= set(departments.columns)
    assert [tab.label for tab in at.tabs] == ["市直部门", "省属驻厦单位", "市属国有企业"]
    # the page's figures are the CLI's function on the same data
    from analysis.appraisal import RatedUnit
    from analysis.appraisal_scoring import load_appraisal_config, score_appraisal
    from survey.auth import SYSTEM
    from survey.config import SCORING_DIR
    from survey.responses import responses_frame
    run = score_appraisal(responses_frame(store, SYSTEM, "2025-评议"),
                          [RatedUnit(u.id, u.name, u.type) for u in qn.rated_units], None,
                          load_appraisal_config(SCORING_DIR / "appraisal.yaml"))
    expected = run.scores[run.scores["type"] == "department"]
    assert departments["得分"].tolist() == expected["points"].tolist()
    # the dimension items (履职成效, 信息公开) of every rated unit, estimated as the satisfaction is
    dims = next(d.value for d in at.dataframe if "履职成效" in d.value.columns)
    assert list(dims.columns) == [d.label for d in qn.unit_dimensions] and len(dims) == len(qn.rated_units)
    got = run.extra["dimensions"].set_index(["unit", "dimension"])["rate"]
    first = qn.rated_units[0]
    assert dims.loc[first.name, "履职成效"] == pytest.approx(100 * got[(first.id, "performance")])
    at.selectbox(key="appraisal_pop").select("xiamen-2020.csv").run()
    assert not at.exception and any("以区为层" in c.value for c in at.caption)


def test_paper_entry_asks_the_unit_blocks(store, accounts):
    """Paper keying of an appraisal form: awareness for every unit, the rating only when aware."""
    from survey.auth import SYSTEM, assign
    from survey.config import XIAMEN_UNITS
    store.add_wave("2025-评议", "appraisal-2025", list(XIAMEN_UNITS), "system")
    assign(store, SYSTEM, "p1", wave="2025-评议")
    at = app_as(store, "p1")
    at.switch_page("app_pages/paper_entry.py").run()
    at.selectbox(key="paper_wave").set_value("2025-评议").run()
    at.text_input(key="paper_id").input("XM-000777").run()
    at.selectbox(key="paper_unit").set_value("思明区")
    at.radio[0].set_value(1)
    at.radio[1].set_value(1)
    at.run()
    labels = [r.label for r in at.radio]
    assert "您是否了解或接触过市生态环境局？" in labels and "您对市生态环境局的工作是否满意？" not in labels
    for radio in at.radio:
        if radio.label.startswith("您是否了解或接触过"):
            radio.set_value(1 if "市生态环境局" in radio.label else 2)
    at.run()
    labels = [r.label for r in at.radio]
    assert "您对市生态环境局的工作是否满意？" in labels and "您对市水利局的工作是否满意？" not in labels
    assert not at.exception, at.exception
