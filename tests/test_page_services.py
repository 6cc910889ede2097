"""The services pages call instead of the store: each checks the actor's rights and returns records."""
from __future__ import annotations

import pytest

from common.errors import Forbidden, NotFound
from survey import publishing, quality, webform
from survey.auth import firms, list_accounts
from survey.fieldwork import assigned_cases
from survey.responses import submit_interview, wave_data
from survey.store import Wave
from survey.waves import read_wave, visible_waves, wave_ids
from tests.conftest import complete_answers


@pytest.fixture
def two_waves(store):
    first = store.wave("2025")
    store.add_wave("2026", first["questionnaire_id"], first["units"], "system")
    return store


def test_a_pollster_sees_its_assigned_waves_others_every_wave(two_waves, accounts):
    store = two_waves
    assert wave_ids(store, accounts["p1"]) == ["2025"]
    assert wave_ids(store, accounts["ana"]) == wave_ids(store, accounts["sup"]) == ["2025", "2026"]
    assert all(isinstance(w, Wave) for w in visible_waves(store, accounts["admin"]))
    assert read_wave(store, accounts["p1"], "2025").units == tuple(store.wave("2025")["units"])
    with pytest.raises(Forbidden) as err:
        read_wave(store, accounts["p1"], "2026")
    assert err.value.code == "wave_not_assigned"
    with pytest.raises(NotFound):
        read_wave(store, accounts["admin"], "1999")


def test_accounts_and_firms_are_the_admins(store, accounts):
    listed = list_accounts(store, accounts["admin"])
    assert {a.username for a in listed} >= {"p1", "sup", "ana"}
    assert all(isinstance(a.active, bool) and not hasattr(a, "password_hash") for a in listed)
    assert firms(store, accounts["admin"]) == ["A", "B"]
    for who in ("sup", "ana", "p1"):
        with pytest.raises(Forbidden):
            list_accounts(store, accounts[who])


def test_web_admin_lists_need_the_token_right(store, accounts):
    batch, made = webform.generate_tokens(store, accounts["admin"], "2025", store.wave("2025")["units"][0], 3)
    assert [b["batch"] for b in webform.token_batches(store, accounts["admin"], "2025")] == [batch]
    assert len(webform.batch_tokens(store, accounts["admin"], "2025", batch)) == 3
    code = webform.create_link(store, accounts["admin"], "2025", store.wave("2025")["units"][0])
    [link] = webform.open_links(store, accounts["admin"], "2025")
    assert (link.code, link.active, link.responses) == (code, True, 0)
    for listing in (webform.token_batches, webform.open_links, webform.draft_funnel, webform.flagged_submissions):
        with pytest.raises(Forbidden):
            listing(store, accounts["sup"], "2025")


def test_wave_data_counts_and_qc_runs_need_a_read_right(store, accounts):
    assert wave_data(store, accounts["ana"], "2025").responses == 0
    submit_interview(store, accounts["p1"], "2025", unit=store.wave("2025")["units"][0], mode="phone",
                     answers=complete_answers(), submit_key="svc-1")
    data = wave_data(store, accounts["ana"], "2025")
    assert (data.responses, data.exclusions, data.qc_run) == (1, 0, None)
    run = quality.run_qc(store, accounts["ana"], "2025")
    assert [r.id for r in quality.qc_runs(store, accounts["sup"], "2025")] == ([run.run_id] if run.run_id else [])
    assert wave_data(store, accounts["ana"], "2025").qc_run == (run.run_id if run.run_id else None)
    with pytest.raises(Forbidden):
        quality.qc_runs(store, accounts["p1"], "2025")
    with pytest.raises(Forbidden):
        publishing.published(store, accounts["sup"], "2025")
    assert publishing.published(store, accounts["ana"], "2025") == []


def test_assigned_cases_are_the_actors_own_and_sealed(store, accounts, tmp_path):
    from tests.test_cati_app import import_cases
    import_cases(store, tmp_path)
    mine = assigned_cases(store, accounts["p1"], "2025")
    assert mine and all(c["pollster"] == "p1" and "contact_enc" not in c for c in mine)
    assert assigned_cases(store, accounts["p1"], "2025", "door") == [] and assigned_cases(store, accounts["p2"], "2025") == []
    with pytest.raises(Forbidden):
        assigned_cases(store, accounts["ana"], "2025")
