"""The Paths page's source and data: a saved path analysis or one built with clicks (all in the URL), its flows
and the users behind one flow, cached by compiled SQL like every other query of the app."""

from __future__ import annotations

import streamlit as st

from finlens.app import adhoc
from finlens.app import state as app_state
from finlens.app.filters import Filters
from finlens.app.i18n import section
from finlens.app.url_state import pick_one
from finlens.pages.funnel_builder import event_options
from semantic.analyses.paths import MAX_STEPS, MIN_STEPS, PathSpec, load_paths, path_definition
from semantic.analyses.paths_sql import COLUMNS, compile_flow_users, compile_paths
from semantic.catalog.definitions import Definition
from semantic.catalog.specs import FunnelMetric, Label
from semantic.drill.users import UserList

SOURCES = ("catalog", "build")
MODES = ("start", "end", "after")
TOPS = ("5", "10", "15", "20")
DEFAULT_NAME = "adhoc_paths"
text = section("paths")


@st.cache_resource
def saved_paths(root: str) -> dict[str, PathSpec]:
    """``metrics/paths/*.yml`` of the catalog at ``root`` (a CatalogError lists every problem)."""
    return load_paths(app_state.catalog(), root)


def pick(filters: Filters) -> tuple[PathSpec, Definition | None]:
    """The path analysis to show, and its definition when built on the page."""
    lang = filters.language
    source = pick_one(
        text("source", lang),
        SOURCES,
        key="paths_source",
        labels=lambda s: text(f"source_{s}", lang),
        widget=st.segmented_control,
        default="catalog",
    )
    specs = saved_paths(app_state.catalog().root)
    if source != "build" and specs:
        name = pick_one(
            text("analysis", lang), list(specs), key="paths_name", labels=lambda n: specs[n].label.get(lang)
        )
        return specs[name or next(iter(specs))], None
    return _build(filters)


def _build(filters: Filters) -> tuple[PathSpec, Definition | None]:
    lang = filters.language
    catalog = app_state.catalog()
    a, b, c, d = st.columns([1, 2, 1, 1])
    with a:
        mode = (
            pick_one(text("mode", lang), MODES, key="paths_mode", labels=lambda m: text(f"mode_{m}", lang)) or "start"
        )
    event, condition, after = None, None, None
    with b:
        if mode == "after":
            steps_of = {
                f"{n}:{k}": f"{m.label.get(lang)} · {k}. {m.steps[k - 1].label.get(lang)}"
                for n, m in catalog.metrics.items()
                if isinstance(m, FunnelMetric)
                for k in range(2, len(m.steps) + 1)
            }
            after = pick_one(text("funnel_step", lang), list(steps_of), key="paths_after", labels=steps_of.get)
        else:
            event = pick_one(text("event", lang), event_options(filters), key="paths_event", default="bind_card")
            condition = st.text_input(text("event_filter", lang), key="paths_filter", bind="query-params")
    with c:
        steps = int(
            pick_one(
                text("steps", lang), [str(n) for n in range(MIN_STEPS, MAX_STEPS + 1)], key="paths_steps", default="5"
            )
            or 5
        )
    with d:
        top = int(pick_one(text("top", lang), TOPS, key="paths_top", default="10") or 10)
    by_page = st.toggle(text("by_page", lang), key="paths_by_page", value=True)
    name = st.text_input(text("name", lang), value=DEFAULT_NAME, key="paths_save_name", bind="query-params")
    name = (name or DEFAULT_NAME).strip()
    definition = adhoc.build(
        lambda: path_definition(
            catalog,
            name=name,
            mode=mode,
            events=[event] if event else None,
            filter_=condition or None,
            after=after,
            steps=steps,
            by_page=by_page,
            top=top,
            label=Label(zh=name, en=name),
        ),
        lang,
    )
    if definition is None:
        st.stop()
    return definition.spec, definition


def flows(spec: PathSpec, filters: Filters) -> list[dict]:
    where = filters.where()
    sql = compile_paths(app_state.catalog(), spec, adhoc.dialect(), start=filters.start, end=filters.end, where=where)
    return adhoc.run_sql(sql, app_state.warehouse_url(), tuple(COLUMNS))


def flow_users(
    spec: PathSpec, filters: Filters, flow: tuple[int, str | None, str | None], limit: int, offset: int
) -> UserList:
    step, source, target = flow
    sql, columns = compile_flow_users(
        app_state.catalog(),
        spec,
        adhoc.dialect(),
        step=step,
        source=source,
        target=target,
        start=filters.start,
        end=filters.end,
        where=filters.where(),
        limit=limit,
        offset=offset,
    )
    return adhoc.user_page(sql, columns)


def saved(name: str) -> None:
    saved_paths.clear()
    st.query_params["paths_source"] = "catalog"
    st.query_params["paths_name"] = name
    st.rerun()
