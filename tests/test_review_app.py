"""AppTest of the review page (flags, filters, exclude / restore) and the data import/export page."""
from __future__ import annotations

import pytest

from survey import quality
from survey.auth import SYSTEM
from survey.bootstrap import questionnaire_for_wave
from survey.responses import build_record
from tests.conftest import complete_answers
from tests.test_app import app_as
from tests.test_import import good_row, write_csv

pytestmark = pytest.mark.app


def _seed(store) -> list[str]:
    """Nine normal phone interviews of firm A, one speeder of firm A, one speeder of firm B."""
    wave, qn = store.wave("2025"), questionnaire_for_wave(store, "2025")
    specs = [("p1", "A", 300.0)] * 9 + [("p1", "A", 20.0), ("p3", "B", 15.0)]
    records = [build_record(qn, wave, unit="思明区", mode="phone", answers=complete_answers(), submit_key=f"s:{i}",
                            source="test", interviewer=who, firm=firm, duration_s=d,
                            submitted_at=f"2025-10-08T10:{i:02d}:00")
               for i, (who, firm, d) in enumerate(specs)]
    ids = [rid for rid, _ in store.insert_responses(records, "test")]
    quality.run_qc(store, SYSTEM, "2025")
    return ids


def _open(store, username: str, page: str):
    at = app_as(store, username)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_supervisor_sees_own_firm_with_flags_and_excludes_then_restores(store, accounts):
    ids = _seed(store)
    at = _open(store, "sup", "app_pages/review.py")
    assert at.title[0].value == "质量审核与剔除"
    assert at.dataframe[0].value["问卷编号"].tolist() == [ids[9]]              # flagged ones first
    at.selectbox(key="review_flag").set_value("").run()                        # all
    table = at.dataframe[0].value
    assert len(table) == 10 and ids[10] not in set(table["问卷编号"])          # firm B's response is not shown
    assert table.set_index("问卷编号").at[ids[9], "质量标记"] == "用时过短"
    # times as people read them, not ISO strings (the table, the exclusion history, the audit trail)
    assert not any("T" in str(v) for v in table["提交时间"]) and table["提交时间"].str.len().eq(16).all()
    at.selectbox(key="review_flag").set_value("speeder").run()
    assert at.dataframe[0].value["问卷编号"].tolist() == [ids[9]]
    assert any("用时过短" in w.value and "20 秒" in w.value for w in at.warning)
    at.button(key="exclude_toggle").click().run()
    assert "请填写原因" in at.error[0].value and store.current_exclusions("2025") == []
    at.text_input(key=f"reason_{ids[9]}_exclude").input("回访核实为未完成访问").run()
    at.button(key="exclude_toggle").click().run()
    assert not at.exception, at.exception
    assert any("已剔除" in s.value for s in at.success)
    assert [e["response_id"] for e in store.current_exclusions("2025")] == [ids[9]]
    assert "回访核实为未完成访问" in at.dataframe[0].value.set_index("问卷编号").at[ids[9], "剔除原因"]
    audit = at.dataframe[-1].value
    assert audit.iloc[0]["操作"] == "剔除" and audit.iloc[0]["操作人"] == "sup"
    assert "T" not in audit.iloc[0]["时间"] and "T" not in at.dataframe[-2].value.iloc[0]["时间"]
    store.db.execute("UPDATE responses SET source = 'import' WHERE response_id = ?", [ids[9]])
    at.run()  # how it came in, in words: 文件导入, not the stored code
    assert any("文件导入" in x.value for x in at.text) and not any(" import " in x.value for x in at.text)
    # the restore asks its own reason: the box is empty, and an empty box restores nothing
    assert at.text_input(key=f"reason_{ids[9]}_restore").value == ""
    at.button(key="exclude_toggle").click().run()
    assert "请填写原因" in at.error[0].value and len(store.current_exclusions("2025")) == 1
    at.text_input(key=f"reason_{ids[9]}_restore").input("复核后保留").run()
    at.button(key="exclude_toggle").click().run()
    assert store.current_exclusions("2025") == []
    assert [e["reason"] for e in store.exclusions("2025")] == ["复核后保留", "回访核实为未完成访问"]
    actions = [(a["action"], a["actor"]) for a in store.audit_log("response", ids[9])[:2]]
    assert actions == [("restore", "sup"), ("exclude", "sup")]


def test_analyst_reruns_qc_and_filters_by_unit(store, accounts):
    _seed(store)
    at = _open(store, "ana", "app_pages/review.py")
    assert len(at.dataframe[0].value) == 2                                    # both speeders, both firms
    at.button(key="run_qc").click().run()
    assert "标记与上次相同" in at.success[0].value
    at.selectbox(key="review_unit").set_value("湖里区").run()
    assert "没有符合条件的问卷" in at.info[0].value


