"""Build survey.db with the single-file store of commit f335e39 (sqlite_utils, before survey/storage/).

Run from a checkout of that commit, with sqlite-utils 3.x importable:
    git worktree add --detach /tmp/old f335e39
    cd /tmp/old && SURVEY_SECRET_KEY=old-store-fixture python /path/to/make.py OUT_DIR
    sqlite3 OUT_DIR/survey.db 'PRAGMA journal_mode=DELETE; VACUUM' && gzip -9 OUT_DIR/survey.db
Every table gets rows, so tests/test_store.py can check that the current code opens the
file, upgrades it and keeps each row. The contact key is the passphrase above (test data only).
"""
from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

out = Path(sys.argv[1]).resolve()
out.mkdir(parents=True, exist_ok=True)
db = out / "survey.db"
os.environ["SURVEY_DB"] = str(db)
os.environ["SURVEY_ADMIN_PASSWORD"] = "old-admin-pass-1"
sys.path.insert(0, os.getcwd())

from survey.cli import main  # noqa: E402

assert main(["demo", "--n", "400", "--seed", "4"]) == 0
cases = out / "cases.csv"
with cases.open("w", encoding="utf-8", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["case_id", "unit", "mode", "phone", "address", "age_band"])
    for i in range(6):
        w.writerow([f"C{i}", "思明区" if i % 2 else "湖里区", "phone", f"1381234{i:04d}", "", "40-49"])
assert main(["cases", "import", str(cases), "--wave", "2025"]) == 0
cases.unlink()
assert main(["tokens", "--wave", "2025", "--unit", "思明区", "--n", "3", "--out", str(out / "tokens.csv")]) == 0
(out / "tokens.csv").unlink()
assert main(["link", "add", "--wave", "2025", "--unit", "湖里区"]) == 0

from survey import backcheck, drafts, fieldwork, paper, quality, responses, webform  # noqa: E402
from survey.auth import load_account  # noqa: E402
from survey.store import Store  # noqa: E402

store = Store(db)
admin, pollster = load_account(store, "admin"), load_account(store, "P01")
answers = {"age18": 1, "resident": 1, "air": 4, "water": 5, "sea": 9, "noise": 3, "waste": 4, "greenery": 5,
           "rural": 4, "enforcement": 3, "publicity": 4, "overall": 4, "change": 3, "sex": "女",
           "age_group": "40-49", "education": "大专"}
fieldwork.assign_cases(store, admin, "2025", "P01", case_ids=["C0", "C1", "C2"])
case = fieldwork.next_case(store, pollster, "2025")
fieldwork.record_attempt(store, pollster, case["case_id"], "无人接听", wave="2025", attempt_key="old-a1")
drafts.start_draft(store, pollster, "phone", wave="2025", unit="思明区", mode="phone", case_id="C1",
                   answers={"air": 3})
paper.key_paper(store, admin, "2025", "P-001", unit="思明区", answers=answers, entry_key="old-e1",
                double_entry=True)
rid = store.responses("2025")[0]["response_id"]
responses.set_excluded(store, admin, rid, True, "old-store fixture: an exclusion")
backcheck.record_backcheck(store, admin, store.responses("2025")[1]["response_id"], "confirmed", "old")
token = store.web_tokens("2025")[0]["token"]
visitor = webform.Visitor("d" * 32, "10.0.0.9", "Mozilla/5.0 (iPhone)")
draft = webform.open_survey(store, visitor, token=token)
webform.submit(store, draft.draft_id, answers, visitor)
quality.run_qc(store, admin, "2025")
from analysis.io import read_population  # noqa: E402
from analysis.scoring import load_config  # noqa: E402
from survey import publishing  # noqa: E402
from survey.config import POPULATION_DIR, SCORING_DIR  # noqa: E402
analyst = load_account(store, "analyst")
run = publishing.compute_for_wave(store, analyst, "2025", read_population(POPULATION_DIR / "xiamen-2020.csv"),
                                  load_config(SCORING_DIR / "default.yaml"))
publishing.publish(store, analyst, run)
store.close()
print("tables:", {t: Store(db).query(f"SELECT count(*) AS n FROM {t}")[0]["n"]
                  for t in sorted(r["name"] for r in Store(db).query(
                      "SELECT name FROM sqlite_master WHERE type = 'table'"))})
