"""Experiments: each variant's conversion against the control, with lift, p-value and interval; open the users of a variant."""

from __future__ import annotations

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import freshness
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.drill import USERS_PAGE, Target, go
from finlens.app.filters import current
from finlens.app.i18n import t
from finlens.app.members import show_members
from finlens.app.url_state import pick_one
from semantic.analyses.experiment_run import experiment_members, run_experiment
from semantic.analyses.experiments import load_experiments
from semantic.catalog.formatting import format_value

LIVE_SECONDS = 2
filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(t("experiments", lang))


@st.cache_data(show_spinner=False, ttl=app_state.CACHE_SECONDS)
def _result(name: str, url: str, start, end):
    experiment = load_experiments(catalog)[name]
    return run_experiment(catalog, experiment, app_state.warehouse(url), start=start, end=end)


def render() -> None:
    experiments = load_experiments(catalog)
    if not experiments:
        st.info("–")
        return
    name = pick_one(
        t("experiments", lang), list(experiments), key="experiment", labels=lambda n: experiments[n].label.get(lang)
    )
    experiment = experiments[name]
    st.caption(f"{experiment.label.get(lang)} · {experiment.description}")
    if freshness.running(experiment.end) and st.toggle(
        t("freshness.live", lang), help=t("freshness.live_help", lang), key="experiment_live"
    ):
        st.fragment(run_every=LIVE_SECONDS)(_live)(name, experiment)
    else:
        _outcome(name, experiment)


def _live(name: str, experiment) -> None:
    """The outcome again every LIVE_SECONDS, on the data's latest watermark (a push campaign in real time)."""
    app_state.pin_watermark()
    freshness.show(lang, st)
    st.caption(t("freshness.live_running", lang, seconds=LIVE_SECONDS))
    _outcome(name, experiment)


def _outcome(name: str, experiment) -> None:
    fixed = experiment.start is not None or experiment.end is not None
    start, end = (experiment.start, experiment.end) if fixed else (filters.start, filters.end)
    result = _result(name, app_state.warehouse_url(), start, end)
    level = f"{experiment.confidence:.0%}"
    st.caption(
        f"{catalog.dimensions[experiment.variant].label.get(lang)} · {result.start or '…'} – {result.end or '…'}"
        + (f" · {result.unassigned_users:,} {t('unassigned', lang)}" if result.unassigned_users else "")
    )
    rows = [{"variant": v.variant, "rate": v.rate} for v in result.variants]
    app_charts.show(
        app_charts.bars(rows, "variant", t("variant", lang), "rate", t("rate", lang), "percent"), select=False
    )
    table = []
    for v in result.variants:
        c = v.comparison
        table.append(
            {
                t("variant", lang): v.variant + (f" ({t('control', lang)})" if v.is_control else ""),
                t("users", lang): f"{v.users:,}",
                t("converted_users", lang): f"{v.converted:,}",
                t("rate", lang): format_value(v.rate, "percent"),
                t("lift", lang): format_value(c.lift, "percent") if c else "",
                t("relative_lift", lang): format_value(c.relative_lift, "percent") if c else "",
                t("p_value", lang): (f"{c.p_value:.4g}" if c.p_value is not None else "–") if c else "",
                t("interval", lang): f"[{format_value(c.ci_low, 'percent')}, {format_value(c.ci_high, 'percent')}]"
                if c and c.ci_low is not None
                else "",
            }
        )
    st.dataframe(table, hide_index=True, width="stretch")
    for v in result.variants:
        if v.comparison is None:
            continue
        significant = v.comparison.p_value is not None and v.comparison.p_value < 1 - experiment.confidence
        message = t("significant" if significant else "not_significant", lang).format(level=level)
        (st.success if significant else st.warning)(f"{v.variant}: {message}")
        if v.comparison.small_sample:
            st.caption(t("small_sample", lang))
    st.subheader(t("members", lang))
    variant = st.segmented_control(
        t("variant", lang),
        [v.variant for v in result.variants],
        default=result.variants[0].variant,
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
