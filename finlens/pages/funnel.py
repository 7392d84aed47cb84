"""Funnel: a catalog funnel or one built with clicks; its steps as a vertical funnel with the drop-offs shaded,
conversion from step 1 and from the previous step, the time to convert, the trend by entry period, a breakdown;
a click on a step, a drop-off or a period lists those users; a built funnel can be saved as YAML."""

from __future__ import annotations

import streamlit as st

from finlens.app import adhoc, tables
from finlens.app import charts as app_charts
from finlens.app import model_charts as charts
from finlens.app.board import guarded
from finlens.app.filters import current
from finlens.app.i18n import plain, section, t
from finlens.app.url_state import pick_one
from finlens.app.user_list import show_users
from finlens.pages import funnel_builder as builder
from semantic import Drill
from semantic.catalog.formatting import format_value
from semantic.catalog.specs import FunnelMetric

NO_DIMENSION = "none"
VIEWS = ("steps", "trend")
TREND_GRAINS = ("day", "week", "month")
PERCENTILE_COLUMNS = [f"seconds_to_convert_p{p}" for p in (10, 25, 50, 75, 90)]
text = section("funnel")

filters = current()
lang = filters.language
st.title(t("funnel", lang))
name, definition = builder.pick_source(filters)
catalog = adhoc.catalog_for(definition)
metric = catalog.metrics[name]
assert isinstance(metric, FunnelMetric)
labels = {step.name: step.label.get(lang) for step in metric.steps}
window = builder.human_window(metric.window_seconds, lang)
st.caption(
    text(
        "window_caption",
        lang,
        window=window,
        first=plain(metric.steps[0].label.get(lang)),
        last=plain(metric.steps[-1].label.get(lang)),
    )
)
with st.expander(text("why_title", lang)):
    st.markdown(
        text(
            "why_body",
            lang,
            first=plain(metric.steps[0].label.get(lang)),
            last=plain(metric.steps[-1].label.get(lang)),
            window=window,
        )
    )
a, b, c = st.columns(3)
with a:
    view = pick_one(
        text("view", lang),
        VIEWS,
        key="funnel_view",
        labels=lambda v: text(f"view_{v}", lang),
        widget=st.segmented_control,
        default="steps",
    )
grain = "week"
if view == "trend":
    with b:
        grain = (
            pick_one(
                t("grain", lang),
                TREND_GRAINS,
                key="funnel_grain",
                default="week",
                labels=lambda g: t(f"grain_{g}", lang),
            )
            or "week"
        )
usable = [d.name for d in catalog.dimensions_for(metric.model)]
with c:
    by = pick_one(
        t("by", lang),
        [NO_DIMENSION, *usable],
        key="funnel_by",
        default=NO_DIMENSION,
        labels=lambda n: t("no_dimension", lang) if n == NO_DIMENSION else catalog.dimensions[n].label.get(lang),
    )
dims = (by,) if by and by != NO_DIMENSION else ()


def words() -> dict[str, str]:
    return {
        "reached": t("reached", lang),
        "dropped": t("dropped", lang),
        "users": t("users", lang),
        "from_previous": t("column_conversion_from_previous", lang),
        "from_first": t("column_conversion_from_first", lang),
    }


def formatted(rows: list[dict], columns: list[str]) -> list[dict]:
    """Rates as percentages and seconds as durations, for the table (the CSV keeps the raw numbers)."""
    shown = []
    for row in rows:
        out = dict(row)
        out["step_name"] = labels.get(row["step_name"], row["step_name"])
        for column in ("conversion_from_previous", "conversion_from_first"):
            out[column] = format_value(row[column], "percent")
        for column in ("median_seconds_to_convert", *PERCENTILE_COLUMNS):
            if column in row:
                out[column] = format_value(row[column], "duration")
        shown.append(out)
    return shown


