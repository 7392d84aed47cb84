"""Alerts: the definitions, the latest evaluations, each series with its band and fired points; "check now"."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from finlens.alerts.compose import by_label, condition_text, metric_format, metric_label
from finlens.alerts.images import alert_spec
from finlens.alerts.words import word
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.filters import current
from finlens.app.i18n import plain, section
from finlens.app.url_state import pick_one
from finlens.pages import alerts_data
from semantic.catalog.formatting import format_value

t = section("alerts")
filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(t("title", lang))


def status(code: str) -> str:
    return t(f"status_{code}", lang)


def band(low: float | None, high: float | None, fmt: str) -> str:
    """``0.3% – 0.8%``, ``≤ 2.0%`` or ``≥ 10.0%``: the range a value may take without firing."""
    if low is not None and high is not None:
        return f"{format_value(low, fmt)} – {format_value(high, fmt)}"
    if high is not None:
        return f"≤ {format_value(high, fmt)}"
    return f"≥ {format_value(low, fmt)}" if low is not None else ""


def key_label(key: str) -> str:
    return by_label(catalog, json.loads(key), lang) or t("all", lang)


def render_definitions(alerts) -> None:
    st.subheader(t("definitions", lang))
    rows = []
    for a in alerts.values():
        fmt = metric_format(catalog, a.metric)
        rows.append(
            {
                t("name", lang): a.label.get(lang),
                t("metric", lang): metric_label(catalog, a.metric, lang),
                t("by", lang): ", ".join(catalog.dimensions[d].label.get(lang) for d in a.by) or t("all", lang),
                t("grain", lang): word(f"grain_{a.grain}", lang),
                t("condition", lang): condition_text(a, fmt, lang),
                t("schedule", lang): a.schedule,
                t("channels", lang): ", ".join(a.notify),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def render_check(alerts) -> None:
    with st.expander(t("admin", lang)):
        if not alerts_data.may_check():
            st.caption(t("admin_hint", lang))
            return
        last = filters.end + timedelta(days=1)
        day = st.date_input(t("check_at", lang), value=last, key="alerts_check_day")
        if st.button(t("check_now", lang), key="alerts_check_now", type="primary"):
            run = alerts_data.check_now(datetime.combine(day, time(9)))
            sent = sum(1 for r in run.deliveries if r.status == "sent")
            st.success(
                t(
                    "checked",
                    lang,
                    evaluations=len(run.evaluations),
                    fired=sum(e.fired for e in run.evaluations),
                    messages=sent,
                )
            )
            for problem in [*run.problems, *(r.error for r in run.deliveries if r.error)]:
                st.warning(problem)


def render_latest(alerts) -> None:
    st.subheader(t("latest", lang))
    rows = alerts_data.store().latest_evaluations()
    if not rows:
        st.caption(t("no_evaluations", lang))
        return
    table = []
    for r in rows:
        alert = alerts.get(r["alert"])
        fmt = metric_format(catalog, alert.metric) if alert else "number"
        table.append(
            {
                t("name", lang): alert.label.get(lang) if alert else r["alert"],
                t("pick_key", lang): key_label(r["key"]),
                t("period", lang): r["period"],
                t("value", lang): format_value(r["value"], fmt),
                t("baseline", lang): format_value(r["baseline"], fmt),
                t("band", lang): band(r["low"], r["high"], fmt),
                t("volume", lang): format_value(r["volume"], "number"),
                t("status", lang): status(r["status"]),
                t("evaluated_at", lang): r["evaluated_at"],
            }
        )
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")


def render_series(alerts) -> None:
    st.subheader(t("series", lang))
    name = pick_one(t("pick_alert", lang), list(alerts), key="alert", labels=lambda n: alerts[n].label.get(lang))
    if name is None:
        return
    alert = alerts[name]
    rows = alerts_data.series(name, filters.start, filters.end)
    keys = sorted({r["key"] for r in rows}, key=lambda k: (-sum(r["fired"] for r in rows if r["key"] == k), k))
    if not keys:
        st.info(t("no_series", lang))
        return
    key = pick_one(t("pick_key", lang), keys, key="alert_key", labels=key_label)
    chosen = [r for r in rows if r["key"] == key]
    fmt = metric_format(catalog, alert.metric)
    st.caption(plain(t("range_caption", lang, start=filters.start, end=filters.end)))
    spec = alert_spec(
        [{"period": r["start"], **r} for r in chosen],
        title=alert.label.get(lang) + (f" · {key_label(key)}" if alert.by else ""),
        subtitle=f"{metric_label(catalog, alert.metric, lang)} · {condition_text(alert, fmt, lang)}",
        fmt=fmt,
        grain=alert.grain,
        width="container",
    )
    st.vega_lite_chart(spec, width="stretch")
    fired = [r for r in chosen if r["fired"]]
    if fired:
        st.markdown(f"**{t('fired_periods', lang)}**")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("period", lang): r["label"],
                        t("value", lang): format_value(r["value"], fmt),
                        t("baseline", lang): format_value(r["baseline"], fmt),
                        t("band", lang): band(r["low"], r["high"], fmt),
                        t("volume", lang): format_value(r["volume"], "number"),
                    }
                    for r in fired
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def render_incidents(alerts) -> None:
    st.subheader(t("incidents", lang))
    incidents = alerts_data.store().incidents()
    if incidents:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("name", lang): alerts[i["alert"]].label.get(lang) if i["alert"] in alerts else i["alert"],
                        t("pick_key", lang): key_label(i["key"]),
                        t("opened", lang): i["opened_period"],
                        t("closed", lang): i["closed_period"] or t("open", lang),
                    }
                    for i in incidents
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    deliveries = alerts_data.store().deliveries(limit=50)
    if deliveries:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("evaluated_at", lang): d["at"],
                        t("channel", lang): d["channel"],
                        t("kind", lang): t(f"kind_{d['kind']}", lang),
                        t("period", lang): d["period"],
                        t("status", lang): t(d["status"], lang),
                        t("attempts", lang): d["attempts"],
                        t("error", lang): d["error"] or "",
                    }
                    for d in deliveries
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def render() -> None:
    alerts = alerts_data.notifications().alerts
    if not alerts:
        st.info(t("none", lang))
        return
    render_definitions(alerts)
    render_check(alerts)
    render_series(alerts)
    render_latest(alerts)
    render_incidents(alerts)


guarded(render)
