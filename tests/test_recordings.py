"""Recording review (录音复核): the 30 % queue, call-recording import, door files, outcomes and exclusions."""
from __future__ import annotations

import hashlib
import io
import random
import struct
import zipfile
from collections import Counter

import pytest

from common.errors import Forbidden, Invalid, Rejected
from survey.auth import SYSTEM
from survey.fieldwork import assign_cases, import_cases, record_attempt
from survey.recordings import (ImportResult, add_response_file, import_recordings, media_dir, read_zip,
                               record_review, recording_bytes, response_files, review_history, review_queue,
                               review_rates, review_sample, save_evidence_options)
from survey.responses import submit_interview
from tests.conftest import complete_answers


def wav(seconds: float = 0.1, tone: int = 0) -> bytes:
    """A tiny valid PCM WAV (8 kHz mono), its content varied by `tone` so hashes differ."""
    frames = bytes([(tone + i) % 256 for i in range(int(8000 * seconds))])
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVE" + b"fmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8) + b"data" + struct.pack("<I", len(frames))
    return header + frames


def interviews(store, actor, n, mode="phone", tag=""):
    return [submit_interview(store, actor, "2025", unit="思明区", mode=mode, answers=complete_answers(),
                             submit_key=f"rv:{actor.username}:{mode}:{tag}{i}").response_id for i in range(n)]


# ---- the queue ---------------------------------------------------------------------------------
def test_sample_is_thirty_percent_rounded_up_at_least_one_reproducible_for_a_seed():
    pairs = [(f"R{i:05d}", f"P{i % 4}") for i in range(400)] + [("R99999", "P9"), ("R99998", "P8"),
                                                               ("R99997", "P8"), ("R99996", "P8")]
    picked = review_sample(pairs, "review:2025", 0.30)
    assert Counter(p for r, p in pairs if r in picked) == {"P0": 30, "P1": 30, "P2": 30, "P3": 30, "P9": 1, "P8": 1}
    shuffled = pairs[:]
    random.Random(7).shuffle(shuffled)
    assert review_sample(shuffled, "review:2025", 0.30) == picked          # any row order
    assert review_sample(pairs, "review:2025", 0.30) == picked             # same seed, same sample
    assert review_sample(pairs, "review:other", 0.30) != picked            # another seed, another sample
    # it is not the back-check's list: another seed prefix
    from survey.backcheck import draw
    assert draw(pairs, "2025", 0.30) != picked


def test_queue_uses_the_waves_rate_takes_flagged_ones_and_only_the_own_firm(store, accounts):
    p1 = interviews(store, accounts["p1"], 20)
    interviews(store, accounts["p1"], 3, mode="web", tag="w")  # web answers have no pollster's recording
    p2 = interviews(store, accounts["p2"], 2, mode="door")
    interviews(store, accounts["p3"], 10)                        # firm B
    queue = review_queue(store, accounts["sup"], "2025", flagged=[])
    assert Counter(i.interviewer for i in queue) == {"p1": 6, "p2": 1}    # ⌈30 % × 20⌉, ⌈30 % × 2⌉
    assert all(i.random and not i.flagged and i.outcome is None for i in queue)
    assert review_queue(store, accounts["sup"], "2025", flagged=[]) == queue
    extra = [r for r in p1 if r not in {i.response_id for i in queue}][:2]
    flagged = review_queue(store, accounts["sup"], "2025", flagged=extra)
    assert {i.response_id for i in flagged} == {i.response_id for i in queue} | set(extra)
    assert {i.response_id for i in flagged if i.flagged} == set(extra)
    save_evidence_options(store, accounts["admin"], "2025", {"review_rate": 0.5, "review_seed": "秋季"})
    half = review_queue(store, accounts["sup"], "2025", flagged=[])
    assert Counter(i.interviewer for i in half) == {"p1": 10, "p2": 1}
    assert Counter(i.interviewer for i in review_queue(store, accounts["supb"], "2025", flagged=[])) == {"p3": 5}
    with pytest.raises(Forbidden):
        review_queue(store, accounts["p1"], "2025")
    assert p2[0] or True


def test_evidence_options_are_validated_in_chinese(store, accounts):
    from survey.wave_setup import SetupError
    with pytest.raises(SetupError) as err:
        save_evidence_options(store, accounts["admin"], "2025", {"review_rate": "1.5"})
    assert err.value.problems[0].startswith("录音复核率（0–1）：须不大于 1")
    with pytest.raises(SetupError):
        save_evidence_options(store, accounts["admin"], "2025", {"review_rate": "nan"})
    assert "evidence" not in store.wave("2025")["settings"]
    with pytest.raises(Forbidden):
        save_evidence_options(store, accounts["sup"], "2025", {"review_rate": 0.4})