def steps_view() -> None:
    result = adhoc.run(filters.query((name,), time_to_convert=True), definition)
    state = app_charts.show(charts.vertical_funnel(result.rows, labels, words()), key="funnel_chart")
    st.caption(text("chart_help", lang))
    point = app_charts.picked(state)
    options = [f"reached:{s}" for s in range(1, len(metric.steps) + 1)]
    options += [f"dropped:{s}" for s in range(2, len(metric.steps) + 1)]
    if point and "step" in point:
        pick = f"{point.get('part', 'reached')}:{int(point['step'])}"
        if pick in options and st.query_params.get("funnel_drill") != pick:
            st.query_params["funnel_drill"] = pick
            st.rerun()
    st.dataframe(tables.shown(result.columns, formatted(result.rows, result.columns), catalog, lang), hide_index=True)
    st.subheader(text("time_to_convert", lang))
    unit, unit_name = charts.duration_unit([r.get("seconds_to_convert_p90") for r in result.rows])
    if any(r.get("seconds_to_convert_p50") is not None for r in result.rows[1:]):
        app_charts.show(
            charts.time_to_convert(result.rows, labels, text(f"unit_{unit_name}", lang), unit), select=False
        )
        st.caption(text("time_to_convert_help", lang))
    else:
        st.info(text("nobody_converted", lang))
    if dims:
        grouped = adhoc.run(filters.query((name,), dimensions=dims), definition)
        st.subheader(f"{t('by', lang)} {catalog.dimensions[dims[0]].label.get(lang)}")
        st.dataframe(
            tables.shown(grouped.columns, formatted(grouped.rows, grouped.columns), catalog, lang), hide_index=True
        )
    drill = pick_one(
        t("drill_into", lang),
        options,
        key="funnel_drill",
        default=f"reached:{len(metric.steps)}",
        labels=lambda o: f"{t(o.split(':')[0], lang)} · {t('step', lang)} {o.split(':')[1]}",
    )
    part, step = (drill or options[-1]).split(":")
    query = filters.query((name,))
    show_users(
        lambda limit, offset: adhoc.users(
            query, Drill(step=int(step), dropped=part == "dropped"), definition, limit=limit, offset=offset
        ),
        key="funnel_users",
        lang=lang,
        title=f"{t(part, lang)} · {t('step', lang)} {step}",
        file_name=f"{name}_step{step}_{part}.csv",
    )


def trend_view() -> None:
    result = adhoc.run(filters.query((name,), grain=grain, dimensions=dims), definition)
    if not result.rows:
        st.info(text("nobody_entered", lang))
        return
    series = [r for r in result.rows if r["step"] > 1 and not dims]
    if series:
        chart = charts.trend(
            series, grain, "step_name", "conversion_from_first", "percent", {k: f"→ {v}" for k, v in labels.items()}
        )
        state = app_charts.show(chart, key="funnel_trend_chart")
        st.caption(text("trend_help", lang))
        point = app_charts.picked(state)
        if point and grain in point:
            bucket = charts.picked_day(point[grain])
            if st.query_params.get("funnel_period") != bucket:
                st.query_params["funnel_period"] = bucket
                st.rerun()
    st.dataframe(tables.shown(result.columns, formatted(result.rows, result.columns), catalog, lang), hide_index=True)
    periods = sorted({str(r[grain]) for r in result.rows})
    period = pick_one(text("period", lang), periods, key="funnel_period", default=periods[-1])
    step = pick_one(
        t("step", lang),
        [str(s) for s in range(1, len(metric.steps) + 1)],
        key="funnel_trend_step",
        default=str(len(metric.steps)),
        labels=lambda s: f"{s}. {labels[metric.steps[int(s) - 1].name]}",
    )
    query = filters.query((name,), grain=grain)
    show_users(
        lambda limit, offset: adhoc.users(
            query, Drill(bucket=period, step=int(step or 1)), definition, limit=limit, offset=offset
        ),
        key="funnel_trend_users",
        lang=lang,
        title=f"{period} · {t('step', lang)} {step}",
        file_name=f"{name}_{period}_step{step}.csv",
    )


def render() -> None:
    if view == "trend":
        trend_view()
    else:
        steps_view()
    if definition is not None:
        adhoc.save_panel(definition, key="funnel_yaml", lang=lang, saved=builder.saved)


guarded(render)
