"""The exact rollups, kept current by every loader: the users whose events changed get their rows recomputed.

Every loader announces the rows it appends (``ingest/loads.py:appended``) and the users whose
stored events it moved (identity re-attribution: :func:`note_users`); at
``finish_load``, inside the load's transaction, :func:`refresh` brings the rollups up to date:

- appended events (DuckDB, PostgreSQL): only the days, sessions and first events they can reach
  are recomputed (``ingest/rollup_spans.py`` says which, and why that is exact for late events
  and sessions across midnight);
- users whose events moved, or who got an event without a time, and every user on ClickHouse:
  **all** their rollup rows, from all their events: stage their ids, ``DELETE`` their rows,
  ``INSERT ... SELECT`` them again with the statements of ``semantic/compiler/rollup_build.py``.

A rollup missing, or built for other definitions (its fingerprint differs from the
catalog's), is rebuilt whole. ``rollup_state`` then names the rollups that are current; the
compiler uses no other. The definitions come from the catalog in ``metrics/`` (as the CLI
loads it); when it cannot be loaded the state is cleared, so questions read the events.

ClickHouse has no transactions: the first append of a load clears ``rollup_state`` (questions
asked meanwhile read the events) and :func:`refresh` writes it back; a load that dies half way
leaves no state, and the next load rebuilds the rollups whole. Rows are removed with
``ALTER TABLE ... DELETE`` (``mutations_sync = 2``), ids as literal lists, as the identity code does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from connectors.base import Warehouse
from ingest.rollup_spans import PER_USER_DAY, ROW_TIMES, Appended, refresh_spans
from ingest.schema import EVENTS_TABLE, clickhouse_engine
from ingest.staging import drop_stage, literal_chunks, stage
from semantic.catalog.catalog import Catalog
from semantic.catalog.specs import Model
from semantic.compiler.dialects import timestamp_literal
from semantic.compiler.reader import (
    ACTIVE_DAYS_ROLLUP,
    COUNTED_DIALECTS,
    FIRST_SEEN_ROLLUP,
    ROLLUP_STAGE_TABLE,
    ROLLUP_STATE_TABLE,
    ROLLUPS,
    SESSION_ROLLUP,
    STATE_ROWS_KEY,
    USER_DAYS_ROLLUP,
    rollup_state_select,
    rollup_table,
    row_count_select,
)
from semantic.compiler.rollup_build import BUILDERS, rollup_model
from semantic.compiler.rollup_state import expected_fingerprints

# ClickHouse sorting keys (the columns a rollup has): questions read a rollup by event name and time range.
CLICKHOUSE_ROLLUP_KEYS: dict[str, tuple[str, ...]] = {
    USER_DAYS_ROLLUP: ("event", "event_time"),
    ACTIVE_DAYS_ROLLUP: ("event_time",),
    SESSION_ROLLUP: ("started_at",),
    FIRST_SEEN_ROLLUP: ("event_time",),
}
ROWS_PER_PART = 1_000_000  # events per part of a whole DuckDB build (under a 256 MB cap; the demo builds in 3)
_PENDING: dict[int, set[str]] = {}  # id(warehouse) → users whose rollup rows are all stale
_APPENDED: dict[int, Appended] = {}  # id(warehouse) → the spans of appended events (DuckDB, PostgreSQL)
_APPENDED_ROWS: dict[int, int] = {}  # id(warehouse) → events appended by this load (to check the row count)
_NULL_DAYS: dict[int, set[str]] = {}  # id(warehouse) → days with new events without a user (rollup_user_days)
_CLEARED: dict[int, dict[str, str]] = {}  # ClickHouse: the state this process cleared at a load's first append
_CATALOG: list[Catalog | None] = []  # set by use_catalog
_LOADED: dict[tuple[str, tuple[tuple[str, int, int], ...]], Catalog | None] = {}  # metrics/ by its files' stamp


def use_catalog(catalog: Catalog | None) -> None:
    """Maintain the rollups of ``catalog``'s definitions (default: the catalog in ``metrics/``)."""
    _CATALOG[:] = [catalog] if catalog is not None else []


def note_appended(warehouse: Warehouse, table: str, rows: pa.Table) -> None:
    """The ``on_append`` hook: the users of appended events get their rollup rows recomputed."""
    if table != EVENTS_TABLE or "user_id" not in rows.column_names or not rows.num_rows:
        return
    _APPENDED_ROWS[id(warehouse)] = _APPENDED_ROWS.get(id(warehouse), 0) + rows.num_rows
    nobody = pc.is_null(rows.column("user_id"))
    if pc.any(nobody).as_py():
        times = pc.filter(rows.column("event_time"), nobody)
        days = pc.unique(pc.cast(pc.drop_null(times), pa.date32())).to_pylist()
        _NULL_DAYS.setdefault(id(warehouse), set()).update(day.isoformat() for day in days)
    if warehouse.dialect == "clickhouse":
        note_users(warehouse, (u for u in pc.unique(rows.column("user_id")).to_pylist() if u is not None))
        return
    note_users(warehouse, _APPENDED.setdefault(id(warehouse), Appended()).add(rows))