# ---- outcomes --------------------------------------------------------------------------------------
def test_outcomes_with_who_when_and_an_audited_exclusion(store, accounts):
    rid = interviews(store, accounts["p1"], 4)[0]
    with pytest.raises(Invalid) as err:
        record_review(store, accounts["sup"], rid, "fail")
    assert err.value.code == "required" and "不合格须写明原因" in str(err.value)
    with pytest.raises(Invalid):
        record_review(store, accounts["sup"], rid, "合格?")
    with pytest.raises(Forbidden):
        record_review(store, accounts["supb"], rid, "pass")      # another firm's supervisor
    with pytest.raises(Forbidden):
        record_review(store, accounts["p1"], rid, "pass")        # the pollster judges no own work
    assert record_review(store, accounts["sup"], rid, "pass") is True
    assert record_review(store, accounts["sup"], rid, "pass") is False  # the same again stores nothing
    assert record_review(store, accounts["sup"], rid, "fail", "录音中未读出题目", exclude=True) is True
    history = review_history(store, accounts["sup"], rid)
    assert [(h["outcome"], h["actor"], bool(h["excluded"])) for h in history] == [
        ("pass", "sup", False), ("fail", "sup", True)]
    assert all(h["at"] for h in history)
    excluded = {e["response_id"]: e for e in store.current_exclusions("2025")}
    assert excluded[rid]["reason"] == "录音复核：录音中未读出题目" and excluded[rid]["actor"] == "sup"
    actions = [a["action"] for a in store.audit_log("response", rid)]
    assert "recording_review" in actions and "exclude" in actions
    item = next(i for i in review_queue(store, accounts["sup"], "2025", flagged=[rid]) if i.response_id == rid)
    assert (item.outcome, item.reason, item.reviewer, item.excluded) == ("fail", "录音中未读出题目", "sup", True)
    rates = {r.interviewer: r for r in review_rates(store, accounts["sup"], "2025")}
    assert (rates["p1"].completes, rates["p1"].reviewed, rates["p1"].failed, rates["p1"].pass_rate) == (4, 1, 1, 0.0)


def test_a_failed_exclusion_leaves_no_review(store, accounts, monkeypatch):
    rid = interviews(store, accounts["p1"], 1)[0]

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(type(store), "set_exclusion", boom)
    with pytest.raises(RuntimeError):
        record_review(store, accounts["sup"], rid, "fail", "代答", exclude=True)
    assert review_history(store, accounts["sup"], rid) == []


# ---- import ------------------------------------------------------------------------------------------
@pytest.fixture
def called(store, accounts, tmp_path, monkeypatch):
    """Cases C1-C3 of p1 (firm A) and C9 of p3 (firm B), each with attempts; C1 completed."""
    monkeypatch.setenv("SURVEY_MEDIA_DIR", str(tmp_path / "media"))
    path = tmp_path / "cases.csv"
    path.write_text("case_id,unit,mode,phone\nC1,思明区,phone,13800000001\nC2,思明区,phone,13800000002\n"
                    "C3,思明区,phone,13800000003\nC9,思明区,phone,13800000009\n", encoding="utf-8")
    import_cases(store, SYSTEM, path, "2025")
    assign_cases(store, SYSTEM, "2025", "p1", case_ids=["C1", "C2", "C3"])
    assign_cases(store, SYSTEM, "2025", "p3", case_ids=["C9"])
    rid = submit_interview(store, accounts["p1"], "2025", unit="思明区", mode="phone", answers=complete_answers(),
                           submit_key="call:C1", case_id="C1").response_id
    record_attempt(store, accounts["p1"], "C1", "无人接听", at="2025-10-15T18:31:00")
    record_attempt(store, accounts["p1"], "C1", "完成", response_id=rid, at="2025-10-16T19:12:00")
    record_attempt(store, accounts["p1"], "C2", "拒访", at="2025-10-15T18:40:30")
    record_attempt(store, accounts["p3"], "C9", "拒访", at="2025-10-15T18:50:00")
    return rid


