"""What every page of the app shares: the catalog, the boards, the warehouse, cached query results.

Every page sees the catalog as the signed-in person's role does (:func:`catalog`, ``finlens/app/signin.py``):
the compiler applies the role's row policy to every question, and every cache key holds the role
(:func:`warehouse_url`), so two roles never share a result. Questions, lookups and exports are recorded in the
audit trail (``finlens/app/audit_trail.py``); ids are shown as the role may see them (``personal.py``).

Pages call :func:`run` with a :class:`~semantic.Query` (and :func:`users`,
:func:`sequence`, :func:`values` for drill-downs); they never build SQL.

Results are cached by (compiled SQL, warehouse, data watermark). The watermark
(``ingest/loads.py``) changes whenever a loader commits, so new data gets new keys and
shows on the next run of a page, without a restart; switching pages on unchanged data
re-runs nothing. :func:`warehouse_url` is that key: the URL tagged with the watermark
pinned for the current script run (:func:`pin_watermark`), so every part of a page
shows the same data version, and pages that cache their own queries by it follow too.
Streamlit computes a missing entry once while other sessions asking for the same key
wait for it (single flight), so a cold page runs each distinct query once. Entries
for superseded watermarks are freed after ``CACHE_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import date

import streamlit as st

from connectors import Warehouse, connect
from finlens.app import audit_trail, catalog_files, personal, signin
from finlens.app.compiled import compiled, per_catalog
from finlens_common.errors import CatalogProblem, WarehouseError
from finlens_common.settings import warehouse_url as resolve_warehouse_url
from ingest.loads import Watermark, read_watermark
from semantic import Catalog, CompiledQuery, Query, QueryResult
from semantic.catalog.boards import Board, board_problems
from semantic.catalog.partial import load_catalog_lenient
from semantic.compiler.results import run_compiled
from semantic.compiler.rollup_state import current_rollups
from semantic.compiler.span import time_span
from semantic.drill.lookup import UserEvents, dimension_values, user_events
from semantic.drill.users import Drill, UserList, compile_users, run_user_sql

CACHE_SECONDS = 900  # frees results of superseded watermarks; freshness comes from the key, not from expiry
MAX_ENTRIES = 2000
WATERMARK_SECONDS = 1.0  # how often a process asks the warehouse for its watermark
UNVERSIONED_SECONDS = 60  # a warehouse no finlens loader writes: results are taken as new each minute
KEY_MARK = "#data="
QUERY_RUNS: Counter[str] = Counter()  # SQL actually run by this process (single flight: once per data version)
_RUNS_LOCK = threading.Lock()


def catalog() -> Catalog:
    """The catalog as the YAML files are now (reloaded when one changes), as this session's role sees it."""
    return signin.scoped(_catalog(catalog_files.version())[0])


def unscoped_catalog() -> Catalog:
    """The definitions before any role: only for working out who is signed in (every page uses :func:`catalog`)."""
    return _catalog(catalog_files.version())[0]


def catalog_version() -> str:
    """Changes whenever a YAML file under ``metrics/`` does, and differs per role: the key of everything read from them."""
    return catalog_files.version() + signin.cache_tag(signin.role_now())


def catalog_problems() -> list[CatalogProblem]:
    """Every problem of the catalog and the boards, ``file:line: message`` (the definitions they touch are left out)."""
    version = catalog_files.version()
    return [*_catalog(version)[1], *_boards(version)[1]]


@st.cache_resource(max_entries=2, show_spinner=False)
def _catalog(version: str) -> tuple[Catalog, list[CatalogProblem]]:
    return load_catalog_lenient()


def boards() -> dict[str, Board]:
    """Every board under ``metrics/boards`` that parsed, in display order (problems: :func:`catalog_problems`)."""
    return _boards(catalog_files.version())[0]


@st.cache_resource(max_entries=2, show_spinner=False)
def _boards(version: str) -> tuple[dict[str, Board], list[CatalogProblem]]:
    return board_problems(_catalog(version)[0])  # definitions only: no data is read


@st.cache_resource(show_spinner=False, on_release=lambda released: released.close())
def _connection(url: str) -> Warehouse:
    """One shared read-only connection; the DuckDB connector gives each thread its own cursor.

    Released means closed: chdb holds one data folder per process until its session closes, so a cleared
    cache must not leave the folder held until garbage collection.
    """
    return connect(url)


def warehouse(key: str) -> Warehouse:
    """The connection for a :func:`warehouse_url` key (or a plain URL)."""
    return audit_trail.Watched(_connection(key.split(KEY_MARK, 1)[0]))  # type: ignore[return-value]


