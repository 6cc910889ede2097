"""Offline door interviews through ODK: the wave's XLSForm (converted by pyxform) and the import
of ODK Central's CSV export (group-path columns, metadata into paradata, idempotent, per-row problems)."""
from __future__ import annotations

import csv
import io
import re

import pytest
from pyxform.xls2xform import convert

from survey.auth import SYSTEM
from survey.bootstrap import questionnaire_for_wave
from survey.errors import ImportRejected
from survey.odk import import_odk
from survey.xlsform import build_form, export_xlsform

ITEMS = ("air", "water", "sea", "noise", "waste", "greenery", "rural", "enforcement", "publicity", "overall")
# the columns ODK Central writes for the wave's form: fields in group `grp` as `grp-<id>`,
# the geopoint split in four, its own metadata around them
HEADER = (["SubmissionDate", "start", "end", "deviceid", "wave", "unit", "interviewer",
           "gps-Latitude", "gps-Longitude", "gps-Altitude", "gps-Accuracy", "age18", "resident"]
          + [f"grp-{i}" for i in ITEMS] + ["grp-overall_reason", "grp-change", "grp-comment", "grp-sex",
                                           "grp-age_group", "grp-education", "meta-instanceID", "KEY",
                                           "SubmitterID", "SubmitterName", "ReviewState", "FormVersion"])


def submission(n: int, **over: str) -> dict[str, str]:
    row = {"SubmissionDate": f"2025-10-09T20:00:0{n}.000Z", "start": f"2025-10-08T09:0{n}:00.000+08:00",
           "end": f"2025-10-08T09:1{n}:30.000+08:00", "deviceid": f"collect:abc{n}", "wave": "2025",
           "unit": "思明区", "interviewer": "p1", "gps-Latitude": "24.4798", "gps-Longitude": "118.0894",
           "gps-Altitude": "12.5", "gps-Accuracy": "4.8", "age18": "1", "resident": "1",
           **{f"grp-{i}": "4" for i in ITEMS}, "grp-overall_reason": "", "grp-change": "3", "grp-comment": "",
           "grp-sex": "女", "grp-age_group": "40-49", "grp-education": "大专",
           "meta-instanceID": f"uuid:0000000{n}-aaaa-bbbb-cccc-dddddddddddd", "SubmitterID": "7",
           "SubmitterName": "示例公司-平板1", "ReviewState": "", "FormVersion": "default-2025-v1"}
    row["KEY"] = row["meta-instanceID"]
    row.update(over)
    return row


def central_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_the_exported_xlsform_converts_with_pyxform_and_keeps_ids_codes_and_skips(store, tmp_path):
    path = export_xlsform(store, SYSTEM, "2025", tmp_path / "form.xlsx")
    warnings: list[str] = []
    xform = convert(str(path), warnings=warnings).xform  # pyxform's own API, from the file written
    qn = questionnaire_for_wave(store, "2025")
    for q in qn.questions:  # every question under its id
        assert re.search(rf'nodeset="/data/(grp/)?{re.escape(q.id)}"', xform), q.id
    # choices with the questionnaire's codes (5..1, 9; 男/女; 60+), and the districts
    assert all(f"<name>{c}</name>" in xform for c in ("5", "1", "9", "男", "60+", "高中/中专", "思明区"))
    # skip logic as relevant; the questionnaire group only for an eligible respondent
    assert "selected( /data/grp/overall , '1') or selected( /data/grp/overall , '2')" in xform
    assert "selected( /data/age18 , '1') and selected( /data/resident , '1')" in xform
    assert 'jr:preloadParams="start"' in xform and 'jr:preloadParams="deviceid"' in xform
    assert 'type="geopoint"' in xform


def test_the_form_of_an_appraisal_questionnaire_converts_too(store):
    from survey.xlsform import workbook_bytes, convert as to_xform
    from survey.questionnaire import load_shipped
    qn = load_shipped("appraisal-2025")
    form = build_form(qn, {"id": "2025-评议", "units": ["思明区"]})
    xform = to_xform(workbook_bytes(form))
    unit = qn.rated_units[0].id
    assert f"selected( /data/grp/{unit}_aware , '1')" in xform