def zipped(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_folder_import_matches_case_and_time_and_is_idempotent(store, accounts, called, tmp_path):
    folder = tmp_path / "calls"
    (folder / "day1").mkdir(parents=True)
    (folder / "C1_20251016190105.wav").write_bytes(wav(tone=1))     # the complete, 11 min before its attempt
    (folder / "day1" / "C2_20251015184000.wav").write_bytes(wav(tone=2))
    result = import_recordings(store, accounts["sup"], "2025", folder)
    assert result == ImportResult(2, 2, [])
    rows = {r["case_id"]: r for r in store.recordings("2025")}
    assert rows["C1"]["response_id"] == called and rows["C1"]["interviewer"] == "p1"
    assert rows["C2"]["response_id"] is None and rows["C2"]["attempt_id"]
    stored = media_dir(store) / rows["C1"]["path"]
    assert stored.read_bytes() == wav(tone=1) and rows["C1"]["sha256"] == hashlib.sha256(wav(tone=1)).hexdigest()
    assert (stored.stat().st_mode & 0o777) == 0o600
    again = import_recordings(store, accounts["sup"], "2025", folder)
    assert (again.created, again.problems, len(store.recordings("2025"))) == (0, [], 2)   # stores nothing new
    assert recording_bytes(store, accounts["sup"], rows["C1"]["id"]) == wav(tone=1)
    with pytest.raises(Forbidden):
        recording_bytes(store, accounts["supb"], rows["C1"]["id"])
    stored.write_bytes(wav(tone=9))                                     # changed on disk: not played
    with pytest.raises(Invalid):
        recording_bytes(store, accounts["sup"], rows["C1"]["id"])
    assert [q.recordings for q in review_queue(store, accounts["sup"], "2025", flagged=[called])
            if q.response_id == called] == [1]


def test_import_with_problems_lists_each_file_in_chinese_and_stores_nothing(store, accounts, called, tmp_path):
    raw = zipped({"C1_20251016190105.wav": wav(tone=1),
                  "录音1.wav": wav(tone=3),                              # off the convention
                  "C7_20251015184000.wav": wav(tone=4),                  # unknown case
                  "C3_20251015184000.wav": wav(tone=5),                  # no attempt at all
                  "C2_20251017120000.wav": wav(tone=6),                  # no attempt near that time
                  "C9_20251015184900.wav": wav(tone=7),                  # another firm's case
                  "C2_20251015184000.mp3": b"not audio at all",          # content is not mp3
                  "C2_20251015184001.wav": b"",                          # empty
                  "notes.txt": b"x"})
    result = import_recordings(store, accounts["sup"], "2025", read_zip(raw, "calls.zip"))
    text = "\n".join(result.problems)
    assert result.created == 0 and store.recordings("2025") == [] and not media_dir(store).exists()
    assert "录音1.wav：文件名不符合约定" in text
    assert "C7_20251015184000.wav：样本 C7 不在轮次 2025 的样本名单中" in text
    assert "C3_20251015184000.wav：样本 C3 在 2025-10-15 18:40:00 前后没有拨打记录" in text
    assert "C2_20251017120000.wav：样本 C2 在 2025-10-17 12:00:00 前后没有拨打记录" in text
    assert "C9_20251015184900.wav：样本 C9 不属于本公司" in text
    assert "C2_20251015184000.mp3：文件内容不是声明的音频格式" in text
    assert "C2_20251015184001.wav：文件为空" in text
    assert "notes.txt：文件类型不支持" in text
    assert len(result.problems) == 8
    # the admin may import any firm's: C9 is no problem for it
    admin = import_recordings(store, accounts["admin"], "2025", read_zip(raw, "calls.zip"))
    assert "C9_20251015184900.wav：样本 C9 不属于本公司" not in "\n".join(admin.problems)


def test_manifest_governs_names_and_times(store, accounts, called):
    manifest = "file,case_id,recorded_at\nrec-001.wav,C1,2025-10-16 19:01:05\nrec-002.wav,C2,bad\n"
    raw = zipped({"manifest.csv": manifest.encode(), "rec-001.wav": wav(tone=1), "rec-002.wav": wav(tone=2),
                  "rec-003.wav": wav(tone=3)})
    result = import_recordings(store, accounts["sup"], "2025", read_zip(raw, "m.zip"))
    assert result.problems == ["manifest.csv 第 3 行（rec-002.wav）：样本编号或录音时间缺失或无法识别",
                               "rec-003.wav：不在 manifest.csv 中"]
    ok = zipped({"manifest.csv": manifest.replace("bad", "20251015184000").encode(), "rec-001.wav": wav(tone=1),
                 "rec-002.wav": wav(tone=2)})
    assert import_recordings(store, accounts["sup"], "2025", read_zip(ok, "m.zip")).created == 2


def test_zip_bomb_and_path_traversal_are_refused_whole(store, accounts, called):
    climb = zipped({"../../etc/C1_20251016190105.wav": wav(tone=1)})
    result = import_recordings(store, accounts["sup"], "2025", read_zip(climb, "evil.zip"))
    assert result.created == 0 and "路径穿越" in result.problems[0] and "../../etc" in result.problems[0]
    absolute = zipped({"/tmp/C1_20251016190105.wav": wav(tone=1)})
    assert "路径穿越" in read_zip(absolute, "abs.zip").refused[0]
    bomb = zipped({"C1_20251016190105.wav": b"RIFF" + b"\0" * (30 * 1024 * 1024)})   # 30 MB of zeros
    result = import_recordings(store, accounts["sup"], "2025", read_zip(bomb, "bomb.zip"))
    assert result.created == 0 and "压缩炸弹" in result.problems[0]
    assert "不是可读取的 zip" in read_zip(b"PK\x03\x04 nonsense", "bad.zip").refused[0]
    assert store.recordings("2025") == []


def test_door_files_attach_to_own_responses_only(store, accounts, tmp_path, monkeypatch):
    monkeypatch.setenv("SURVEY_MEDIA_DIR", str(tmp_path / "media"))
    rid = interviews(store, accounts["p1"], 1, mode="door")[0]
    jpeg = b"\xff\xd8\xff\xe0" + b"entrance" * 10
    assert add_response_file(store, accounts["p1"], rid, "audio", wav(tone=8), "door.wav") is True
    assert add_response_file(store, accounts["p1"], rid, "audio", wav(tone=8), "door.wav") is False  # resent
    assert add_response_file(store, accounts["p1"], rid, "photo", jpeg, "entrance.jpg") is True
    with pytest.raises(Forbidden):
        add_response_file(store, accounts["p2"], rid, "audio", wav(tone=9), "x.wav")
    with pytest.raises(Invalid):
        add_response_file(store, accounts["p1"], rid, "photo", b"GIF89a", "x.jpg")
    files = response_files(store, accounts["sup"], rid)
    assert sorted(f["kind"] for f in files) == ["audio", "photo"] and all(f["source"] == "browser" for f in files)


def test_cli_imports_a_folder_once_lists_the_queue_and_records(store, accounts, called, tmp_path, capsys):
    from survey.cli import main
    folder = tmp_path / "cli-calls"
    folder.mkdir()
    (folder / "C1_20251016190105.wav").write_bytes(wav(tone=1))
    assert main(["recordings", "import", str(folder), "--wave", "2025", "--by", "sup"]) == 0
    assert "1 new recording(s) stored" in capsys.readouterr().out
    assert main(["recordings", "import", str(folder), "--wave", "2025", "--by", "sup"]) == 0
    assert "0 new recording(s) stored" in capsys.readouterr().out
    (folder / "bad name.wav").write_bytes(wav(tone=2))
    assert main(["recordings", "import", str(folder), "--wave", "2025"]) == 2
    assert "bad name.wav：文件名不符合约定" in capsys.readouterr().err
    out = tmp_path / "queue.csv"
    assert main(["recordings", "queue", "--wave", "2025", "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("response_id,interviewer,unit,mode,submitted_at,reason,recordings")
    assert main(["recordings", "review", called, "--outcome", "fail", "--by", "sup"]) == 2
    assert "不合格须写明原因" in capsys.readouterr().err
    assert main(["recordings", "review", called, "--outcome", "none", "--by", "sup"]) == 0
    assert store.review_history(called)[-1]["outcome"] == "none"


def test_a_reviewer_of_the_firm_judges_but_does_not_exclude(store, accounts):
    from survey.auth import create_account, load_account
    create_account(store, SYSTEM, "rev", "reviewer", "reviewer-pass-1", firm="A")
    rev = load_account(store, "rev")
    with pytest.raises(Rejected):
        create_account(store, SYSTEM, "rev2", "reviewer", "reviewer-pass-1")  # a reviewer belongs to a firm
    rid = interviews(store, accounts["p1"], 3)[0]
    interviews(store, accounts["p3"], 3)
    assert {i.interviewer for i in review_queue(store, rev, "2025", flagged=[])} == {"p1"}
    with pytest.raises(Forbidden):
        review_queue(store, rev, "2025", firm="B")
    assert record_review(store, rev, rid, "pass") is True
    with pytest.raises(Forbidden):
        record_review(store, rev, rid, "fail", "代答", exclude=True)
    assert store.current_exclusions("2025") == []
