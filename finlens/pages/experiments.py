"""Experiments: each variant's conversion against the control, with lift, p-value and interval; open the users of a variant."""

from __future__ import annotations

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import freshness
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.chart_compare import experiment_spec
from finlens.app.drill import USERS_PAGE, Target, go
from finlens.app.filters import current
from finlens.app.i18n import t
from finlens.app.members import show_members
from finlens.app.url_state import pick_one
from semantic.analyses.experiment_run import experiment_members, run_experiment
from semantic.analyses.experiments import load_experiments
from semantic.catalog.formatting import format_change, format_p_value, format_points, format_value

LIVE_SECONDS = 2
filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(t("experiments", lang))


@st.cache_resource(max_entries=2)
def _experiments(version: str) -> dict:
    """``metrics/marketing/experiments.yml``, read again when a file under ``metrics/`` changes."""
    return load_experiments(catalog)


@st.cache_data(show_spinner=False, ttl=app_state.CACHE_SECONDS)
def _result(name: str, url: str, start, end, version: str):
    experiment = _experiments(version)[name]
    return run_experiment(catalog, experiment, app_state.warehouse(url), start=start, end=end)


def render() -> None:
    version = app_state.catalog_version()
    experiments = _experiments(version)
    if not experiments:
        st.info("–")
        return
    name = pick_one(
        t("experiments", lang), list(experiments), key="experiment", labels=lambda n: experiments[n].label.get(lang)
    )
    experiment = experiments[name]
    st.caption(experiment.described(lang))
    if freshness.running(experiment.end) and st.toggle(
        t("freshness.live", lang), help=t("freshness.live_help", lang), key="experiment_live"
    ):
        st.fragment(run_every=LIVE_SECONDS)(_live)(name, experiment, version)
    else:
        _outcome(name, experiment, version)


def _live(name: str, experiment, version: str) -> None:
    """The outcome again every LIVE_SECONDS, on the data's latest watermark (a push campaign in real time)."""
    app_state.pin_watermark()
    freshness.show(lang, st)
    st.caption(t("freshness.live_running", lang, seconds=LIVE_SECONDS))
    _outcome(name, experiment, version)


def _outcome(name: str, experiment, version: str) -> None:
    fixed = experiment.start is not None or experiment.end is not None
    start, end = (experiment.start, experiment.end) if fixed else (filters.start, filters.end)
    result = _result(name, app_state.warehouse_url(), start, end, version)
    level = f"{experiment.confidence:.0%}"
    dim = catalog.dimensions[experiment.variant]

    def shown(variant: str) -> str:
        return dim.value_label(variant, lang) + (f" ({t('control', lang)})" if variant == experiment.control else "")

    st.caption(
        f"{dim.label.get(lang)} · {result.start or '…'} – {result.end or '…'}"
        + (f" · {result.unassigned_users:,} {t('unassigned', lang)}" if result.unassigned_users else "")
    )
    bars = [
        {
            "variant": v.variant,
            "label": shown(v.variant),
            "rate": v.rate,
            "users": v.users,
            "converted": v.converted,
            "control": v.is_control,
        }
        for v in result.variants
    ]
    app_charts.show(experiment_spec(bars, (dim.label.get(lang), t("rate", lang)), lang), select=False)
    table = []
    for v in result.variants:
        c = v.comparison
        table.append(
            {
                t("variant", lang): shown(v.variant),
                t("users", lang): format_value(v.users, "number", lang),
                t("converted_users", lang): format_value(v.converted, "number", lang),
                t("rate", lang): format_value(v.rate, "percent", lang),
                t("lift", lang): format_change(c.relative_lift) if c else "",
                t("difference", lang): format_points(c.lift) if c else "",
                t("p_value", lang): format_p_value(c.p_value) if c else "",
                t("interval", lang, level=level): f"[{format_points(c.ci_low)}, {format_points(c.ci_high)}]"
                if c and c.ci_low is not None
                else "",
            }
        )
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(t("lift_note", lang))
    for v in result.variants:
        if v.comparison is None:
            continue
        significant = v.comparison.p_value is not None and v.comparison.p_value < 1 - experiment.confidence
        message = t("significant" if significant else "not_significant", lang).format(level=level)
        (st.success if significant else st.warning)(f"{shown(v.variant)}: {message}")
        if v.comparison.small_sample:
            st.caption(t("small_sample", lang))
    st.subheader(t("members", lang))
    variant = st.segmented_control(
        t("variant", lang),
        [v.variant for v in result.variants],
        default=result.variants[0].variant,
        format_func=shown,
        key="experiment_variant",
    )
    if variant is None:
        return
    if experiment.converted is not None:
        converted = st.segmented_control(
            " ",
            ["converted_users", "not_converted_users"],
            default="converted_users",
            format_func=lambda k: t(k, lang),
            key="experiment_converted",
            label_visibility="collapsed",
        )
        members = experiment_members(
            catalog,
            experiment,
            result.end,
            app_state.warehouse(app_state.warehouse_url()).dialect,
            variant=variant,
            converted=converted == "converted_users",
        )
        show_members(members, result.end, key="experiment_members", lang=lang, file_name=f"{name}_{variant}.csv")
    elif not fixed and catalog.metrics[experiment.metric].type == "funnel":
        steps = len(catalog.metrics[experiment.metric].steps)
        if st.button(t("converted_users", lang), key="experiment_open"):
            go(USERS_PAGE, Target(metric=experiment.metric, filters=((experiment.variant, variant),), step=steps))


guarded(render)
