"""Tamper evidence (issue 16, finding 5): chained audit, exclusions and publications; `verify` and `publish`.

Each test alters the store the way someone holding the file would: raw SQL, with the
append-only triggers dropped where they stand in the way.
"""
from __future__ import annotations

import json

import pytest

from analysis.io import read_population
from analysis.scoring import load_config
from survey.config import POPULATION_DIR, SCORING_DIR
from survey.storage.chain import row_hash

POP = POPULATION_DIR / "xiamen-2020.csv"
CFG = SCORING_DIR / "default.yaml"


@pytest.fixture
def published(store, accounts):
    """A demo wave with one exclusion and one publication."""
    from survey import publishing
    from survey.demo import store_demo
    from survey.responses import set_excluded
    store_demo(store, "2025", 300, 3)
    ana = accounts["ana"]
    set_excluded(store, ana, store.responses("2025")[0]["response_id"], True, "复核不合格")
    run = publishing.compute_for_wave(store, ana, "2025", read_population(POP), load_config(CFG))
    return publishing.publish(store, ana, run)


def drop_trigger(store, table: str, event: str) -> None:
    on = f" ON {table}" if store.dialect == "postgresql" else ""
    store.db.execute(f"DROP TRIGGER {table}_no_{event}{on}")


def verify_cli(capsys, *args: str) -> tuple[int, str, str]:
    from survey.cli import main
    code = main(["verify", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_an_honest_store_verifies_and_the_tables_refuse_changes(store, accounts, published, capsys):
    from survey.integrity import verify_store
    report = verify_store(store, accounts["ana"])
    assert report.ok and [c.table for c in report.chains] == ["audit", "exclusions", "published_scores"]
    assert report.chains[1].rows == 1 and report.publications[0].ok and report.publications[0].snapshot
    for sql in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit", "UPDATE exclusions SET reason = 'x'",
                "DELETE FROM exclusions", "UPDATE published_scores SET result = '[]'", "DELETE FROM published_scores"):
        with pytest.raises(Exception, match="immutable"):
            store.db.execute(sql)
    code, out, err = verify_cli(capsys)
    assert code == 0 and err == "" and "全部核验通过" in out and "publication #1" in out


def test_an_altered_audit_row_and_a_deleted_exclusion_are_named(store, accounts, published, capsys):
    from survey.responses import set_excluded
    rid = store.responses("2025")[1]["response_id"]
    set_excluded(store, accounts["ana"], rid, True, "重复")
    first, second = [r["id"] for r in store.db.query("SELECT id FROM exclusions ORDER BY id")]
    drop_trigger(store, "audit", "update")
    victim = store.db.scalar("SELECT min(id) FROM audit WHERE action = 'exclude'")
    store.db.execute("UPDATE audit SET detail = ? WHERE id = ?", ['{"reason": "随便"}', victim])
    drop_trigger(store, "exclusions", "delete")
    store.db.execute("DELETE FROM exclusions WHERE id = ?", [first])
    code, _, err = verify_cli(capsys)
    assert code == 1
    assert f"audit 链断裂：第 {victim} 行内容已被改动" in err and f"audit chain broken: row {victim} was altered" in err
    assert f"exclusions chain broken: row {second} does not link" in err
    # the publication pinned the exclusion chain's head: it is gone as well
    assert f"publication #{published}: row {first} of exclusions it recorded is gone" in err


def test_an_edited_published_score_is_caught_by_recomputation_even_with_its_hashes_forged(
        store, accounts, published, capsys):
    from analysis.score_run import result_hash
    from survey.integrity import verify_store
    original = store.db.query("SELECT * FROM published_scores WHERE id = ?", [published])[0]
    pub = store.published_score(published)
    result = pub["result"]
    unit = result[0]["unit"]
    result[0]["points"] = round((result[0]["points"] or 0) + 1.5, 2)
    rec = pub["record"]
    forged = result_hash(rec["config_hash"], pub["data_hash"], rec["population_hash"], result)
    row = {**original, "result": json.dumps(result, ensure_ascii=False, sort_keys=True), "result_hash": forged}
    drop_trigger(store, "published_scores", "update")
    store.db.execute("UPDATE published_scores SET result = ?, result_hash = ?, row_hash = ? WHERE id = ?",
                     [row["result"], forged, row_hash("published_scores", row, row["prev_hash"]), published])
    report = verify_store(store, accounts["ana"])
    assert all(c.intact for c in report.chains)  # the forger re-hashed the chain: only recomputing finds it
    check = report.publications[0]
    assert check.problem == "figures_differ" and check.detail["unit"] == unit and check.detail["field"] == "points"
    code, _, err = verify_cli(capsys, "--wave", "2025")
    assert code == 1 and f"发布 #{published}（轮次 2025，方案 default）：数据相同但重算得分不同（{unit} points" in err
    # a figure edited without its hash is named as such
    store.db.execute("UPDATE published_scores SET result_hash = ? WHERE id = ?", [original["result_hash"], published])
    assert verify_store(store, accounts["ana"]).publications[0].problem == "figures_altered"
    # back as published, then a response of its snapshot edited in the table (responses are not chained)
    store.db.execute("UPDATE published_scores SET result = ?, row_hash = ? WHERE id = ?",
                     [original["result"], original["row_hash"], published])
    assert verify_store(store, accounts["ana"]).ok
    rid = sorted(pub["snapshot"]["response_ids"])[5]
    answers = store.response(rid)["answers"]
    answers.update({k: 1 for k in ("air", "water", "noise", "waste", "greenery", "overall")})
    store.db.execute("UPDATE responses SET answers = ? WHERE response_id = ?",
                     [json.dumps(answers, ensure_ascii=False, sort_keys=True), rid])
    code, _, err = verify_cli(capsys)
    assert code == 1 and f"publication #{published} (wave 2025, config default): the responses it scored have changed" in err


def test_publish_cli_publishes_once(store, capsys):
    from survey.cli import main
    from survey.demo import store_demo
    store_demo(store, "2025", 200, 2)
    args = ["publish", "--wave", "2025", "--population", str(POP), "--config", str(CFG), "--json"]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "已发布：#1（轮次 2025" in out.err and json.loads(out.out)[0]["unit"]
    assert main(args) == 0 and "未重复发布" in capsys.readouterr().err
    assert len(store.published_scores("2025")) == 1
    assert main(["publish", "--wave", "2099", "--population", str(POP), "--config", str(CFG)]) == 2


def test_a_store_from_before_the_chains_is_hashed_on_upgrade(db_file):
    from survey.store import Store
    old = Store(db_file, upto="0800_qc_flags")
    from survey.bootstrap import init_store
    old.db.execute("INSERT INTO audit (at, actor, action, entity, entity_id, detail) VALUES "
                   "('2025-01-01T00:00:00', 'a', 'x', 'wave', '1', '{}')")
    old.close()
    store = init_store(db_file).store
    checks = store.chain_checks()
    assert all(c.intact for c in checks) and checks[0].rows >= 2
