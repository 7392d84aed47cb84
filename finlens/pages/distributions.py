"""Distributions: users by number of events and by invested amount, shares by version, platform, device and
province, page errors by page × app version; a bucket opens its users (list and CSV of ids)."""

from __future__ import annotations

import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import personal
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.filters import current
from finlens.app.i18n import t
from finlens.app.url_state import pick_one
from finlens.pages import distributions_data as data
from semantic.catalog.formatting import format_value

filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(data.text("title", lang))
st.caption(f"{filters.start} – {filters.end}")


def render() -> None:
    specs = data.specs()
    names = list(specs)
    name = pick_one(
        data.text("distribution", lang), names, key="distribution", labels=lambda n: specs[n].label.get(lang) or n
    )
    spec = specs[name]
    if spec.described(lang):
        st.caption(spec.described(lang))
    result = data.run(name, filters)
    if spec.kind == "buckets":
        _buckets(name, result, spec.format)
    elif spec.kind == "share":
        column = result.columns[0]
        label = catalog.dimensions[column].label.get(lang) if column in catalog.dimensions else column
        st.caption(
            f"{data.text('counted', lang, counted=format_value(result.counted, 'number'))} · {data.text('latest', lang)}"
        )
        if result.rows:
            app_charts.show(data.share_bars(result, column, label, lang), select=False)
        st.dataframe(
            [
                {
                    label: r[column],
                    data.text("users", lang): r["users"],
                    data.text("share", lang): format_value(r["share"], "percent"),
                }
                for r in result.rows
            ],
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(data.text("errors_caption", lang, counted=format_value(result.counted, "number")))
        if result.rows:
            app_charts.show(data.error_heatmap(result, lang), select=False)
        st.dataframe(
            [
                {**{c: r[c] for c in result.columns[:-1]}, "error_rate": format_value(r["error_rate"], "percent")}
                for r in result.rows
            ],
            hide_index=True,
            width="stretch",
        )
    with st.expander(t("sql", lang)):
        st.code(result.sql, language="sql")


def _buckets(name: str, result, fmt: str) -> None:
    notes = [data.text("counted", lang, counted=format_value(result.counted, "number"))]
    if result.below:
        notes.append(data.text("below", lang, below=format_value(result.below, "number")))
    st.caption(" · ".join(notes) + " · " + data.text("no_total", lang))
    state = app_charts.show(data.histogram(result, lang), key=f"histogram_{name}")
    point = app_charts.picked(state)
    labels = [r["bucket"] for r in result.rows]
    clicked = point.get("bucket") if point else None
    st.dataframe(
        [
            {
                data.text("bucket", lang): r["bucket"],
                data.text("users", lang): r["users"],
                data.text("share", lang): format_value(r["share"], "percent"),
            }
            for r in result.rows
        ],
        hide_index=True,
        width="stretch",
    )
    bucket = st.pills(
        data.text("pick_bucket", lang), labels, default=clicked if clicked in labels else None, key=f"bucket_{name}"
    )
    if not bucket:
        return
    listing = data.members(name, bucket, filters)
    st.subheader(data.text("members", lang, bucket=bucket))
    st.metric(t("users", lang), f"{listing.total:,}")
    if listing.rows:
        rows = [{**r, "value": format_value(r["value"], fmt)} for r in listing.rows]
        st.dataframe(rows, hide_index=True, width="stretch")
        personal.export_button(
            catalog,
            t("download_ids", lang),
            lambda: data.member_csv(name, bucket, filters),
            file_name=f"{name}_{''.join(c if c.isalnum() else '_' for c in bucket)}_users.csv",
            key=f"bucket_csv_{name}",
            what="distributions",
            lang=lang,
        )


guarded(render)
