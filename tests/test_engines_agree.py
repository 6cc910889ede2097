"""The same demo on the engine under test and on a SQLite file: identical score JSON and result sha256.

On the PostgreSQL pass (SURVEY_TEST_DB set) this compares PostgreSQL with SQLite; on the
SQLite pass it still checks that a score run depends only on the stored data.
"""
from __future__ import annotations

import json

from analysis.io import read_population
from analysis.score_run import compute_score_run
from analysis.scoring import load_config
from survey.auth import SYSTEM
from survey.bootstrap import init_store
from survey.config import POPULATION_DIR, SCORING_DIR
from survey.demo import store_demo, store_demo_attempts
from survey.responses import exclusions_applied, responses_frame


def _score(store):
    store_demo(store, "2025", 400, 11)
    store_demo_attempts(store, "2025", 11)
    first = store.responses("2025")[0]["response_id"]
    store.set_exclusion(first, True, "engines test", "admin")
    frame = responses_frame(store, SYSTEM, "2025")
    run = compute_score_run(frame, read_population(POPULATION_DIR / "xiamen-2020.csv"),
                            load_config(SCORING_DIR / "default.yaml"), wave="2025",
                            exclusions=exclusions_applied(store, "2025"), source="store wave 2025")
    return json.dumps(run.to_json()["result"] if "result" in run.to_json() else run.to_json(),
                      ensure_ascii=False, sort_keys=True, default=str), run.record["result_hash"], len(frame)


def test_same_demo_gives_identical_scores_on_both_engines(db_file, tmp_path):
    under_test = init_store(db_file).store
    sqlite = init_store(tmp_path / "reference.db").store
    json_a, hash_a, n_a = _score(under_test)
    json_b, hash_b, n_b = _score(sqlite)
    assert n_a == n_b == 399
    assert hash_a == hash_b
    assert json_a == json_b
