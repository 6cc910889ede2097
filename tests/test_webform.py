"""The web survey's core: tokens, open links, abuse checks, dates, drafts, submit once."""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys

import pytest

from common.errors import NotFound

from survey import webform
from survey.auth import PermissionDenied, SYSTEM
from survey.store import StoreError
from survey.webform import Draft, Refused, Visitor
from tests.conftest import ROOT, complete_answers

PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44")
T0 = dt.datetime(2025, 10, 10, 9, 0, 0)


def visitor(device: str = "a" * 32, ip: str = "10.0.0.1", **kw) -> Visitor:
    return Visitor(device_id=device, ip=ip, user_agent=kw.pop("ua", PHONE_UA), **kw)


def clock(at: dt.datetime):
    return lambda: at


def web_answers(**overrides) -> dict:
    return complete_answers(**overrides)


# -- tokens ----------------------------------------------------------------------------
def test_tokens_are_unique_readable_and_fix_the_unit(store):
    batch, tokens = webform.generate_tokens(store, SYSTEM, "2025", "湖里区", 200)
    assert len(set(tokens)) == 200
    assert all(len(t) == webform.TOKEN_LENGTH and set(t) <= set(webform.TOKEN_ALPHABET) for t in tokens)
    assert not set("01OIL") & set("".join(tokens))
    rows = store.web_tokens("2025", batch=batch)
    assert {r["unit"] for r in rows} == {"湖里区"} and len(rows) == 200
    draft = webform.open_survey(store, visitor(), token=tokens[0].lower())  # typed in lower case
    assert isinstance(draft, Draft) and draft.unit == "湖里区" and draft.access == "token"


def test_token_generation_needs_the_right_and_a_real_unit(store, accounts):
    with pytest.raises(PermissionDenied):
        webform.generate_tokens(store, accounts["ana"], "2025", "湖里区", 5)
    with pytest.raises(StoreError, match="not a unit of wave 2025"):
        webform.generate_tokens(store, SYSTEM, "2025", "鼓浪屿", 5)
    with pytest.raises(NotFound) as err:
        webform.generate_tokens(store, SYSTEM, "1999", "湖里区", 5)
    assert err.value.code == "wave_not_found" and err.value.field == "wave"


def test_one_response_per_token_and_double_submit_stores_one(store):
    _, [token] = webform.generate_tokens(store, SYSTEM, "2025", "思明区", 1)
    draft = webform.open_survey(store, visitor(), token=token, clock=clock(T0))
    first = webform.submit(store, draft.draft_id, web_answers(), visitor(), clock=clock(T0 + dt.timedelta(minutes=3)))
    again = webform.submit(store, draft.draft_id, web_answers(), visitor(), clock=clock(T0 + dt.timedelta(minutes=3)))
    assert first.created and not again.created and again.response_id == first.response_id
    stored = store.responses("2025")
    assert len(stored) == 1
    row = stored[0]
    assert (row["mode"], row["unit"], row["source"]) == ("web", "思明区", "web")
    assert row["duration_s"] == 180 and row["paradata"]["device_type"] == "phone+wechat"
    assert row["paradata"]["started_at"] == T0.isoformat() and row["paradata"]["flags"] == []
    assert store.web_token(token)["response_id"] == first.response_id
    assert webform.open_survey(store, visitor(device="b" * 32), token=token) == Refused("token_used")
    assert webform.open_survey(store, visitor(), token="ZZZZZZZZZZ") == Refused("unknown_token")


def test_token_refused_in_the_store_even_past_the_checks(store):
    """Two drafts can never both spend one token: the store's transaction checks it."""
    _, [token] = webform.generate_tokens(store, SYSTEM, "2025", "思明区", 1)
    draft = webform.open_survey(store, visitor(), token=token)
    webform.submit(store, draft.draft_id, web_answers(), visitor())
    from survey.bootstrap import questionnaire_for_wave
    from survey.responses import build_record
    record = build_record(questionnaire_for_wave(store, "2025"), store.wave("2025"), unit="思明区", mode="web",
                          answers=web_answers(), submit_key="web:other", source="web")
    with pytest.raises(StoreError, match="has been used already"):
        store.submit_web(record, {"access": "token", "token": token})
    assert store.count_responses("2025") == 1


