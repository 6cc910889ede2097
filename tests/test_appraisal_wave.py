"""Appraisal waves on the collection side: questionnaire blocks, demo, export columns, QC flags."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from survey.questionnaire import QUESTIONNAIRE_DIR, QuestionnaireError, load, parse
from tests.conftest import ROOT

SAMPLE = QUESTIONNAIRE_DIR / "appraisal-2025.yaml"


def test_sample_questionnaire_generates_one_block_per_unit():
    qn = load(SAMPLE)
    assert qn.kind == "appraisal" and qn.example
    names = {u.name for u in qn.rated_units}
    assert {"市生态环境局", "市市政园林局", "市水利局", "市资源规划局"} <= names
    types = [u.type for u in qn.rated_units]
    assert 2 <= types.count("provincial") <= 3 and 2 <= types.count("soe") <= 3
    assert "EXAMPLE" in SAMPLE.read_text(encoding="utf-8")
    cols = qn.appraisal_columns()
    assert cols[:4] == ["eco_env_aware", "eco_env", "eco_env_performance", "eco_env_disclosure"]
    rating = qn.question("eco_env")
    assert rating.show_if.question == "eco_env_aware" and rating.show_if.in_ == [1]
    base = {"age18": 1, "resident": 1, "sex": "男", "age_group": "30-39", "education": "大专"}
    nobody = {f"{u.id}_aware": 2 for u in qn.rated_units}
    assert qn.check_answers(base | nobody) == []
    assert "eco_env: answered but skipped by show_if" in qn.check_answers(base | nobody | {"eco_env": 4})
    assert "eco_env: required" in qn.check_answers(base | nobody | {"eco_env_aware": 1})
    # the demographics come after the rated units
    ids = [q.id for q in qn.questions]
    assert ids.index("sex") > ids.index(cols[-1])


def test_appraisal_questionnaire_problems_are_named():
    raw = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    raw["rated_units"] = [{"id": "air", "name": "x", "type": "department"},
                          {"id": "a1", "name": "y", "type": "bureau"}]
    with pytest.raises(QuestionnaireError) as err:
        parse(raw, "q.yaml")
    text = "\n".join(err.value.problems)
    assert "rated_units.1.type" in text
    district = yaml.safe_load((QUESTIONNAIRE_DIR / "default-2025.yaml").read_text(encoding="utf-8"))
    district["rated_units"] = [{"id": "eco", "name": "市生态环境局", "type": "department"}]
    with pytest.raises(QuestionnaireError) as err:
        parse(district, "d.yaml")
    assert any("only a questionnaire of kind `appraisal`" in p for p in err.value.problems)


def test_demo_export_qc_and_score_end_to_end(store, tmp_path):
    """demo --kind appraisal -> export (csv with units file, labelled sav) -> QC flags -> analysis score."""
    import json
    import subprocess
    import sys

    import pyreadstat

    from survey.auth import SYSTEM
    from survey.bootstrap import questionnaire_for_wave
    from survey.config import XIAMEN_UNITS
    from survey.demo_appraisal import store_demo_appraisal
    from survey.exporting import export_wave
    from survey.quality import run_qc

    store.add_wave("A1", "appraisal-2025", list(XIAMEN_UNITS), "system")
    qn = questionnaire_for_wave(store, "A1")
    assert store_demo_appraisal(store, "A1", 600, 7, qn) == 600
    assert store_demo_appraisal(store, "A1", 600, 7, qn) == 0
    _, files = export_wave(store, SYSTEM, "A1", "csv", tmp_path / "a.csv")
    frame = pd.read_csv(files[0])
    units = pd.read_csv(tmp_path / "a.units.csv")
    assert list(units.columns) == ["id", "name", "type"] and len(units) == len(qn.rated_units)
    for uid in units["id"]:
        assert {f"{uid}_aware", uid} <= set(frame.columns)
        assert set(frame[f"{uid}_aware"].dropna()) <= {1, 2}
        assert frame.loc[frame[f"{uid}_aware"] == 2, uid].isna().all()
    assert (frame[[f"{u}_aware" for u in units["id"]]] == 2).to_numpy().mean() > 0.4  # 不了解 is common
    _, sav = export_wave(store, SYSTEM, "A1", "sav", tmp_path / "a.sav")
    _, meta = pyreadstat.read_sav(sav[0], metadataonly=True)
    assert meta.variable_value_labels["eco_env_aware"] == {1.0: "了解/接触过", 2.0: "不了解"}
    assert meta.column_names_to_labels["eco_env"] == "您对市生态环境局的工作是否满意？"
    flags = run_qc(store, SYSTEM, "A1").flags
    aware_all = {f["response_id"] for f in flags if f["flag"] == "aware_all"}
    every = frame[(frame[[f"{u}_aware" for u in units["id"]]] == 1).all(axis=1)]["response_id"]
    assert aware_all and aware_all == set(every)
    assert {f["response_id"] for f in flags if f["flag"] == "straightliner"} >= aware_all
    done = subprocess.run([sys.executable, "-m", "analysis", "score", str(files[0]), "--appraisal",
                           str(tmp_path / "a.units.csv"), "--config", str(ROOT / "data/scoring/appraisal.yaml"),
                           "--population", str(ROOT / "data/population/xiamen-2020.csv"), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "raked within the respondents' districts" in done.stderr
    assert len(json.loads(done.stdout)) == len(units)