@st.cache_data(show_spinner=False, ttl=WATERMARK_SECONDS)
def _watermark(url: str) -> Watermark | None:
    return read_watermark(_connection(url))


def pin_watermark() -> Watermark | None:
    """Read the watermark (at most once a second per process) and key this script run's results by it.

    During an outage the run keeps the watermark this session last read, so what was loaded before still
    shows under the one outage line (:mod:`finlens.app.health`) instead of the page stopping at an error.
    """
    try:
        mark = _watermark(resolve_warehouse_url())
    except WarehouseError:
        if "finlens_watermark" not in st.session_state:
            raise
        return st.session_state["finlens_watermark"]
    st.session_state["finlens_watermark"] = mark
    return mark


def watermark() -> Watermark | None:
    """The watermark pinned for this run (read now if the run has not pinned one)."""
    if "finlens_watermark" not in st.session_state:
        return pin_watermark()
    return st.session_state["finlens_watermark"]


def warehouse_url() -> str:
    """The cache key of the data: the warehouse URL tagged with the pinned watermark."""
    mark = watermark()
    version = mark.token if mark is not None else f"t{int(time.time() // UNVERSIONED_SECONDS)}"
    return f"{resolve_warehouse_url()}{KEY_MARK}{version}{signin.cache_tag(signin.role_now())}"


def _counted(sql: str) -> None:
    with _RUNS_LOCK:
        QUERY_RUNS[sql] += 1


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES)
def _rows(sql: str, url: str, _compiled: CompiledQuery) -> tuple[list[str], list[dict]]:
    _counted(sql)
    result = run_compiled(_compiled, warehouse(url))
    return result.columns, result.rows  # only the rows are cached: a hit does not unpickle a sqlglot tree


def run(query: Query) -> QueryResult:
    """Run ``query`` on the app's warehouse, cached by its compiled SQL and the warehouse URL (compiled once)."""
    url = warehouse_url()
    plan = compiled(with_rollups(catalog(), url), query, warehouse(url).dialect)
    columns, rows = _rows(plan.sql, url, plan)
    audit_trail.note("query", sql=plan.sql, rows=len(rows))
    return QueryResult(columns, rows, plan)


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES)
def _current_rollups(url: str, version: str) -> frozenset[str]:
    return current_rollups(catalog(), warehouse(url))


def with_rollups(base: Catalog, url: str) -> Catalog:
    """``base`` knowing the rollups the warehouse keeps current (looked up once per data version and catalog)."""
    rollups = _current_rollups(url, catalog_version())
    # one catalog object per (catalog, rollups): compiled questions are kept per catalog object
    return per_catalog(base, ("rollups", rollups), lambda: replace(base, rollups=rollups))


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES)
def _users(sql: str, url: str, columns: tuple[str, ...]) -> UserList:
    return run_user_sql(sql, list(columns), warehouse(url))


def users(query: Query, drill: Drill, *, limit: int = 50, offset: int = 0) -> UserList:
    """One page of the users behind ``query``'s number, narrowed by ``drill`` (cached by SQL), ids as the role sees them."""
    url = warehouse_url()
    sql, columns = compile_users(catalog(), query, drill, warehouse(url).dialect, limit=limit, offset=offset)
    listing = _users(sql, url, tuple(columns))
    audit_trail.note("query", sql=sql, rows=len(listing.rows))
    return personal.users(catalog(), listing)


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES)
def _sequence(user_id: str, url: str) -> UserEvents:
    return user_events(catalog(), user_id, warehouse(url))


def sequence(shown_id: str) -> UserEvents:
    """The events, in order with sessions and failures marked, of the user shown as ``shown_id`` (a pseudonym for
    roles without ``pii``); nobody's when the id does not lead to a user this role may look up."""
    real = personal.real_id(catalog(), shown_id)
    events = _sequence(real, warehouse_url()) if real else UserEvents(shown_id, [], [], 0, "")
    audit_trail.note("sequence", sql=events.sql or None, rows=len(events.rows), detail=real or f"{shown_id} (no user)")
    return personal.events(catalog(), events)


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES)
def _values(dimension: str, url: str, start: date | None, end: date | None) -> list:
    return dimension_values(catalog(), dimension, warehouse(url), start=start, end=end)


def values(dimension: str, start: date | None = None, end: date | None = None) -> list:
    """The values a filter widget offers for ``dimension`` in the range."""
    return _values(dimension, warehouse_url(), start, end)


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS, max_entries=MAX_ENTRIES)
def _span(url: str) -> tuple[date, date] | None:
    return time_span(catalog(), warehouse(url))


def span() -> tuple[date, date] | None:
    """First and last day of the data, or None when the warehouse has no events."""
    return _span(warehouse_url())