def test_an_odk_central_export_imports_with_paradata_and_again_stores_nothing(store, accounts):
    data = central_csv([submission(1), submission(2, **{"grp-overall": "2", "grp-overall_reason": "臭味"}),
                        submission(3, age18="2", **{f"grp-{i}": "" for i in ITEMS})])  # a screen-out
    result = import_odk(store, SYSTEM, "2025", io.BytesIO(data), "submissions.csv")
    assert (result.rows, result.created, result.unchanged, result.screened_out) == (3, 2, 0, 1)
    stored = sorted(store.responses("2025"), key=lambda r: r["started_at"])
    assert [r["mode"] for r in stored] == ["door", "door"]
    first = stored[0]
    assert first["answers"]["air"] == 4 and first["answers"]["sex"] == "女" and first["interviewer"] == "p1"
    assert first["firm"] == "A"  # the pollster's firm
    assert (first["started_at"], first["submitted_at"], first["duration_s"]) == (
        "2025-10-08T09:01:00", "2025-10-08T09:11:30", 630.0)
    odk = first["paradata"]["odk"]
    assert odk["device_id"] == "collect:abc1" and odk["instance_id"].startswith("uuid:00000001")
    assert odk["gps"] == {"lat": 24.4798, "lon": 118.0894, "alt": 12.5, "acc": 4.8}
    # the position as the door evidence keeps it (map, GPS flags) and as the districts' evidence counts it
    assert first["paradata"]["geo"]["start"] == {"lat": 24.4798, "lon": 118.0894, "accuracy": 4.8,
                                                  "at": "2025-10-08T09:01:00"}
    assert store.unit_evidence_counts("2025", "思明区")["door_with_gps"] == 2
    assert stored[1]["answers"]["overall_reason"] == "臭味"
    audit_before = len(store.audit_log())
    again = import_odk(store, SYSTEM, "2025", io.BytesIO(data), "submissions.csv")
    assert (again.created, again.unchanged) == (0, 2)
    assert len(store.responses("2025")) == 2 and len(store.audit_log()) == audit_before


def test_bad_rows_are_refused_in_chinese_with_their_row_and_odk_column_and_nothing_is_stored(store, accounts):
    rows = [submission(1), submission(2, **{"grp-air": "6"}), submission(3, unit="鼓浪屿"),
            submission(4, end="2025-10-08T08:00:00.000+08:00"), submission(5, **{"gps-Latitude": "124.5"}),
            submission(6, **{"meta-instanceID": submission(1)["meta-instanceID"]})]
    with pytest.raises(ImportRejected) as err:
        import_odk(store, SYSTEM, "2025", io.BytesIO(central_csv(rows)), "submissions.csv")
    text = "\n".join(err.value.problems)
    assert "第 3 行，列 grp-air：值 6 — 不是 air 的选项" in text
    assert "第 4 行，列 unit：值 鼓浪屿 — 不是轮次 2025 的区" in text
    assert "第 5 行，列 start, end" in text and "结束时间早于开始时间" in text
    assert "第 6 行，列 gps-Latitude" in text and "纬度须在 -90 到 90" in text
    assert "第 7 行，列 meta-instanceID" in text and "与本文件第 2 行的提交（instanceID）重复" in text
    assert "第 2 行" not in text.replace("第 2 行的提交", "")  # the good row has no problem
    assert store.responses("2025") == []


def test_the_cli_writes_the_form_and_imports_an_export(db_file, tmp_path, capsys):
    from survey.cli import main
    assert main(["xlsform", "--wave", "2025", "--out", str(tmp_path / "f.xlsx")]) == 0
    convert(str(tmp_path / "f.xlsx"))
    header = [c for c in HEADER if not c.startswith("gps-")] + ["gps"]
    row = {**submission(1), "gps": "24.48 118.09 10 5"}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    writer.writerow(row)
    path = tmp_path / "odk.csv"
    path.write_text(out.getvalue(), encoding="utf-8-sig")  # Central writes a BOM-less file; Excel adds one
    assert main(["import", str(path), "--wave", "2025", "--kind", "odk"]) == 0
    assert "新导入 1 份问卷" in capsys.readouterr().out
    from survey.store import get_store
    [r] = get_store().responses("2025")
    assert r["paradata"]["odk"]["gps"] == {"lat": 24.48, "lon": 118.09, "alt": 10.0, "acc": 5.0}
    path.write_text(out.getvalue().replace("24.48 118.09 10 5", "24.48"), encoding="utf-8")
    assert main(["import", str(path), "--wave", "2025", "--kind", "odk"]) == 2
    assert "第 2 行，列 gps：值 24.48 — GPS 应为" in capsys.readouterr().err


@pytest.mark.app
def test_the_data_page_offers_the_wave_form_for_an_odk_import(store, accounts):
    from streamlit.testing.v1 import AppTest

    from survey.auth import load_account
    from tests.conftest import ROOT
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["account"] = load_account(store, "ana")
    at.run()
    at.switch_page("app_pages/data_import_export.py").run()
    at.radio(key="import_kind").set_value("odk").run()
    assert not at.exception, at.exception
    assert any("ODK 表单" in str(getattr(el, "proto", "")) for el in at.get("download_button"))
