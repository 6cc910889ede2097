"""Raking against R's reference weights, its properties, and every bad-input message."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.io import read_population, read_responses
from analysis.weighting import rake
from tests.analysis_support import reference_dir, require_shared_reference, synthetic

REF = reference_dir()


@pytest.fixture(scope="module")
def reference():
    require_shared_reference()
    return read_responses(REF / "responses_2000.csv"), read_population(REF / "population.csv")


def test_weights_equal_r_survey_rake(reference):
    responses, population = reference
    weights, diag = rake(responses, population)
    expected = pd.read_csv(REF / "r_weights.csv").set_index("response_id")["weight"]
    got = pd.Series(weights.to_numpy(), index=responses["response_id"])
    np.testing.assert_allclose(got.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-6)
    assert list(diag.columns[:11]) == ["unit", "n", "sum_w", "min_w", "max_w", "max_min_ratio", "cv", "deff_w",
                                       "n_eff_w", "sweeps", "max_margin_error"]
    assert diag["n"].sum() == 2000


def margins_hold(responses, population, weights, variables, tol=1e-6):
    frame = responses.assign(w=weights)
    for var in variables:
        got = frame.groupby(["unit", var])["w"].sum()
        pop = population[population["variable"] == var].set_index(["unit", "category"])["population"]
        totals = population[population["variable"] == variables[0]].groupby("unit")["population"].sum()
        for (u, c), target in pop.items():
            assert abs(got.get((u, c), 0.0) - target) <= tol * totals[u], (u, var, c)


def test_education_as_third_margin_and_unequal_units():
    responses, population = synthetic(3, {"A": 150, "B": 420, "C": 90})
    variables = ["sex", "age_group", "education"]
    weights, diag = rake(responses, population, variables)
    margins_hold(responses, population, weights, variables)
    assert diag.set_index("unit").loc["C", "n"] == 90


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 1000), shuffle_seed=st.integers(0, 1000))
def test_properties_margins_order_and_scale(seed, scale, shuffle_seed):
    responses, population = synthetic(seed, {"A": 80, "B": 120})
    weights, _ = rake(responses, population)
    margins_hold(responses, population, weights, ["sex", "age_group"])
    # row order does not matter
    order = np.random.default_rng(shuffle_seed).permutation(len(responses))
    shuffled = responses.iloc[order]
    w2, _ = rake(shuffled, population)
    np.testing.assert_allclose(w2.loc[responses.index].to_numpy(), weights.to_numpy(), rtol=1e-9)
    # a constant base weight within a unit does not change the result
    base = np.where(responses["unit"] == "A", scale, 1.0)
    w3, _ = rake(responses, population, base_weight=base)
    np.testing.assert_allclose(w3.to_numpy(), weights.to_numpy(), rtol=1e-8)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_bounds_hold_with_margins(seed):
    responses, population = synthetic(seed, {"A": 150, "B": 200})
    lo, hi = 0.4, 2.5
    try:
        weights, _ = rake(responses, population, bounds=(lo, hi))
    except InputError as err:  # allowed only with a message naming the binding bound
        assert all("bound" in p for p in err.problems)
        return
    ratio = weights / weights.groupby(responses["unit"]).transform("mean")
    assert ratio.min() >= lo * (1 - 1e-8) and ratio.max() <= hi * (1 + 1e-8)
    margins_hold(responses, population, weights, ["sex", "age_group"])


def test_infeasible_bounds_say_which_bound_binds(reference):
    responses, population = reference
    with pytest.raises(InputError, match="upper bound 1.2 binds"):
        rake(responses, population, bounds=(0.9, 1.2))


def problems(responses, population, **kw) -> list[str]:
    with pytest.raises(InputError) as err:
        rake(responses, population, **kw)
    return err.value.problems


def test_every_bad_input_is_listed_before_computing(reference):
    responses, population = reference
    resp = responses.copy()
    resp.loc[0, "age_group"] = "70+"                       # category without population row
    resp.loc[1, "sex"] = np.nan                            # missing raking variable
    resp.loc[resp["unit"] == "翔安区", "age_group"] = resp.loc[resp["unit"] == "翔安区", "age_group"].replace(
        "60+", "50-59")                                    # population category without respondents
    pop = population.copy()
    pop.loc[(pop["unit"] == "湖里区") & (pop["category"] == "男"), "population"] *= 1.01  # totals disagree
    pop = pd.concat([pop, pd.DataFrame([{"unit": "金门", "variable": "sex", "category": "男", "population": 1.0},
                                        {"unit": "金门", "variable": "age_group", "category": "60+",
                                         "population": 1.0}])])
    found = problems(resp, pop)
    text = "\n".join(found)
    row0 = resp.loc[0]
    assert f"unit {row0['unit']}, variable age_group, category 70+: respondents but no population row" in text
    assert f"response(s) without `sex`: {resp.loc[1, 'response_id']}" in text
    assert "unit 翔安区, variable age_group, category 60+: population" in text and "collapse 60+ with 50-59" in text
    assert "unit 湖里区: margins have different totals" in text
    assert "unit 金门: has population margins but no respondents" in text
    assert len(found) >= 5


def test_missing_responses_can_be_dropped_with_a_count(reference):
    responses, population = reference
    resp = responses.copy()
    resp.loc[[3, 4], "sex"] = np.nan
    weights, diag = rake(resp, population, drop_missing=True)
    assert weights.isna().sum() == 2 and diag["dropped"].sum() == 2


def test_population_file_errors_name_the_line(tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text("unit,variable,category,population\nA,sex,M,abc\nA,sex,F,-5\nA,age_group,18-29,\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_population(path)
    assert err.value.problems == ["pop.csv: line 2 (A, sex, M): population `abc` is not a number",
                                  "pop.csv: line 3 (A, sex, F): population -5 is negative",
                                  "pop.csv: line 4 (A, age_group, 18-29): population is missing"]
    unknown = problems(pd.DataFrame({"response_id": ["x"], "unit": ["A"], "sex": ["M"], "age_group": ["18-29"]}),
                       pd.DataFrame({"unit": ["A"], "variable": ["sex"], "category": ["M"], "population": [5.0]}))
    assert "population: no margins for variable `age_group` (the file has: sex)" in unknown