def test_csv_and_qr_sheet(store):
    _, tokens = webform.generate_tokens(store, SYSTEM, "2025", "集美区", 3)
    rows = webform.token_rows(tokens, "集美区")
    text = webform.tokens_csv(rows).decode("utf-8")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0]) == ["token", "unit", "url"]
    assert parsed[0]["url"] == f"/survey?t={tokens[0]}" and parsed[0]["unit"] == "集美区"
    with pytest.raises(StoreError, match="full public address"):
        webform.qr_sheet_html(rows, "t", "h")
    sheet = webform.qr_sheet_html(webform.token_rows(tokens, "集美区", "https://s.example.cn/"), "邀请", "扫码")
    assert sheet.count("<svg") == 3 and all(t in sheet for t in tokens) and "@page" in sheet
    assert webform.survey_url("https://s.example.cn/", token="AB") == "https://s.example.cn/survey?t=AB"


# -- open links and abuse checks -----------------------------------------------------------
def test_open_link_blocks_a_second_response_from_the_same_device(store):
    code = webform.create_link(store, SYSTEM, "2025", "海沧区")
    draft = webform.open_survey(store, visitor(), link=code, clock=clock(T0))
    assert isinstance(draft, Draft) and draft.unit == "海沧区"
    done = webform.submit(store, draft.draft_id, web_answers(), visitor(), clock=clock(T0 + dt.timedelta(minutes=4)))
    assert done.created
    assert webform.open_survey(store, visitor(), link=code) == Refused("device_done")
    # a second open link of the same wave does not get around it
    other = webform.create_link(store, SYSTEM, "2025", "同安区")
    assert webform.open_survey(store, visitor(), link=other) == Refused("device_done")
    # another device on the same network may answer
    assert isinstance(webform.open_survey(store, visitor(device="c" * 32), link=code), Draft)


def test_reopening_resumes_the_draft(store):
    code = webform.create_link(store, SYSTEM, "2025", "海沧区")
    draft = webform.open_survey(store, visitor(), link=code)
    webform.save_progress(store, draft.draft_id, {"age18": 1, "resident": 1, "air": 4}, 3)
    again = webform.open_survey(store, visitor(), link=code)
    assert again.resumed and again.draft_id == draft.draft_id
    assert again.answers == {"age18": 1, "resident": 1, "air": 4} and again.step == 3
    assert store.web_draft(draft.draft_id)["resumes"] == 1


def test_rate_limit_per_ip_hash_refuses_new_starts_only(store):
    store.update_wave("2025", "admin", settings={"web": {"starts_per_ip_hour": 3}})
    code = webform.create_link(store, SYSTEM, "2025", "思明区")
    devices = [f"{i:032x}" for i in range(5)]
    results = [webform.open_survey(store, visitor(device=d), link=code, clock=clock(T0)) for d in devices]
    assert [isinstance(r, Draft) for r in results] == [True, True, True, False, False]
    assert results[3] == Refused("rate_limited", {"limit": 3})
    # a started draft still resumes; another address is not limited; an hour later it is free again
    assert isinstance(webform.open_survey(store, visitor(device=devices[0]), link=code, clock=clock(T0)), Draft)
    assert isinstance(webform.open_survey(store, visitor(device=devices[3], ip="10.9.9.9"), link=code,
                                          clock=clock(T0)), Draft)
    later = clock(T0 + dt.timedelta(hours=1, seconds=1))
    assert isinstance(webform.open_survey(store, visitor(device=devices[4]), link=code, clock=later), Draft)


def test_rate_limit_holds_when_another_server_started_in_between(store, monkeypatch):
    """The count before the write may be stale (another app server's resident started since):
    the limit is checked again in the transaction that writes the draft."""
    store.update_wave("2025", "admin", settings={"web": {"starts_per_ip_hour": 2}})
    code = webform.create_link(store, SYSTEM, "2025", "思明区")
    for d in ("a" * 32, "b" * 32):
        assert isinstance(webform.open_survey(store, visitor(device=d), link=code, clock=clock(T0)), Draft)
    monkeypatch.setattr(store, "count_web_starts", lambda *_: 0)  # what a replica read a moment before
    assert webform.open_survey(store, visitor(device="c" * 32), link=code, clock=clock(T0)) == \
        Refused("rate_limited", {"limit": 2})
    assert store.web_draft("d:" + __import__("hashlib").sha256(f"{'c' * 32}\x1f{code}".encode()).hexdigest()[:24]) is None


