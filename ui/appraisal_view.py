"""The analysis page of an appraisal wave (部门评议): per type, the units' satisfaction rates with
CIs, awareness beside satisfaction, points and ranks with their intervals, the pairwise
comparisons, and the Excel report. Called by app_pages/analysis.py when the chosen wave's
questionnaire is of kind `appraisal`.
"""
from __future__ import annotations

import io
import json

import pandas as pd
import streamlit as st

from analysis.appraisal import RatedUnit
from analysis.appraisal_report import TYPE_LABELS, write_appraisal_report
from analysis.appraisal_scoring import load_appraisal_config, score_appraisal
from analysis.errors import InputError
from analysis.io import read_population
from analysis.scoring import ConfigError
from survey.bootstrap import questionnaire_for_wave
from survey.config import POPULATION_DIR, SCORING_DIR
from survey.responses import responses_frame, wave_data
from ui import charts
from ui.runs import cached_run, fingerprint
from ui.session import t

UNWEIGHTED = "__none__"


def _appraisal_configs() -> list[str]:
    return sorted(p.name for p in SCORING_DIR.glob("*.yaml") if "kind: appraisal" in p.read_text(encoding="utf-8"))


def render(store, account, wave_id: str, exclude_flagged: bool = False) -> None:
    qn = questionnaire_for_wave(store, wave_id)
    st.caption(t("appraisal.caption", n=len(qn.rated_units)) + (t("appraisal.example") if qn.example else ""))
    col_pop, col_cfg = st.columns(2)
    pop_files = sorted(p.name for p in POPULATION_DIR.glob("*.csv"))
    pop_choice = col_pop.selectbox(t("analysis.population"), [UNWEIGHTED, *pop_files], key="appraisal_pop",
                                   format_func=lambda n: t("appraisal.unweighted") if n == UNWEIGHTED else n)
    configs = _appraisal_configs()
    cfg_choice = col_cfg.selectbox(t("analysis.config"), configs, key="appraisal_cfg")
    data = wave_data(store, account, wave_id)
    if data.responses == 0:
        st.info(t("analysis.no_data"))
        return
    try:
        population = None if pop_choice == UNWEIGHTED else read_population(POPULATION_DIR / pop_choice)
        config = load_appraisal_config(SCORING_DIR / cfg_choice)
        units = [RatedUnit(u.id, u.name, u.type) for u in qn.rated_units]
        stamp = (data.responses, data.exclusions, wave_id, exclude_flagged)
        key = fingerprint("appraisal", *stamp, config.hash(), "" if population is None else population.to_csv())

        def compute():
            frame = responses_frame(store, account, wave_id, exclude_flagged=exclude_flagged)
            return score_appraisal(frame, units, population, config, source=f"wave {wave_id}", wave=wave_id)

        with st.spinner(t("analysis.computing")):
            run = cached_run(key, compute)
    except (InputError, ConfigError) as err:
        st.error(t("analysis.error") + "\n\n" + "\n".join(f"- {p}" for p in err.problems[:30]))
        return
    rec = run.record
    st.caption(t("appraisal.weighting." + rec["weighting"]))
    st.caption(t("analysis.record_line", config=f"{rec['config_name']} ({rec['config_hash'][:8]})",
                 count=rec["data_count"], data=rec["data_hash"][:8], excluded=len(rec["exclusions"]),
                 code=rec["code_version"], result=rec["result_hash"][:8]))
    tabs = [(ty, label) for ty, label in TYPE_LABELS.items() if (run.scores["type"] == ty).any()]
    for tab, (ty, label) in zip(st.tabs([t(f"appraisal.type.{ty}") for ty, _ in tabs]), tabs):
        with tab:
            part = run.scores[run.scores["type"] == ty]
            table = pd.DataFrame({
                t("analysis.col_rank"): part["rank"], t("appraisal.col_unit"): part["name"],
                t("analysis.col_points"): part["points"], t("appraisal.col_rate"): part["rate"] * 100,
                t("analysis.col_low"): part["rate_low"] * 100, t("analysis.col_high"): part["rate_high"] * 100,
                t("appraisal.col_aware"): part["aware_rate"] * 100, t("analysis.col_n_valid"): part["n_valid"],
                t("appraisal.col_rank_interval"): [f"{a}–{b}" if pd.notna(a) else "" for a, b in
                                                    zip(part["rank_low"], part["rank_high"])],
                **({t("appraisal.col_p_below"): part["p_below"] * 100} if "p_below" in part else {}),
                t("analysis.col_warnings"): part["warnings"].map(lambda w: "；".join(w))})
            pct = st.column_config.NumberColumn(format="%.1f%%")
            st.dataframe(table, hide_index=True, width="stretch", column_config={
                t("analysis.col_points"): st.column_config.NumberColumn(format="%.2f"),
                t("appraisal.col_rate"): pct, t("analysis.col_low"): pct, t("analysis.col_high"): pct,
                t("appraisal.col_aware"): pct, t("appraisal.col_p_below"): pct})
            st.altair_chart(charts.rates_with_ci(part, "name", "rate", "rate_low", "rate_high",
                                                 t("appraisal.col_rate")), width="stretch")
            st.altair_chart(charts.rates_with_ci(part.assign(aware_low=part["aware_rate"],
                                                             aware_high=part["aware_rate"]),
                                                 "name", "aware_rate", "aware_low", "aware_high",
                                                 t("appraisal.col_aware")), width="stretch")
    names = {u.id: u.name for u in qn.rated_units}
    st.markdown(f"**{t('appraisal.pairs')}**")
    st.caption(t("appraisal.pairs_caption"))
    pw = run.pairwise
    st.dataframe(pd.DataFrame({
        t("appraisal.col_type"): pw["type"].map(lambda ty: t(f"appraisal.type.{ty}")),
        t("appraisal.col_a"): pw["unit_a"].map(names), t("appraisal.col_b"): pw["unit_b"].map(names),
        t("appraisal.col_diff"): pw["diff"] * 100, t("analysis.col_p"): pw["p"], t("appraisal.col_p_holm"): pw["p_holm"]}),
        hide_index=True, width="stretch",
        column_config={t("appraisal.col_diff"): st.column_config.NumberColumn(format="%+.1f")})
    dims = run.extra.get("dimensions")
    if dims is not None and not dims.empty:  # the dimension items (履职成效, 信息公开) of every unit
        st.markdown(f"**{t('appraisal.dimensions')}**")
        labels = {d.id: d.label for d in qn.unit_dimensions}
        wide = dims.assign(name=dims["unit"].map(names), rate=dims["rate"] * 100).pivot_table(
            index="name", columns="dimension", values="rate", sort=False)
        wide = wide[[*[c for c in labels if c in wide.columns], *[c for c in wide.columns if c not in labels]]]
        wide.columns = [labels.get(c, c) for c in wide.columns]
        st.dataframe(wide, width="stretch", column_config={c: st.column_config.NumberColumn(format="%.1f%%")
                                                           for c in wide.columns})
    report = io.BytesIO()
    write_appraisal_report(run, report)
    d1, d2, d3 = st.columns(3)
    d1.download_button(t("analysis.download_xlsx"), report.getvalue(), file_name=f"appraisal-{wave_id}.xlsx")
    d2.download_button(t("analysis.download_csv"), run.estimates.to_csv(index=False).encode("utf-8-sig"),
                       file_name="appraisal-estimates.csv")
    d3.download_button(t("analysis.download_json"), json.dumps({"record": rec, "scores": run.to_json()},
                                                                ensure_ascii=False, indent=2).encode("utf-8"),
                       file_name="appraisal-record.json")
