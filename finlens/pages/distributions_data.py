"""The distributions page's data and charts: cached runs keyed by SQL, bucket members, histograms, the error heatmap."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from finlens.app import charts as app_charts
from finlens.app import state as app_state
from finlens.app.filters import Filters
from finlens.app.i18n import section
from finlens.app.members import all_member_ids, member_page
from semantic.analyses.distributions import Distribution, DistributionSpec, load_distributions
from semantic.analyses.distributions_run import bucket_members, compile_distribution, distribution
from semantic.catalog.formatting import format_value
from semantic.drill.members import ids_csv
from semantic.drill.users import UserList

CACHE_SECONDS = 3600
PAGE_SIZE = 50


text = section("distributions")


def specs() -> dict[str, DistributionSpec]:
    """``metrics/marketing/distributions.yml`` (a CatalogError lists every problem)."""
    return _specs(app_state.catalog_version())


@st.cache_resource(max_entries=2)
def _specs(version: str) -> dict[str, DistributionSpec]:
    return load_distributions(app_state.catalog())


def _dialect() -> str:
    return app_state.warehouse(app_state.warehouse_url()).dialect


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS)
def _run(sql: str, url: str, name: str, start: date, end: date, where: str | None) -> Distribution:
    return distribution(app_state.catalog(), specs(), name, app_state.warehouse(url), start=start, end=end, where=where)


def run(name: str, filters: Filters) -> Distribution:
    """Distribution ``name`` over the sidebar's range and filters, cached by its SQL and the warehouse URL."""
    where = filters.where()
    sql = compile_distribution(
        app_state.catalog(), specs(), name, _dialect(), start=filters.start, end=filters.end, where=where
    )
    return _run(sql, app_state.warehouse_url(), name, filters.start, filters.end, where)


def members(name: str, bucket: str, filters: Filters, *, offset: int = 0) -> UserList:
    """One page of a bucket's users (``value``: their total), as of the range's last day."""
    return member_page(
        _bucket_select(name, bucket, filters), filters.end, extra=("value",), limit=PAGE_SIZE, offset=offset
    )


def member_csv(name: str, bucket: str, filters: Filters) -> str:
    """Every id of the bucket's users: the CSV a push system takes."""
    return ids_csv(all_member_ids(_bucket_select(name, bucket, filters)))


def _bucket_select(name: str, bucket: str, filters: Filters):
    return bucket_members(
        app_state.catalog(),
        specs(),
        name,
        bucket,
        start=filters.start,
        end=filters.end,
        dialect=_dialect(),
        where=filters.where(),
    )


def histogram(result: Distribution, language: str) -> alt.LayerChart:
    """Users per bucket (in bucket order), labelled with their share; a click picks a bucket."""
    frame = pd.DataFrame(result.rows)
    frame["label"] = [
        f"{format_value(u, 'number')} · {format_value(s, 'percent')}" for u, s in zip(frame["users"], frame["share"])
    ]
    pick = alt.selection_point(name=app_charts.PICK, fields=["bucket"], on="click")
    order = list(frame["bucket"])
    base = alt.Chart(frame).encode(
        x=alt.X("bucket:N", sort=order, title=text("bucket", language), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("users:Q", title=text("users", language)),
        tooltip=[
            alt.Tooltip("bucket:N", title=text("bucket", language)),
            alt.Tooltip("label:N", title=text("users", language)),
        ],
    )
    bars = (
        base.mark_bar(cursor="pointer")
        .encode(opacity=alt.condition(pick, alt.value(1.0), alt.value(0.5)))
        .add_params(pick)
    )
    labels = base.mark_text(dy=-6, fontSize=11, color="#334155").encode(text="label:N")
    return (bars + labels).properties(height=320)


def share_bars(result: Distribution, column: str, label: str, language: str, limit: int = 20) -> dict:
    """The largest shares as horizontal bars (the table lists every value)."""
    rows = [
        {column: "(none)" if r[column] is None else str(r[column]), "share": r["share"]} for r in result.rows[:limit]
    ]
    return app_charts.bars_spec(rows, column, label, "share", text("share", language), "percent")


def error_heatmap(result: Distribution, language: str) -> alt.Chart:
    """Page × app version, coloured by error rate; tooltips with errors, users and page views."""
    rows, cols = result.columns[0], result.columns[1]
    frame = pd.DataFrame(result.rows)
    for column in (rows, cols):
        frame[column] = [text("none", language) if v is None else str(v) for v in frame[column]]
    frame["rate_text"] = [format_value(None if pd.isna(v) else v, "percent") for v in frame["error_rate"]]
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X(f"{cols}:N", title=cols, sort="ascending"),
            y=alt.Y(f"{rows}:N", title=rows, sort="ascending", axis=alt.Axis(labelOverlap=False)),
            color=alt.Color(
                "error_rate:Q",
                title=text("error_rate", language),
                scale=alt.Scale(scheme="oranges"),
                legend=alt.Legend(format=".1%"),
            ),
            tooltip=[
                alt.Tooltip(f"{rows}:N"),
                alt.Tooltip(f"{cols}:N"),
                alt.Tooltip("errors:Q", title=text("errors", language), format=","),
                alt.Tooltip("users:Q", title=text("affected", language), format=","),
                alt.Tooltip("page_views:Q", title=text("page_views", language), format=","),
                alt.Tooltip("rate_text:N", title=text("error_rate", language)),
            ],
        )
        .properties(height=max(200, 24 * frame[rows].nunique() + 60))
    )
