"""Analyst: weight, estimate, score, compare, publish — the public-satisfaction component."""
from __future__ import annotations

import hashlib
import io
import json

import pandas as pd
import streamlit as st

from analysis.drivers import key_drivers
from analysis.errors import InputError
from analysis.io import read_population, read_responses
from analysis.modes import MIX_LIMIT
from analysis.planning import achieved_margins, plan_table
from analysis.score_run import compute_score_run, write_run_report, wave_comparison
from analysis.scoring import ConfigError, load_config, parse_config
from analysis.trend import annual, five_year
from survey import publishing, wave_setup
from survey.config import POPULATION_DIR, SCORING_DIR
from survey.bootstrap import questionnaire_for_wave
from survey.waves import wave_ids
from survey.responses import wave_data
from ui import charts, plain, session
from ui.runs import cached_run, fingerprint
from ui.plain import md_escape
from ui.session import t

APPROXIMATE_POPULATION = {"xiamen-2020.csv"}

account = session.page_account(__file__)
store = session.store()
st.title(t("analysis.title"))
waves = wave_ids(store, account)

# ---- inputs ---------------------------------------------------------------------------
col_data, col_pop, col_cfg = st.columns(3)
source = col_data.radio(t("analysis.source"), ["wave", "upload"], horizontal=True,
                        format_func=lambda s: t(f"analysis.source_{s}"))
wave_id = None
upload = None
exclude_flagged = False
if source == "wave":
    wave_id = session.wave_picker(col_data, waves, "analysis_wave")
    exclude_flagged = col_data.checkbox(t("quality.exclude_flagged"), key="analysis_exclude_flagged",
                                        help=t("quality.exclude_flagged_help"))
else:
    upload = col_data.file_uploader(t("analysis.upload_responses"), type=["csv", "xlsx"])
if wave_id and questionnaire_for_wave(store, wave_id).kind == "appraisal":  # 部门评议: units rated by residents
    from ui import appraisal_view
    appraisal_view.render(store, account, wave_id, exclude_flagged)
    st.stop()

UPLOAD = "__upload__"
WAVE_CHOICE = "__wave__"  # the file the admin chose for the wave (survey.wave_setup), first when there is one
chosen_pop = wave_setup.chosen_file(store, wave_id, "population") if wave_id else None
chosen_cfg = wave_setup.chosen_file(store, wave_id, "scoring") if wave_id else None


def file_label(name: str, chosen) -> str:
    if name == UPLOAD:
        return t("analysis.upload_option")
    return t("analysis.wave_choice", name=chosen.name) if name == WAVE_CHOICE else name


pop_files = sorted(p.name for p in POPULATION_DIR.glob("*.csv"))
NO_POPULATION = "__none__"  # no census figures: every weight 1, and the page and report say `unweighted`
pop_choice = col_pop.selectbox(t("analysis.population"),
                               [*([WAVE_CHOICE] if chosen_pop else []), *pop_files, UPLOAD, NO_POPULATION],
                               format_func=lambda n: t("appraisal.unweighted") if n == NO_POPULATION
                               else file_label(n, chosen_pop))
pop_upload = col_pop.file_uploader(t("analysis.population_upload"), type=["csv"]) if pop_choice == UPLOAD else None
if pop_choice in APPROXIMATE_POPULATION:
    col_pop.caption(t("analysis.population_approx", name=pop_choice))
cfg_files = sorted(p.name for p in SCORING_DIR.glob("*.yaml")
                   if "kind: appraisal" not in p.read_text(encoding="utf-8"))  # appraisal configs: ui.appraisal_view
cfg_options = [*([WAVE_CHOICE] if chosen_cfg else []), *cfg_files, UPLOAD]
cfg_choice = col_cfg.selectbox(t("analysis.config"), cfg_options,
                               index=0 if chosen_cfg else cfg_options.index("default.yaml")
                               if "default.yaml" in cfg_options else 0,
                               format_func=lambda n: file_label(n, chosen_cfg))
