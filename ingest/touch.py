"""The user's acquisition channel on every event: first touch and latest touch, as Sensors attributes them.

UTM fields (``utm_source`` ...) sit only on the events of a visit that came through a
tagged link, so grouping card binders by their own ``utm_source`` puts nearly all of them
under NULL. Sensors attaches the channel to later events instead: the user profile keeps
the first touch (``$utm_source``, set once at install or first visit) and the SDKs send
``$latest_utm_source`` (the last tagged landing) with every event. ``events`` carries both:

- ``first_utm_source``: the user's first-touch channel, the same on all of their events: the
  profile's channel (``users.register_channel``, filled from ``$utm_source``) when known,
  else the ``utm_source`` of their earliest event that has one (by time, then event id);
- ``latest_utm_source``: the latest touch at the event: the event's own ``utm_source``, else
  the ``$latest_utm_source`` the SDK sent, else the last of these on the user's earlier events,
  else the first-touch channel. Like the SDK's own property it is fixed once stored: an
  event that arrives late does not rewrite it on events already imported.

Events without a ``user_id`` have neither. The demo generator writes both columns directly
(one channel per person); the Sensors importer calls :func:`fill_touch_channels` for the
users an import run touched. The SQL is one ``UPDATE ... FROM`` built with sqlglot, with
window functions every engine here runs (no ``IGNORE NULLS``).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import sqlglot
from sqlglot import exp

from connectors.base import Warehouse
from ingest.schema import EVENTS_TABLE, TABLES, USERS_TABLE
from ingest.staging import IN_LIST_SIZE, drop_stage, literal_chunks, stage

STAGE_TABLE = "touch_users_stage"
TOUCH_COLUMNS = ("first_utm_source", "latest_utm_source")

# The touches of the chosen users' events, computed from the stored rows (DuckDB dialect, transpiled per engine).
_TOUCHES = f"""
SELECT event_id, first_touch, COALESCE(MAX(touch) OVER (PARTITION BY user_id, touches), first_touch) AS latest_touch
FROM (
  SELECT
    e.event_id,
    e.user_id,
    COALESCE(e.utm_source, e.latest_utm_source) AS touch,
    COUNT(COALESCE(e.utm_source, e.latest_utm_source)) OVER (
      PARTITION BY e.user_id ORDER BY e.event_time, e.event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS touches,
    COALESCE(
      u.register_channel,
      FIRST_VALUE(e.utm_source) OVER (
        PARTITION BY e.user_id
        ORDER BY CASE WHEN e.utm_source IS NULL THEN 1 ELSE 0 END, e.event_time, e.event_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
      )
    ) AS first_touch
  FROM {EVENTS_TABLE} AS e
  LEFT JOIN {USERS_TABLE} AS u ON u.user_id = e.user_id
  WHERE e.user_id IS NOT NULL
) AS k
"""


def missing_columns(warehouse: Warehouse) -> list[tuple[str, str]]:
    """The schema's ``events`` columns an existing table lacks (a warehouse from an older finlens)."""
    probe = exp.select(exp.Star()).from_(EVENTS_TABLE).limit(0).sql(dialect=warehouse.dialect)
    present = {name.lower() for name in warehouse.query(probe).columns}
    return [(name, kind) for name, kind, _ in TABLES[EVENTS_TABLE] if name.lower() not in present]


def add_missing_columns(warehouse: Warehouse) -> list[str]:
    """Add the columns :func:`missing_columns` finds (NULL in existing rows); returns their names."""
    added = []
    for name, kind in missing_columns(warehouse):
        column = exp.ColumnDef(this=exp.to_identifier(name), kind=exp.DataType.build(kind, dialect="duckdb"))
        alter = exp.Alter(this=exp.to_table(EVENTS_TABLE), kind="TABLE", actions=[column])
        warehouse.execute(alter.sql(dialect=warehouse.dialect))
        added.append(name)
    return added


def touch_update(dialect: str, *, staged: bool) -> str:
    """The ``UPDATE`` filling both columns, for the users in :data:`STAGE_TABLE` (``staged``) or for everyone."""
    touches = sqlglot.parse_one(_TOUCHES, read="duckdb")
    assert isinstance(touches, exp.Select)
    chosen: list[exp.Expr] = []
    if staged:
        inner = touches.args["from_"].this.this
        inner.where(exp.column("user_id", table="e").isin(query=exp.select("user_id").from_(STAGE_TABLE)), copy=False)
        # The same test on the updated rows: the engine then matches event ids only among the staged users' rows.
        chosen.append(exp.column("user_id", table=EVENTS_TABLE).isin(query=exp.select("user_id").from_(STAGE_TABLE)))
    stored, computed = exp.column, lambda name: exp.column(name, table="t")
    changed = exp.or_(
        exp.NullSafeEQ(this=stored("first_utm_source", table=EVENTS_TABLE), expression=computed("first_touch")).not_(),
        exp.NullSafeEQ(
            this=stored("latest_utm_source", table=EVENTS_TABLE), expression=computed("latest_touch")
        ).not_(),
    )
    update = exp.Update(
        this=exp.to_table(EVENTS_TABLE),
        expressions=[
            exp.EQ(this=exp.column("first_utm_source"), expression=computed("first_touch")),
            exp.EQ(this=exp.column("latest_utm_source"), expression=computed("latest_touch")),
        ],
        from_=exp.From(this=exp.Subquery(this=touches, alias=exp.TableAlias(this=exp.to_identifier("t")))),
        where=exp.Where(
            this=exp.and_(*chosen, stored("event_id", table=EVENTS_TABLE).eq(computed("event_id")), exp.paren(changed))
        ),
    )
    return update.sql(dialect=dialect)


def fill_touch_channels(warehouse: Warehouse, user_ids: Iterable[str] | None = None) -> int:
    """Recompute both columns for ``user_ids``' events (None: every user's); returns the events changed (0 where
    the engine does not say: PostgreSQL)."""
    dialect = warehouse.dialect
    if dialect == "clickhouse":
        return _fill_clickhouse(warehouse, None if user_ids is None else sorted({u for u in user_ids if u is not None}))
    if user_ids is None:
        return _changed(warehouse.query(touch_update(dialect, staged=False)).rows)
    ids = sorted({u for u in user_ids if u is not None})
    if not ids:
        return 0
    stage(warehouse, STAGE_TABLE, [("user_id", "VARCHAR")], pa.table({"user_id": pa.array(ids, pa.string())}))
    try:
        return _changed(warehouse.query(touch_update(dialect, staged=True)).rows)
    finally:
        drop_stage(warehouse, STAGE_TABLE)


def _fill_clickhouse(warehouse: Warehouse, user_ids: list[str] | None) -> int:
    """ClickHouse has no ``UPDATE ... FROM``: the changed events' touches are read, then written back by mutations
    (``transform(event_id, ids, values, column)``, literals, ``mutations_sync = 2``), a chunk of events at a time."""
    if user_ids is not None and not user_ids:
        return 0
    touches = sqlglot.parse_one(_TOUCHES, read="duckdb")
    assert isinstance(touches, exp.Select)
    chunks: list[list[exp.Expr] | None] = [None] if user_ids is None else list(literal_chunks(user_ids))
    changed = 0
    for chunk in chunks:
        select = touches.copy()
        if chunk is not None:
            select.args["from_"].this.this.where(exp.column("user_id", table="e").isin(*chunk), copy=False)
        stored = exp.select("event_id", "first_utm_source", "latest_utm_source").from_(EVENTS_TABLE)
        compare = (
            exp.select("t.event_id", "t.first_touch", "t.latest_touch")
            .from_(select.subquery("t"))
            .join(stored.subquery("s"), on="s.event_id = t.event_id")
            .where(
                exp.or_(
                    *(
                        exp.NullSafeEQ(
                            this=exp.column(stored_name, table="s"), expression=exp.column(new, table="t")
                        ).not_()
                        for stored_name, new in (
                            ("first_utm_source", "first_touch"),
                            ("latest_utm_source", "latest_touch"),
                        )
                    )
                )
            )
        )
        rows = warehouse.query(compare.sql(dialect="clickhouse")).rows
        for start in range(0, len(rows), IN_LIST_SIZE):
            part = rows[start : start + IN_LIST_SIZE]
            ids = exp.Array(expressions=[exp.convert(r[0]) for r in part])
            sets = []
            for position, column in ((1, "first_utm_source"), (2, "latest_utm_source")):
                values = exp.Array(expressions=[_nullable(r[position]) for r in part])
                value = exp.Anonymous(
                    this="transform", expressions=[exp.column("event_id"), ids.copy(), values, exp.column(column)]
                )
                sets.append(f"{column} = {value.sql(dialect='clickhouse')}")
            where = exp.column("event_id").isin(*[exp.convert(r[0]) for r in part]).sql(dialect="clickhouse")
            warehouse.execute(
                f"ALTER TABLE {EVENTS_TABLE} UPDATE {', '.join(sets)} WHERE {where} SETTINGS mutations_sync = 2"
            )
        changed += len(rows)
    return changed


def _nullable(value: object) -> exp.Expr:
    """A touch as a ``Nullable(String)`` literal, so that an array of them may hold NULL."""
    return exp.cast(
        exp.convert(value) if value is not None else exp.null(),
        exp.DataType.build("Nullable(String)", dialect="clickhouse"),
    )


def _changed(rows: list[tuple]) -> int:
    return int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0


__all__ = ["TOUCH_COLUMNS", "add_missing_columns", "fill_touch_channels", "missing_columns"]