def test_rate_limit_counts_exactly_under_concurrent_starts(db_file):
    """Eight residents behind one address open the link at once, each on its own connection
    (as on two app servers): exactly the limit of them get a draft."""
    import threading

    from survey.bootstrap import init_store
    from survey.store import Store
    store = init_store(db_file).store
    store.update_wave("2025", "admin", settings={"web": {"starts_per_ip_hour": 3}})
    code = webform.create_link(store, SYSTEM, "2025", "思明区")
    gate, results = threading.Barrier(8), []

    def start(i: int) -> None:
        own = Store(db_file)  # a connection of its own
        gate.wait()
        results.append(webform.open_survey(own, visitor(device=f"{i:032x}"), link=code, clock=clock(T0)))
        own.close()

    threads = [threading.Thread(target=start, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(isinstance(r, Draft) for r in results) == 3
    assert results.count(Refused("rate_limited", {"limit": 3})) == 5
    assert store.query("SELECT count(*) AS n FROM web_drafts")[0]["n"] == 3


def test_suspicious_submissions_are_stored_and_flagged(store):
    store.update_wave("2025", "admin", settings={"web": {"flag_ip_per_hour": 2, "min_seconds": 60}})
    code = webform.create_link(store, SYSTEM, "2025", "翔安区")
    made = []
    for i in range(4):
        v = visitor(device=f"{i:032x}", cookie_returned=i != 3)  # cookie state is paradata, not a flag
        draft = webform.open_survey(store, v, link=code, clock=clock(T0))
        seconds = 20 if i == 0 else 200
        made.append(webform.submit(store, draft.draft_id, web_answers(), v,
                                   clock=clock(T0 + dt.timedelta(seconds=seconds))))
    assert [m.flags for m in made] == [("too_fast",), (), ("ip_burst",), ("ip_burst",)]
    assert store.count_responses("2025") == 4  # flagged, never dropped
    flagged = store.web_submissions("2025", flagged_only=True)
    assert [f["flags"] for f in flagged] == [["too_fast"], ["ip_burst"], ["ip_burst"]]
    assert store.response(made[3].response_id)["paradata"]["device_cookie"] == "new"
    assert all(len(f["ip_hash"]) == 20 and "10.0.0.1" not in f["ip_hash"] for f in flagged)


def test_second_token_on_one_phone_is_flagged_not_blocked(store):
    _, tokens = webform.generate_tokens(store, SYSTEM, "2025", "思明区", 2)
    out = []
    for token in tokens:
        draft = webform.open_survey(store, visitor(), token=token, clock=clock(T0))
        out.append(webform.submit(store, draft.draft_id, web_answers(), visitor(),
                                  clock=clock(T0 + dt.timedelta(minutes=3))))
    assert [o.flags for o in out] == [(), ("device_repeat",)]


def test_closed_links_and_bad_codes(store):
    code = webform.create_link(store, SYSTEM, "2025", "思明区")
    webform.set_link_active(store, SYSTEM, code, False)
    assert webform.open_survey(store, visitor(), link=code) == Refused("link_closed")
    assert webform.open_survey(store, visitor(), link="NOPE") == Refused("unknown_link")
    assert webform.open_survey(store, visitor()) == Refused("no_access")


# -- dates ------------------------------------------------------------------------------------
def test_wave_dates_are_enforced(store):
    store.update_wave("2025", "admin", opens_at="2025-10-01", closes_at="2025-10-31")
    code = webform.create_link(store, SYSTEM, "2025", "思明区")
    assert webform.open_survey(store, visitor(), link=code, clock=clock(dt.datetime(2025, 9, 30, 23))) == \
        Refused("not_yet", {"when": "2025-10-01"})
    assert isinstance(webform.open_survey(store, visitor(), link=code,
                                          clock=clock(dt.datetime(2025, 10, 31, 23, 59))), Draft)
    assert webform.open_survey(store, visitor(device="d" * 32), link=code,
                               clock=clock(dt.datetime(2025, 11, 1, 0, 0, 1))) == Refused("closed", {"when": "2025-10-31"})
    store.update_wave("2025", "admin", status="closed", closes_at=None)
    assert webform.open_survey(store, visitor(), link=code, clock=clock(dt.datetime(2025, 10, 15))) == \
        Refused("closed", {"when": ""})


def test_submit_after_close_keeps_the_draft(store):
    store.update_wave("2025", "admin", closes_at="2025-10-31")
    code = webform.create_link(store, SYSTEM, "2025", "思明区")
    draft = webform.open_survey(store, visitor(), link=code, clock=clock(dt.datetime(2025, 10, 31, 23, 58)))
    with pytest.raises(webform.WaveClosed):
        webform.submit(store, draft.draft_id, web_answers(), visitor(), clock=clock(dt.datetime(2025, 11, 1, 0, 5)))
    assert store.count_responses("2025") == 0
    assert store.web_draft(draft.draft_id)["answers"]["air"] == 4


# -- small pieces ------------------------------------------------------------------------------
def test_client_ip_trusts_the_proxy_header_only_when_told():
    headers = {"X-Forwarded-For": "203.0.113.7, 10.0.0.2"}
    assert webform.client_ip(headers, "10.0.0.2", trust_forwarded=True) == "203.0.113.7"
    assert webform.client_ip(headers, "10.0.0.2", trust_forwarded=False) == "10.0.0.2"
    assert webform.client_ip({}, None, trust_forwarded=True) == "local"
    assert webform.ip_hash("s", "2025", "1.2.3.4") != webform.ip_hash("s", "2026", "1.2.3.4")


@pytest.mark.parametrize("ua,kind", [
    (PHONE_UA, "phone+wechat"),
    ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36", "phone"),
    ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)", "tablet"),
    ("Mozilla/5.0 (X11; Linux x86_64) Chrome/120 Safari/537.36", "desktop"),
    ("", "unknown")])
def test_device_type(ua, kind):
    assert webform.device_type(ua) == kind


def test_screens_keep_the_questionnaire_order(store):
    from survey.bootstrap import questionnaire_for_wave
    qn = questionnaire_for_wave(store, "2025")
    shown = webform.screens(qn)
    kinds = [s.kind for s in shown]
    assert kinds[:2] == ["intro", "screening"] and kinds[-2:] == ["demographics", "comment"]
    asked = [q.id for s in shown for q in s.questions]
    assert sorted(asked) == sorted(q.id for q in qn.questions)
    assert [q for s in shown if s.kind == "items" for q in s.questions] == qn.by_role("item")
    assert all(len(s.questions) <= webform.ITEMS_PER_SCREEN for s in shown if s.kind == "items")
    followup = next(s for s in shown if s.kind == "followup")
    assert webform.missing_on_screen(qn, followup, {"overall": 4}) == [qn.question("change")]


# -- CLI -----------------------------------------------------------------------------------------
def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "survey", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ}, timeout=120)


