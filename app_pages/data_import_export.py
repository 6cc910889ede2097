"""Analyst / admin: import a responses (or attempts) file with its per-row problems; export a wave."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

import streamlit as st

from common.errors import renamed
from survey.auth import PermissionDenied
from survey.errors import ImportRejected, problem_text
from survey.exporting import FORMATS, ExportError, export_wave
from survey.fieldwork import import_attempts
from survey.importing import import_responses
from survey.odk import import_odk
from survey.xlsform import form_id, xlsform_bytes
from survey.waves import wave_ids
from ui import plain, session
from ui.plain import md_escape
from ui.session import t

FILE_REFUSED = ("xlsx_too_big", "xlsx_bomb", "not_xlsx")  # whole-file refusals of common.input_checks

account = session.page_account(__file__)
store = session.store()
st.title(t("quality.data_title"))
waves = wave_ids(store, account)
tab_import, tab_export = st.tabs([t("quality.tab_import"), t("quality.tab_export")])

with tab_import:
    st.caption(t("quality.import_caption"))
    c1, c2 = st.columns(2)
    wave_id = session.wave_picker(c1, waves, "import_wave")
    kind = c2.radio(t("quality.kind"), ["responses", "attempts", "odk"], horizontal=True, key="import_kind",
                    format_func=lambda k: t(f"quality.kind_{k}"))
    if kind == "odk":  # the form the phones fill in, from this wave's questionnaire
        cached = f"xlsform_{wave_id}"  # built and checked by pyxform once per session and wave (about 1 s)
        if cached not in st.session_state:
            st.session_state[cached] = xlsform_bytes(store, account, wave_id)
        st.download_button(t("quality.xlsform"), st.session_state[cached],
                           file_name=f"{form_id(wave_id)}.xlsx", key="download_xlsform")
    upload = st.file_uploader(t("quality.upload"), type=["csv", "xlsx"], key="import_file")
    if st.button(t("quality.do_import"), type="primary", key="do_import", disabled=upload is None):
        raw = io.BytesIO(upload.getvalue())
        path = None
        try:
            if kind == "responses":
                result = import_responses(store, account, wave_id, raw, upload.name)
                st.success(t("quality.imported", name=upload.name, rows=result.rows, created=result.created,
                             unchanged=result.unchanged))
            elif kind == "odk":
                result = import_odk(store, account, wave_id, raw, upload.name)
                st.success(t("odk.imported", name=upload.name, rows=result.rows, created=result.created,
                             unchanged=result.unchanged, screened_out=result.screened_out))
            else:
                with tempfile.TemporaryDirectory() as tmp:  # the fieldwork import reads a path
                    path = Path(tmp) / Path(upload.name).name
                    path.write_bytes(upload.getvalue())
                    created = import_attempts(store, path, wave_id, account.username)
                st.success(t("quality.imported_attempts", name=upload.name, created=created))
        except ImportRejected as err:
            # name the file as the user knows it, never the server's temporary path
            problems = [renamed(p, str(path), upload.name) if path else p for p in err.problems]
            whole = [p for p in problems if getattr(p, "code", "") in FILE_REFUSED]
            if whole:  # refused before reading (a bomb, not an .xlsx): one sentence naming the file and the limit
                st.error(t("quality.file_refused", reason=md_escape(problem_text(whole[0], session.lang()))))
            else:
                st.error(t("quality.rejected", total=err.total))
                plain.problem_table(problems)
        except PermissionDenied as err:
            st.error(t("common.no_permission", detail=md_escape(err)))

with tab_export:
    st.caption(t("quality.export_caption"))
    c1, c2 = st.columns(2)
    wave_out = session.wave_picker(c1, waves, "export_wave")
    fmt = c2.selectbox(t("quality.format"), FORMATS, key="export_format",
                       format_func=lambda f: {"csv": "CSV", "xlsx": "Excel (.xlsx)", "sav": "SPSS (.sav)",
                                              "dta": "Stata (.dta)"}[f])
    weights = st.checkbox(t("quality.weights"), key="export_weights")
    include_excluded = st.checkbox(t("quality.include_excluded"), key="export_excluded")
    with_contacts = (st.checkbox(t("quality.with_contacts"), key="export_contacts")
                     if account.can("export.contacts") else False)
    if st.button(t("quality.do_export"), type="primary", key="do_export"):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f"responses-{wave_out}.{fmt}"
            try:
                table, files = export_wave(store, account, wave_out, fmt, out, weights=weights,
                                           include_excluded=include_excluded, with_contacts=with_contacts)
            except ExportError as err:
                st.error("\n".join(err.problems))
            except PermissionDenied as err:
                st.error(t("common.no_permission", detail=md_escape(err)))
            else:
                st.session_state["export_files"] = [(f.name, f.read_bytes()) for f in files]
                st.session_state["export_rows"] = table.record["rows"]
    if st.session_state.get("export_files"):
        st.success(t("quality.exported", rows=st.session_state["export_rows"]))
        cols = st.columns(len(st.session_state["export_files"]))
        for col, (name, data), label in zip(cols, st.session_state["export_files"],
                                            (t("quality.download"), t("quality.download_codebook"))):
            col.download_button(f"{label}（{name}）", data, file_name=name, key=f"download_{name}")
