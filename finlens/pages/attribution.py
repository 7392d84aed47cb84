"""Attribution: which touches (push clicks, banner clicks, UTM-tagged visits...) earned the conversions, by a
first, last, linear or time-decay model over a window; a bar or a pick lists the users behind a touch."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from finlens.app import adhoc, tables
from finlens.app import charts as app_charts
from finlens.app import model_charts as charts
from finlens.app import state as app_state
from finlens.app.board import guarded
from finlens.app.filters import current
from finlens.app.i18n import section
from finlens.app.url_state import pick_many, pick_one
from finlens.app.user_list import show_users
from finlens_common.errors import FinlensError
from semantic.analyses.attribution import COLUMNS, MODELS, attribution_spec, compile_attribution, compile_touch_users
from semantic.catalog.specs import AggregateMetric

WINDOWS = ("1d", "3d", "7d", "14d", "30d")
HALF_LIVES = ("12h", "1d", "2d", "3d", "7d")
TOUCHES = (
    "push_click:campaign_id",
    "$AppViewScreen:utm_campaign",
    "$pageview:utm_campaign",
    "$AppClick:element",
    "$WebClick:element",
    "share",
    "coupon_receive",
)
NONE = "-"
text = section("attribution")

filters = current()
lang = filters.language
catalog = app_state.catalog()
st.title(text("title", lang))
conversions = [
    n
    for n, m in catalog.metrics.items()
    if isinstance(m, AggregateMetric) and m.filter is not None and m.model == "events"
]
left, right = st.columns([1, 2])
with left:
    conversion = pick_one(
        text("conversion", lang),
        conversions,
        key="attribution_conversion",
        default="invest_users",
        labels=lambda n: catalog.metrics[n].label.get(lang),
    )
with right:
    touches = pick_many(
        text("touches", lang),
        TOUCHES,
        key="attribution_touches",
        default=["push_click:campaign_id", "$AppViewScreen:utm_campaign", "$pageview:utm_campaign"],
        labels=lambda k: text(f"touch_{k.replace('$', '').replace(':', '_').lower()}", lang),
    )
a, b, c = st.columns(3)
with a:
    window = pick_one(text("window", lang), WINDOWS, key="attribution_window", default="7d")
with b:
    model = pick_one(
        text("model", lang), MODELS, key="attribution_model", default="last", labels=lambda m: text(f"model_{m}", lang)
    )
with c:
    half_life = (
        pick_one(text("half_life", lang), HALF_LIVES, key="attribution_half_life", default="2d")
        if model == "time_decay"
        else None
    )
st.caption(text(f"model_{model}_help", lang) + " " + text("window_help", lang, window=window))


def render() -> None:
    if not touches:
        st.info(text("pick_touches", lang))
        return
    try:
        spec = attribution_spec(
            catalog,
            conversion=conversion or conversions[0],
            touches=touches,
            window=window or "7d",
            model=model or "last",
            half_life=half_life,
        )
    except FinlensError as err:
        st.error(str(err))
        return
    options = dict(start=filters.start, end=filters.end, where=filters.where())
    sql = compile_attribution(catalog, spec, adhoc.dialect(), **options)
    rows = adhoc.run_sql(sql, app_state.warehouse_url(), tuple(COLUMNS))
    if not rows:
        st.info(text("no_conversions", lang))
        return
    frame = pd.DataFrame([dict(r, touch=r["touch"] or text("no_touch", lang)) for r in rows])
    state = app_charts.show(
        charts.bars(
            frame,
            "touch",
            tables.header("touch", catalog, lang),
            "credit_share",
            tables.header("credit_share", catalog, lang),
            "percent",
            horizontal=True,
        ),
        key="attribution_chart",
    )
    point = app_charts.picked(state)
    if point and "touch" in point:
        picked = next(
            (r["touch"] or NONE for r in rows if (r["touch"] or text("no_touch", lang)) == point["touch"]), None
        )
        if picked and st.query_params.get("attribution_pick") != picked:
            st.query_params["attribution_pick"] = picked
            st.rerun()
    shown = [dict(r, touch=r["touch"] or text("no_touch", lang), credit_share=f"{r['credit_share']:.1%}") for r in rows]
    st.dataframe(tables.shown(COLUMNS, shown, catalog, lang), hide_index=True)
    keys = [r["touch"] or NONE for r in rows]
    choice = pick_one(
        text("touch", lang), keys, key="attribution_pick", labels=lambda k: text("no_touch", lang) if k == NONE else k
    )
    touch = None if choice in (None, NONE) else choice

    def page(limit: int, offset: int):
        sql, columns = compile_touch_users(
            catalog, spec, adhoc.dialect(), touch=touch, limit=limit, offset=offset, **options
        )
        return adhoc.user_page(sql, columns)

    show_users(
        page,
        key="attribution_users",
        lang=lang,
        title=touch or text("no_touch", lang),
        file_name="attribution_users.csv",
    )


guarded(render)