def test_tokens_cli_writes_csv_and_qr_sheet(db_file, tmp_path):
    out, qr = tmp_path / "tokens.csv", tmp_path / "sheet.html"
    done = run("tokens", "--wave", "2025", "--unit", "思明区", "--n", "12", "--out", str(out),
               "--qr", str(qr), "--base-url", "https://survey.example.cn")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 12 and rows[0]["url"] == f"https://survey.example.cn/survey?t={rows[0]['token']}"
    assert qr.read_text(encoding="utf-8").count("<svg") == 12
    from survey.store import Store
    assert len(Store(db_file).web_tokens("2025", unit="思明区")) == 12
    link = run("link", "add", "--wave", "2025", "--unit", "湖里区")
    assert link.returncode == 0 and link.stdout.startswith("/survey?l=")


def test_tokens_cli_bad_input_one_line_each(db_file, tmp_path):
    bad = run("tokens", "--wave", "2025", "--unit", "思明区", "--n", "0", "--out", str(tmp_path / "x.csv"),
              "--qr", str(tmp_path / "q.html"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    lines = [ln for ln in bad.stderr.splitlines() if "admin account" not in ln]
    assert lines[0].startswith("--n: must be between 1") and lines[1].startswith("--base-url: a QR code needs")
    unit = run("tokens", "--wave", "2025", "--unit", "鼓浪屿", "--n", "3", "--out", str(tmp_path / "x.csv"))
    assert unit.returncode == 2 and "--unit: `鼓浪屿` is not a unit of wave 2025" in unit.stderr


def test_wave_dates_are_validated_and_set(store, accounts):
    webform.set_wave_dates(store, SYSTEM, "2025", "2025-10-01", "2025-10-31")
    assert (store.wave("2025")["opens_at"], store.wave("2025")["closes_at"]) == ("2025-10-01", "2025-10-31")
    with pytest.raises(StoreError, match="closes 2025-09-01 is before opens 2025-10-01"):
        webform.set_wave_dates(store, SYSTEM, "2025", "2025-10-01", "2025-09-01")
    with pytest.raises(StoreError, match="not a date like"):
        webform.set_wave_dates(store, SYSTEM, "2025", "10/01/2025", None)
    with pytest.raises(PermissionDenied):
        webform.set_wave_dates(store, accounts["ana"], "2025", None, None)
    done = run("wave-dates", "2025", "--closes", "2026-01-15")
    assert done.returncode == 0, done.stderr
    from survey.store import Store
    wave = Store(store.target).wave("2025")
    assert wave["opens_at"] is None and wave["closes_at"] == "2026-01-15"
