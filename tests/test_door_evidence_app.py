"""AppTest: the door interview with the wave's evidence options on (consent before recording, evidence in paradata)."""
from __future__ import annotations

import pytest

from survey.auth import SYSTEM
from survey.recordings import save_evidence_options
from tests.test_app import app_as
from tests.test_cati_app import answer_everything

pytestmark = pytest.mark.app


def test_door_interview_asks_consent_and_keeps_the_evidence_block(store, accounts):
    save_evidence_options(store, SYSTEM, "2025", {"geolocation": True, "photo": True, "audio": True})
    at = app_as(store, "p1")
    at.switch_page("app_pages/door_interview.py").run()
    assert not at.exception
    at.text_input(key="door_rec_community").input("莲前街道 前埔北社区")
    at.number_input(key="door_rec_size").set_value(3)
    at.number_input(key="door_rec_adults").set_value(2)
    at.number_input(key="door_rec_selected_no").set_value(1)
    at.text_input(key="door_rec_selected").input("户主，男，50岁")
    answer_everything(at, "door")
    assert "入户证据" in " ".join(h.value for h in at.subheader)  # on the last section, before the submit
    at.button(key="door_submit").click().run()
    assert "请先询问受访者是否同意录音" in at.error[0].value and store.count_responses("2025") == 0
    at.radio(key="door_consent_1").set_value("no").run()
    assert not [w for w in at.main if getattr(w, "key", None) == "door_audio_1"]  # no recorder without consent
    at.button(key="door_submit").click().run()
    assert not at.exception and "问卷已保存" in at.success[0].value
    [stored] = store.responses("2025")
    assert stored["paradata"]["evidence"] == {"geo": {}, "photo": False, "audio_consent": False}


def test_door_interview_without_options_has_no_evidence_block(store, accounts):
    at = app_as(store, "p1")
    at.switch_page("app_pages/door_interview.py").run()
    answer_everything(at, "door")  # the last section, where the block would be
    assert "door_submit" in [b.key for b in at.button]
    assert not at.exception and "入户证据" not in " ".join(h.value for h in at.subheader)