def test_import_page_lists_row_problems_then_imports(store, accounts, tmp_path):
    at = _open(store, "ana", "app_pages/data_import_export.py")
    bad = write_csv(tmp_path / "bad.csv", [good_row(0), good_row(1, unit="火星区"), good_row(2, air="8")])
    at.file_uploader(key="import_file").set_value(("bad.csv", bad.read_bytes(), "text/csv")).run()
    at.button(key="do_import").click().run()
    assert not at.exception, at.exception
    assert "发现 2 个问题" in at.error[0].value
    table = at.dataframe[0].value  # in Chinese, row and column named
    assert list(table.columns) == ["行", "列", "值", "问题"]
    assert table.iloc[0].tolist()[:3] == ["3", "unit（区）", "火星区"]
    assert table.iloc[0, 3].startswith("不是轮次 2025 的区（思明区、")
    assert table.iloc[1, :3].tolist() == ["4", "air", "8"] and table.iloc[1, 3].startswith("不是“")
    assert "5 满意、4 比较满意" in table.iloc[1, 3] and not any("not a" in v for v in table["问题"])
    assert store.count_responses("2025") == 0
    good = write_csv(tmp_path / "good.csv", [good_row(i) for i in range(3)], encoding="gbk")
    at.file_uploader(key="import_file").set_value(("good.csv", good.read_bytes(), "text/csv")).run()
    at.button(key="do_import").click().run()
    assert "新增 3 份" in at.success[0].value and store.count_responses("2025") == 3


def test_export_page_offers_the_file_and_codebook(store, accounts):
    _seed(store)
    at = _open(store, "ana", "app_pages/data_import_export.py")
    assert "export_contacts" not in [c.key for c in at.checkbox]   # contacts: admin only
    at.selectbox(key="export_format").set_value("sav").run()
    at.button(key="do_export").click().run()
    assert not at.exception, at.exception
    assert "已生成：11 份问卷" in at.success[0].value
    names = [name for name, _ in at.session_state["export_files"]]
    assert names == ["responses-2025.sav", "responses-2025.codebook.csv"]
    admin = _open(store, "admin", "app_pages/data_import_export.py")
    assert "export_contacts" in [c.key for c in admin.checkbox]


def test_analysis_page_can_leave_flagged_responses_out(store, accounts):
    from survey.demo import store_demo
    store_demo(store, "2025", 800, 2)
    run = quality.run_qc(store, SYSTEM, "2025")
    flagged = len({f["response_id"] for f in run.flags})
    assert flagged > 0
    at = _open(store, "ana", "app_pages/analysis.py")

    def record_line() -> str:
        return next(c.value for c in at.caption if "结果哈希" in c.value)
    assert "数据 800 份" in record_line() and "剔除 0 份" in record_line()
    at.checkbox(key="analysis_exclude_flagged").check().run()
    assert not at.exception, at.exception
    assert f"数据 {800 - flagged} 份" in record_line() and f"剔除 {flagged} 份" in record_line()


def test_a_restore_with_the_exclusions_reason_is_refused(store, accounts):
    from survey.responses import set_excluded
    from survey.store import StoreError
    rid = _seed(store)[0]
    assert set_excluded(store, accounts["sup"], rid, True, "电话回访未接通")
    with pytest.raises(StoreError, match="own reason"):
        set_excluded(store, accounts["sup"], rid, False, " 电话回访未接通 ")
    assert set_excluded(store, accounts["sup"], rid, False, "再次回访已核实")


def test_attempts_import_problems_name_the_upload_not_a_server_path(store, accounts):
    at = _open(store, "ana", "app_pages/data_import_export.py")
    at.radio(key="import_kind").set_value("attempts").run()
    at.file_uploader(key="import_file").set_value(("拨打记录.csv", "case_id,unit\nC1,思明区\n".encode(), "text/csv")).run()
    at.button(key="do_import").click().run()
    assert not at.exception
    problems = " ".join(at.dataframe[0].value["问题"].tolist())
    assert "拨打记录.csv" in problems and "/tmp" not in problems and "tmp" not in problems


def test_import_page_names_a_decompression_bomb_and_the_limit_in_chinese(store, accounts):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b" " * (20 * 1024 * 1024))  # inflates about 1,000-fold
    at = _open(store, "ana", "app_pages/data_import_export.py")
    at.file_uploader(key="import_file").set_value(("答卷-压缩.xlsx", buf.getvalue(), "application/zip")).run()
    at.button(key="do_import").click().run()
    assert not at.exception, at.exception
    message = at.error[0].value.replace("\\", "")  # the name is Markdown-escaped (shown as typed)
    assert message.startswith("文件未导入：答卷-压缩.xlsx：其中的 xl/worksheets/sheet1.xml 解压后膨胀")
    assert "超过上限 200 倍" in message and "压缩炸弹" in message
    assert not at.dataframe and store.count_responses("2025") == 0
    at.file_uploader(key="import_file").set_value(("假的.xlsx", b"not a zip", "application/zip")).run()
    at.button(key="do_import").click().run()
    assert "文件未导入：假的.xlsx：不是可读取的 .xlsx 文件" in at.error[0].value.replace("\\", "")
