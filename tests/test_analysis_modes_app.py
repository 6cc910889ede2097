"""Analysis page (AppTest): the mode mix note, the item × mode table with the mode differences,
the extreme-weight warning, and a score without population margins that says `未加权`."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from survey.auth import load_account
from tests.conftest import ROOT

pytestmark = pytest.mark.app


def test_mode_table_differences_and_unweighted_choice(store, accounts):
    from survey import wave_setup
    from survey.auth import SYSTEM
    from survey.config import SCORING_DIR
    from survey.demo import store_demo
    store_demo(store, "2025", 900, 4)
    text = (SCORING_DIR / "default.yaml").read_text(encoding="utf-8").replace(
        "warnings: {min_n_valid: 100, max_margin_points: 5}",
        "warnings: {min_n_valid: 100, max_margin_points: 5, max_weight_ratio: 1.5}")
    assert "max_weight_ratio: 1.5" in text
    wave_setup.choose_scoring(store, SYSTEM, "2025", text.encode("utf-8"), "strict.yaml")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90)
    at.session_state["account"] = load_account(store, "ana")
    at.run()
    at.switch_page("app_pages/analysis.py").run()
    assert not at.exception, at.exception
    notes = [m.value for m in [*at.warning, *at.caption]]
    assert any("访问方式构成" in n for n in notes)
    frames = [d.value for d in at.dataframe]
    diffs = next(f for f in frames if "方式比较（甲 − 乙）" in f.columns)
    assert {"标准误", "p 值"} <= set(diffs.columns) and len(diffs) > 0 and (diffs["标准误"] > 0).all()
    assert any("−" in v for v in diffs["方式比较（甲 − 乙）"])
    by_mode = next(f for f in frames if "综合满意率" in f.index)  # the item × mode table of one unit
    assert by_mode.shape[1] >= 2
    # weights above 1.5 × the unit mean (the wave's config): named per unit, in Chinese
    assert any(w.value.startswith("极端权重") and "1.5 倍" in w.value for w in at.warning)
    # another unit: the tables follow the choice
    units = at.selectbox(key="mode_unit").options
    at.selectbox(key="mode_unit").select(units[-1]).run()
    assert not at.exception
    # no population margins: unweighted, and the page says so
    pop = next(s for s in at.selectbox if "不加权（无人口边际）" in s.options)
    pop.select("__none__").run()
    assert not at.exception, at.exception
    assert any("未加权" in w.value for w in at.warning)