cfg_upload = col_cfg.file_uploader(t("analysis.config_upload"), type=["yaml", "yml"]) if cfg_choice == UPLOAD else None


def load_inputs():
    if pop_choice == NO_POPULATION:
        population = None
    elif pop_choice == UPLOAD:
        if pop_upload is None:
            st.info(t("analysis.need_upload"))
            st.stop()
        population = read_population(io.BytesIO(pop_upload.getvalue()), pop_upload.name)
    elif pop_choice == WAVE_CHOICE:
        population = read_population(io.BytesIO(chosen_pop.text.encode("utf-8")), chosen_pop.name)
    else:
        population = read_population(POPULATION_DIR / pop_choice)
    if cfg_choice == UPLOAD:
        if cfg_upload is None:
            st.info(t("analysis.need_upload"))
            st.stop()
        import yaml
        try:  # bad YAML or a GBK file: a ConfigError naming the file, not a traceback
            raw = yaml.safe_load(cfg_upload.getvalue().decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            reason = "not UTF-8 text" if isinstance(err, UnicodeDecodeError) else str(err).splitlines()[0]
            raise ConfigError([f"{cfg_upload.name}: not valid YAML: {reason}"]) from None
        config = parse_config(raw, cfg_upload.name)
    elif cfg_choice == WAVE_CHOICE:
        import yaml
        config = parse_config(yaml.safe_load(chosen_cfg.text), chosen_cfg.name)
    else:
        config = load_config(SCORING_DIR / cfg_choice)
    return population, config


try:
    population, config = load_inputs()
    pop_key = population.to_csv() if population is not None else "unweighted"
    if source == "wave":
        data = wave_data(store, account, wave_id)
        if data.responses == 0:
            st.info(t("analysis.no_data"))
            st.stop()
        stamp = (data.responses, data.exclusions, data.last_edit, wave_id)
        flags_stamp = (exclude_flagged, data.qc_run if exclude_flagged else None)
        key = fingerprint("wave", *stamp, *flags_stamp, config.hash(), pop_key)
        compute = lambda: publishing.compute_for_wave(store, account, wave_id, population, config,  # noqa: E731
                                                      exclude_flagged=exclude_flagged)
    else:
        if upload is None:
            st.info(t("analysis.need_upload"))
            st.stop()
        raw = upload.getvalue()
        key = fingerprint("file", hashlib.sha256(raw).hexdigest(), config.hash(), pop_key)
        frame = read_responses(io.BytesIO(raw), upload.name)
        compute = lambda: compute_score_run(frame, population, config, source=upload.name)  # noqa: E731
    with st.spinner(t("analysis.computing")):
        run = cached_run(key, compute)
except (InputError, ConfigError) as err:
    st.error(t("analysis.error") + "\n\n" + "\n".join(f"- {p}" for p in err.problems[:30]))
    st.stop()

rec = run.record
if rec.get("weighting") == "unweighted":
    st.warning(t("analysis.weighting_unweighted"))
st.caption(t("analysis.record_line", config=f"{rec['config_name']} ({rec['config_hash'][:8]})",
             count=rec["data_count"], data=rec["data_hash"][:8], excluded=len(rec["exclusions"]),
             code=rec["code_version"], result=rec["result_hash"][:8]))

# earlier waves of the same config and population: the comparison on 对比 (page and report) and the trends
earlier: list[str] = []
runs = {wave_id: run}
versus_previous = None
if wave_id:
    earlier_data = {w: wave_data(store, account, w) for w in waves if w < wave_id}
    earlier = [w for w, d in earlier_data.items() if d.responses > 0]
    for w in earlier:
        stamp = (earlier_data[w].responses, earlier_data[w].exclusions, earlier_data[w].last_edit, w)
        runs[w] = cached_run(fingerprint("wave", *stamp, config.hash(), pop_key),
                             lambda w=w: publishing.compute_for_wave(store, account, w, population, config))
    if earlier:
        versus_previous = wave_comparison(run, runs[earlier[-1]])

(tab_score, tab_items, tab_weights, tab_compare, tab_drivers, tab_plan, tab_publish) = st.tabs(
    [t(f"analysis.tab_{k}") for k in ("score", "items", "weights", "compare", "drivers", "plan", "publish")])

# ---- scores ---------------------------------------------------------------------------
with tab_score:
    st.caption(t("analysis.score_caption", name=config.name, full=f"{config.full_points:g}", method=config.method,
                 basis=config.basis))
    scores = run.scores
    columns = {
        t("analysis.col_rank"): scores["rank"], t("analysis.col_unit"): scores["unit"],
        t("analysis.col_points"): scores["points"], t("analysis.col_rate"): scores["rate"] * 100,
        t("analysis.col_margin"): (scores["rate_high"] - scores["rate_low"]) / 2 * 100,
        t("analysis.col_rank_interval"): [(str(int(a)) if a == b else t("analysis.rank_interval", low=int(a), high=int(b)))
                                          if pd.notna(a) and pd.notna(b) else ""
                                          for a, b in zip(scores["rank_low"], scores["rank_high"])],
        t("analysis.col_n_valid"): scores["n_valid"]}
    if config.threshold is not None:
        columns[t("analysis.col_p_below")] = scores["p_below"] * 100
        columns[t("analysis.col_status")] = [t(f"analysis.status_{s}") if isinstance(s, str) else ""
                                             for s in scores["threshold_status"]]
    columns[t("analysis.col_warnings")] = scores["warnings"].map(lambda w: "；".join(w))
    st.dataframe(pd.DataFrame(columns), hide_index=True, width="stretch", column_config={
        t("analysis.col_points"): st.column_config.NumberColumn(format="%.2f"),
        t("analysis.col_rate"): st.column_config.NumberColumn(format="%.1f%%"),
        t("analysis.col_margin"): st.column_config.NumberColumn(format="±%.1f"),
        t("analysis.col_p_below"): st.column_config.NumberColumn(format="%.1f%%")})
    if config.threshold is not None:
        st.caption(t("analysis.threshold_caption", line=f"{config.threshold:.0%}"))
    st.caption(t("analysis.rank_caption"))
    st.markdown(f"**{t('analysis.chart_rates')}**")
    line = config.threshold if config.basis == "rate" else None
    st.altair_chart(charts.rates_with_ci(scores, "unit", "rate", "rate_low", "rate_high", t("analysis.col_rate"),
                                         threshold=line,
                                         threshold_label=t("analysis.threshold_line", line=f"{line:.0%}")
                                         if line is not None else ""), width="stretch")
    st.caption(t("analysis.exclusions_some", n=len(rec["exclusions"])) if rec["exclusions"]
               else t("analysis.exclusions_none"))
    report = io.BytesIO()
    comparisons = list(run.extra_comparisons())
    if versus_previous is not None:  # the report's 对比 holds what the page shows
        comparisons.insert(0, ("与上一轮次比较", versus_previous))
    write_run_report(run, report, comparisons)
    d1, d2, d3 = st.columns(3)
    d1.download_button(t("analysis.download_xlsx"), report.getvalue(), file_name=f"score-{rec.get('wave') or 'file'}.xlsx")
    d2.download_button(t("analysis.download_csv"), run.estimates.to_csv(index=False).encode("utf-8-sig"),
                       file_name="estimates.csv")
    d3.download_button(t("analysis.download_json"), json.dumps({"record": rec, "scores": run.to_json()},
                                                                ensure_ascii=False, indent=2).encode("utf-8"),
                       file_name="record.json")

# ---- items ----------------------------------------------------------------------------
with tab_items:
    labels = {}
    if wave_id:
        qn = questionnaire_for_wave(store, wave_id)
        labels = {i: qn.label(qn.question(i), session.lang()) for i in qn.item_ids}
    est = run.estimates.assign(label=lambda d: d["item"].map(lambda i: labels.get(i, i)))
    st.markdown(f"**{t('analysis.heatmap')}**")
    st.altair_chart(charts.heatmap(est, "unit", "label", "rate"), width="stretch")
    shown = est[["unit", "label", "n_valid", "rate", "rate_low", "rate_high", "index"]].rename(columns={
        "unit": t("analysis.col_unit"), "label": t("analysis.col_item"), "n_valid": t("analysis.col_n_valid"),
        "rate": t("analysis.col_rate"), "rate_low": t("analysis.col_low"), "rate_high": t("analysis.col_high"),
        "index": t("analysis.col_index")})
    st.dataframe(shown, hide_index=True, width="stretch")

# ---- weights --------------------------------------------------------------------------
with tab_weights:
    st.caption(t("analysis.weights_caption"))
    diag = run.diagnostics
    if "weights_above" in diag and (diag["weights_above"] > 0).any():  # extreme weights, named per unit
        hit = diag[diag["weights_above"] > 0]
        st.warning(t("analysis.extreme_weights", multiple=f"{config.warnings.max_weight_ratio:g}",
                     units="、".join(t("analysis.extreme_unit", unit=md_escape(r.unit), n=int(r.weights_above),
                                       largest=f"{r.max_weight_ratio:.1f}") for r in hit.itertuples())))
    st.dataframe(plain.headed(diag, "analysis.col_"), hide_index=True, width="stretch")

# ---- comparisons and trends -----------------------------------------------------------
with tab_compare:
    mix = run.extra.get("mode_mix")
    if mix is not None and not mix.empty:  # which units were reached by which modes, and a note where mixes differ
        st.markdown(f"**{t('analysis.mode_mix')}**")
        differing = [u for u, d in zip(mix["unit"], mix["differs"]) if d]
        if differing:
            st.warning(t("analysis.mode_mix_differs", units="、".join(md_escape(u) for u in differing),
                         limit=f"{MIX_LIMIT:.0%}"))
        else:
            st.caption(t("analysis.mode_mix_alike", limit=f"{MIX_LIMIT:.0%}"))
        mode_cols = [c for c in mix.columns if c not in ("unit", "n", "distance", "differs")]
        st.dataframe(mix.assign(**{c: mix[c] * 100 for c in [*mode_cols, "distance"]},
                                differs=mix["differs"].map(lambda d: t("analysis.yes") if d else ""))
                     .rename(columns={"unit": t("analysis.col_unit"), "n": t("analysis.col_n"),
                                      "distance": t("analysis.col_mix_distance"), "differs": t("analysis.col_mix_differs"),
                                      **{c: t(f"mode.{c}") for c in mode_cols}}),
                     hide_index=True, width="stretch",
                     column_config={t(f"mode.{c}"): st.column_config.NumberColumn(format="%.1f%%")
                                    for c in mode_cols} | {
                         t("analysis.col_mix_distance"): st.column_config.NumberColumn(format="%.1f%%")})
    modes = run.extra.get("modes")
    if modes is not None and not modes.empty:  # composite by mode: one row per unit, one column per mode
        st.caption(t("analysis.modes_caption"))
        wide = modes.pivot_table(index="unit", columns="mode", values="rate", sort=False) * 100
        wide.columns = [t(f"mode.{c}") for c in wide.columns]
        wide.index.name = t("analysis.col_unit")
        st.dataframe(wide, width="stretch", column_config={c: st.column_config.NumberColumn(format="%.1f%%")
                                                           for c in wide.columns})
    mode_items = run.extra.get("mode_items")
    differences = run.extra.get("mode_differences")
    if mode_items is not None and not mode_items.empty:
        st.markdown(f"**{t('analysis.mode_items')}**")
        unit_pick = st.selectbox(t("analysis.col_unit"), list(dict.fromkeys(mode_items["unit"])), key="mode_unit")
        item_label = {i: labels.get(i, i) for i in mode_items["item"].unique()} | {"composite": t("analysis.composite")}
        part = mode_items[mode_items["unit"] == unit_pick]
        wide = part.pivot_table(index="item", columns="mode", values="rate", sort=False) * 100
        wide.index = [item_label.get(i, i) for i in wide.index]
        wide.columns = [t(f"mode.{c}") for c in wide.columns]
        st.dataframe(wide, width="stretch", height=35 * (len(wide) + 1) + 3,  # every item and the composite in view
                     column_config={c: st.column_config.NumberColumn(format="%.1f%%") for c in wide.columns})
        if differences is not None and not differences.empty:
            st.caption(t("analysis.mode_differences_caption"))
            d = differences[differences["unit"] == unit_pick]
            st.dataframe(pd.DataFrame({
                t("analysis.col_item"): d["item"].map(lambda i: item_label.get(i, i)),
                t("analysis.col_mode_pair"): [f"{t(f'mode.{a}')} − {t(f'mode.{b}')}"
                                              for a, b in zip(d["mode_a"], d["mode_b"])],
                t("analysis.col_mode_diff"): d["difference"] * 100, t("analysis.col_se_points"): d["se"] * 100,
                t("analysis.col_low"): d["low"] * 100, t("analysis.col_high"): d["high"] * 100,
                t("analysis.col_p"): d["p_value"]}), hide_index=True, width="stretch", column_config={
                    c: st.column_config.NumberColumn(format="%.1f") for c in (
                        t("analysis.col_mode_diff"), t("analysis.col_se_points"), t("analysis.col_low"), t("analysis.col_high"))}
                | {t("analysis.col_p"): st.column_config.NumberColumn(format="%.4f")})
    pairs = run.extra.get("pairwise")
    if pairs is not None and not pairs.empty:
        st.caption(t("analysis.pairwise_caption"))
        st.dataframe(pairs.rename(columns={"unit_a": t("analysis.col_unit_a"), "unit_b": t("analysis.col_unit_b"),
                                           "diff": t("analysis.col_diff_ab"), "se": t("analysis.col_se"),
                                           "p": t("analysis.col_p"), "p_holm": t("analysis.col_p_holm")}),
                     hide_index=True, width="stretch")
    effect = run.extra.get("cluster_effect")
    if effect is not None and not effect.empty:
        st.caption(t("analysis.cluster_caption", column=run.record["design"]["psu"]))
        st.dataframe(effect.rename(columns={"unit": t("analysis.col_unit"), "se_clustered": t("analysis.col_se_cluster"),
                                            "se_respondents": t("analysis.col_se_plain"),
                                            "widening": t("analysis.col_widening")}),
                     hide_index=True, width="stretch")
    if wave_id:
        st.caption(t("analysis.waves_caption"))
        if earlier:
            st.dataframe(plain.headed(versus_previous, "analysis.col_"), hide_index=True, width="stretch")
        else:
            st.info(t("analysis.no_previous"))
        series = annual({w: r.estimates for w, r in sorted(runs.items())})
        st.markdown(f"**{t('analysis.trend')}**")
        view = st.radio(t("analysis.trend"), ["annual", "five_year"], horizontal=True, label_visibility="collapsed",
                        format_func=lambda v: t(f"analysis.trend_{v}"))
        if view == "annual":
            st.altair_chart(charts.trend(series, "wave", "rate", "unit"), width="stretch")
        else:
            periods = five_year(series)
            st.altair_chart(charts.trend(periods, "period", "rate", "unit"), width="stretch")
            st.dataframe(plain.headed(periods, "analysis.col_"), hide_index=True, width="stretch")

# ---- key drivers ----------------------------------------------------------------------
with tab_drivers:
    st.caption(t("analysis.drivers_caption"))
    drivers = key_drivers(run.extra["data"], run.extra["weights"]["weight"])
    if "item" in drivers.columns:  # questions by their label, as everywhere on the page
        driver_qn = questionnaire_for_wave(store, wave_id) if wave_id else None
        drivers = drivers.assign(item=[driver_qn.label(driver_qn.question(i), session.lang())
                                       if driver_qn and i in driver_qn.item_ids else i for i in drivers["item"]])
    st.dataframe(plain.headed(drivers, "analysis.col_"), hide_index=True, width="stretch")

# ---- planning -------------------------------------------------------------------------
with tab_plan:
    st.caption(t("analysis.plan_caption"))
    p1, p2, p3 = st.columns(3)
    p = p1.number_input(t("analysis.plan_p"), 0.05, 0.99, 0.90, 0.01)
    e = p2.number_input(t("analysis.plan_e"), 0.005, 0.2, 0.03, 0.005, format="%.3f")
    deff = p3.number_input(t("analysis.plan_deff"), 1.0, 5.0, 1.3, 0.1)
    units = list(run.scores["unit"])
    st.dataframe(plain.headed(plan_table(units, p, e, deff, achieved_margins(run.estimates)), "analysis.col_"),
                 hide_index=True, width="stretch")

# ---- publish --------------------------------------------------------------------------
def show_verification(store, account, pub: dict, current: dict) -> None:
    """Exactly `survey verify` for this publication (chains, its pins, recomputation from its
    snapshot), then how today's data differ from that snapshot, said apart so nobody reads
    a later exclusion as a broken publication (or an intact one as today's figures)."""
    from survey.integrity import describe, verify_one
    report = verify_one(store, account, pub)
    if report.ok:
        st.success(t("analysis.verify_intact", id=pub["id"], hash=pub["result_hash"][:12]))
    else:
        _, bad = describe(report, "zh")
        st.error(md_escape(" ".join([t("analysis.verify_broken", id=pub["id"]), *bad])))
    since = publishing.since_publication(store, account, pub)
    if since.identical:
        st.info(t("analysis.today_same"))
    else:
        reasons = []
        if since.added:
            reasons.append(t("analysis.today_added", n=since.added))
        if since.dropped:
            reasons.append(t("analysis.today_dropped", n=since.dropped))
        if since.edited:
            ids = "、".join(since.edited[:5]) + (" …" if len(since.edited) > 5 else "")
            reasons.append(t("analysis.today_edited", n=len(since.edited), ids=ids))
        st.warning(md_escape(t("analysis.today_differs", reasons="；".join(reasons or [t("analysis.today_other")]))))
    if current.get("config_hash") and current["config_hash"] != pub["config_hash"]:
        st.caption(md_escape(t("analysis.today_config", now=current.get("config_name", ""), then=pub["config_name"])))


with tab_publish:
    if not wave_id:
        st.info(t("analysis.only_wave_publish"))
    elif account.can("analysis.publish"):
        st.caption(t("analysis.publish_help"))
        already = publishing.existing_publication(store, run)
        if already is not None:
            st.info(t("analysis.already_published", id=already))
        else:
            sure = st.checkbox(t("analysis.publish_confirm", wave=wave_id, hash=rec["result_hash"][:12]),
                               key="publish_sure")
            if st.button(t("analysis.publish"), key="publish_score", type="primary", disabled=not sure):
                st.session_state.pop("publish_sure", None)
                st.session_state["publish_msg"] = t("analysis.published", id=publishing.publish(store, account, run))
                st.rerun()
        if st.session_state.get("publish_msg"):
            st.success(st.session_state.pop("publish_msg"))
    if wave_id:
        st.markdown(f"**{t('analysis.published_list')}**")
        for pub in publishing.published(store, account, wave_id):
            cols = st.columns([3, 1])
            cols[0].write(f"#{pub['id']} · {pub['published_at']} · {pub['published_by']} · {pub['config_name']} · "
                          f"{pub['result_hash'][:12]}")
            if cols[1].button(t("analysis.verify"), key=f"verify_{pub['id']}"):
                show_verification(store, account, pub, rec)