def note_users(warehouse: Warehouse, user_ids: Iterable[str]) -> None:
    """``user_ids``' stored events changed (appended, moved to or from them): recompute their rollup rows."""
    pending = _PENDING.setdefault(id(warehouse), set())
    if warehouse.dialect == "clickhouse" and id(warehouse) not in _CLEARED:
        _CLEARED[id(warehouse)] = _stored(warehouse)
        _clear_state(warehouse)
    pending.update(user_ids)


def refresh(warehouse: Warehouse) -> None:
    """Bring every rollup up to date with the events (called by ``finish_load``, in the load's transaction)."""
    pending = _PENDING.pop(id(warehouse), set())
    appended = _APPENDED.pop(id(warehouse), Appended()).without(pending)
    null_days = tuple(sorted(_NULL_DAYS.pop(id(warehouse), set())))
    appended_rows = _APPENDED_ROWS.pop(id(warehouse), 0)
    stored = _CLEARED.pop(id(warehouse), None)
    if stored is None:
        stored = _stored(warehouse)
    catalog = _catalog()
    model = rollup_model(catalog) if catalog is not None else None
    if catalog is None or model is None:
        _clear_state(warehouse)
        return
    events_rows = None
    if warehouse.dialect in COUNTED_DIALECTS:
        events_rows = int(warehouse.query(row_count_select(model).sql(dialect=warehouse.dialect)).rows[0][0])
    recorded = stored.pop(STATE_ROWS_KEY, None)
    if recorded is not None and events_rows is not None and recorded != str(events_rows - appended_rows):
        stored = {}  # another writer added or removed events since: every rollup is rebuilt whole
    expected = expected_fingerprints(catalog)
    dialect = warehouse.dialect
    current: dict[str, str] = {}
    staged = False
    try:
        for name in ROLLUPS:
            print_ = expected[name]
            if print_ is None:
                continue
            if stored.get(name) != print_ or not warehouse.has_table(name):
                _rebuild(warehouse, name, catalog, model, events_rows)
                current[name] = print_
                continue
            nobody = null_days if name in PER_USER_DAY else ()
            if pending or nobody:
                if pending and not staged:
                    ids = pa.table({"user_id": pa.array(sorted(pending), pa.string())})
                    stage(warehouse, ROLLUP_STAGE_TABLE, [("user_id", "VARCHAR")], ids)
                    staged = True
                _delete_users(warehouse, name, sorted(pending), nobody)
                select = BUILDERS[name](catalog, model, dialect, staged=bool(pending), null_days=nobody)
                insert = exp.insert(select, rollup_table(name))
                warehouse.execute(insert.sql(dialect=dialect))
            refresh_spans(warehouse, catalog, model, name, appended)
            current[name] = print_
    finally:
        if staged:
            drop_stage(warehouse, ROLLUP_STAGE_TABLE)
    if events_rows is not None:
        current[STATE_ROWS_KEY] = str(events_rows)
    _write_state(warehouse, current)


def _catalog() -> Catalog | None:
    """The catalog whose definitions the rollups follow: the one given to :func:`use_catalog`, else ``metrics/``
    as its files are now (read again when one changes, so a long-running loader follows an edited model)."""
    if _CATALOG:
        return _CATALOG[0]
    from finlens_common import settings
    from finlens_common.errors import FinlensError
    from semantic.catalog.loader import load_catalog

    root = settings.metrics_root()
    try:
        stamp = tuple(
            (str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in sorted(root.rglob("*.y*ml"))
        )
    except OSError:
        stamp = ()
    key = (str(root), stamp)
    if key not in _LOADED:
        _LOADED.clear()
        try:
            _LOADED[key] = load_catalog(root)
        except FinlensError:
            _LOADED[key] = None
    return _LOADED[key]


def _rebuild(warehouse: Warehouse, name: str, catalog: Catalog, model: Model, events_rows: int | None) -> None:
    """Build rollup ``name`` whole; on DuckDB a large one in parts, then stored in the order it is read (:func:`_order`).

    DuckDB loads run under a small memory cap (256 MB, fixed when ``finlens demo``/``import`` owns the
    file), and the session rollup's window functions over all events do not reliably fit in it ("failed
    to pin block" at 10M events, "Out of Memory" at times on the 2.8M-event demo). Each part holds the
    users whose id hashes to it (their rows are independent of other users'), about
    :data:`ROWS_PER_PART` events' worth, gathered in a scratch table; the final copy sorts by time,
    which spills to disk as needed.
    """
    dialect = warehouse.dialect
    table = rollup_table(name)
    warehouse.execute(exp.Drop(tables=[table], kind="TABLE", exists=True).sql(dialect=dialect))
    if dialect == "clickhouse":
        select = BUILDERS[name](catalog, model, dialect)
        create = exp.Create(this=table, kind="TABLE", expression=select)
        key = tuple(c for c in CLICKHOUSE_ROLLUP_KEYS[name] if c in select.named_selects)
        create.set("properties", clickhouse_engine(key))
        warehouse.execute(create.sql(dialect=dialect))
        return
    in_time_order = _order(name)
    parts = max(1, math.ceil(events_rows / ROWS_PER_PART)) if dialect == "duckdb" and events_rows else 1
    if parts == 1:
        select = BUILDERS[name](catalog, model, dialect).order_by(*in_time_order, copy=False)
        warehouse.execute(exp.Create(this=table, kind="TABLE", expression=select).sql(dialect=dialect))
        return
    scratch = rollup_table(f"{name}_parts")
    warehouse.execute(exp.Drop(tables=[scratch], kind="TABLE", exists=True).sql(dialect=dialect))
    for k in range(parts):
        select = BUILDERS[name](catalog, model, dialect, part=(k, parts))
        statement = exp.Create(this=scratch, kind="TABLE", expression=select) if k == 0 else exp.insert(select, scratch)
        warehouse.execute(statement.sql(dialect=dialect))
    ordered = exp.select(exp.Star()).from_(scratch).order_by(*in_time_order)
    warehouse.execute(exp.Create(this=table, kind="TABLE", expression=ordered).sql(dialect=dialect))
    warehouse.execute(exp.Drop(tables=[scratch], kind="TABLE", exists=True).sql(dialect=dialect))


def _order(name: str) -> list[exp.Column]:
    """The order a whole DuckDB build writes rollup ``name`` in, so that questions and span refreshes skip blocks.

    By time (ranges, span bounds), except the user days: by event, then time, as ClickHouse sorts them. A
    tile counts one event (registrations, card binders): its rows then sit together, and DuckDB reads their
    few blocks only (0.005 s instead of 0.33 s for 30 days of a 76M-row table, ``bench/README.md``).
    """
    columns = CLICKHOUSE_ROLLUP_KEYS[name] if name == USER_DAYS_ROLLUP else (ROW_TIMES[name][0],)
    return [exp.column(c) for c in columns]


def _delete_users(warehouse: Warehouse, name: str, user_ids: list[str], null_days: tuple[str, ...]) -> None:
    """Delete the rows of ``user_ids`` (and of no user on ``null_days``) from rollup ``name``."""
    dialect = warehouse.dialect
    midnights = [timestamp_literal(f"{day} 00:00:00") for day in null_days]
    nobody = exp.and_(exp.column("user_id").is_(exp.null()), exp.column("event_time").isin(*midnights))
    if dialect != "clickhouse":
        users = exp.select("user_id").from_(rollup_table(ROLLUP_STAGE_TABLE))
        staged = [exp.column("user_id").isin(query=users)] if user_ids else []
        where = exp.or_(*staged, *([nobody] if midnights else []))
        warehouse.execute(exp.delete(rollup_table(name), where=where).sql(dialect=dialect))
        return
    chunks = [exp.column("user_id").isin(*chunk) for chunk in literal_chunks(user_ids)]
    for where in [*chunks, *([nobody] if midnights else [])]:
        warehouse.execute(f"ALTER TABLE {name} DELETE WHERE {where.sql(dialect=dialect)} SETTINGS mutations_sync = 2")


def _stored(warehouse: Warehouse) -> dict[str, str]:
    if not warehouse.has_table(ROLLUP_STATE_TABLE):
        return {}
    return dict(warehouse.query(rollup_state_select().sql(dialect=warehouse.dialect)).rows)


def _clear_state(warehouse: Warehouse) -> None:
    if warehouse.has_table(ROLLUP_STATE_TABLE):
        dialect = warehouse.dialect
        warehouse.execute(
            exp.Drop(tables=[rollup_table(ROLLUP_STATE_TABLE)], kind="TABLE", exists=True).sql(dialect=dialect)
        )


def _write_state(warehouse: Warehouse, current: dict[str, str]) -> None:
    """Replace ``rollup_state`` by one row per current rollup."""
    dialect = warehouse.dialect
    _clear_state(warehouse)
    columns = [("name", "VARCHAR"), ("fingerprint", "VARCHAR"), ("refreshed_at", "TIMESTAMP")]
    defs = [exp.ColumnDef(this=exp.to_identifier(n), kind=exp.DataType.build(k)) for n, k in columns]
    create = exp.Create(this=exp.Schema(this=rollup_table(ROLLUP_STATE_TABLE), expressions=defs), kind="TABLE")
    if dialect == "clickhouse":
        create.set("properties", clickhouse_engine())
    warehouse.execute(create.sql(dialect=dialect))
    if current:
        now = datetime.now(UTC).replace(tzinfo=None)
        rows = pa.table(
            {
                "name": pa.array(list(current), pa.string()),
                "fingerprint": pa.array(list(current.values()), pa.string()),
                "refreshed_at": pa.array([now] * len(current), pa.timestamp("us")),
            }
        )
        warehouse.append(ROLLUP_STATE_TABLE, rows)
