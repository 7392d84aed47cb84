"""Refreshing rollups after an append: only the days, sessions and first events the new events can reach.

Recomputing every touched user from all of their events scans the whole ``events`` table at every
load (10 s per load at 30M events), which a collector committing every second cannot afford. An
append can only change, for each user with new events:

- ``rollup_user_days`` and ``rollup_active_days``: the days of the new events;
- ``rollup_session_days``: the stored sessions that end no more than the session gap before the
  user's first new event and start no more than the gap after the last one; the span from the
  earliest of those starts to the latest end (or the new events themselves) holds whole sessions,
  so it is sessionized again on its own (``session_windows_select`` says why that is exact);
- ``rollup_first_seen``: the user's row, only when a new event comes no later than the stored first
  time; the new first event is then among the events at the new events' earliest instant.

Each rollup gets its own stage of spans (user, start, end: ``start <= time < end``); the rows inside
them are deleted and selected again from the events inside them, with the spans' overall bounds as
literal conditions so the engine skips the blocks of older events. Users whose stored events moved
(identity re-attribution), or whose new events lack a time, are recomputed whole by
``ingest/rollups.py``. ClickHouse keeps whole-user refreshes: its mutations cannot read a session's
temporary table. Timestamps are microseconds on every engine, so ``end`` is the last time plus 1 µs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from connectors.base import Warehouse
from ingest.staging import drop_stage, stage
from semantic.catalog.catalog import Catalog
from semantic.catalog.specs import Model
from semantic.compiler.dialects import timestamp_literal
from semantic.compiler.reader import (
    ACTIVE_DAYS_ROLLUP,
    FIRST_SEEN_ROLLUP,
    ROLLUP_SPAN_STAGE_TABLE,
    SESSION_ROLLUP,
    USER_DAYS_ROLLUP,
    rollup_span_test,
    rollup_table,
)
from semantic.compiler.rollup_build import BUILDERS, session_windows_select

MICROSECOND = timedelta(microseconds=1)
SPAN_COLUMNS = [("user_id", "VARCHAR"), ("span_start", "TIMESTAMP"), ("span_end", "TIMESTAMP")]
# The column of each rollup that says where a row sits in time, and whether the span bounds it from above.
PER_USER_DAY = (USER_DAYS_ROLLUP, ACTIVE_DAYS_ROLLUP)  # rows per user and day: a new event's day is recomputed
ROW_TIMES = {name: ("event_time", True) for name in PER_USER_DAY}
ROW_TIMES[SESSION_ROLLUP] = ("session_start", True)
ROW_TIMES[FIRST_SEEN_ROLLUP] = ("event_time", False)  # a stored first time after the new events goes too


@dataclass
class Appended:
    """What the appends of one load brought, per user: first and last new event time, and their days."""

    spans: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    days: set[tuple[str, date]] = field(default_factory=set)

    def add(self, rows: pa.Table) -> set[str]:
        """Take in appended ``events`` rows; returns the users with an event without a time (to recompute whole)."""
        users, times = rows.column("user_id"), rows.column("event_time")
        known = pc.and_(pc.is_valid(users), pc.is_valid(times))
        untimed = pc.filter(users, pc.and_(pc.is_valid(users), pc.is_null(times)))
        timed = pa.table({"user_id": pc.filter(users, known), "event_time": pc.filter(times, known)})
        timed = timed.append_column("day", pc.cast(timed.column("event_time"), pa.date32()))
        for row in timed.group_by("user_id").aggregate([("event_time", "min"), ("event_time", "max")]).to_pylist():
            user, first, last = row["user_id"], row["event_time_min"], row["event_time_max"]
            stored = self.spans.get(user)
            self.spans[user] = (first, last) if stored is None else (min(stored[0], first), max(stored[1], last))
        pairs = timed.select(["user_id", "day"]).group_by(["user_id", "day"]).aggregate([])
        self.days.update(zip(pairs.column("user_id").to_pylist(), pairs.column("day").to_pylist(), strict=True))
        return set(pc.unique(untimed).to_pylist())

    def without(self, users: set[str]) -> Appended:
        """The same, leaving out ``users`` (those recomputed whole)."""
        return Appended(
            {u: span for u, span in self.spans.items() if u not in users},
            {pair for pair in self.days if pair[0] not in users},
        )


def refresh_spans(warehouse: Warehouse, catalog: Catalog, model: Model, name: str, appended: Appended) -> None:
    """Replace rollup ``name``'s rows inside the spans ``appended`` reaches by rows selected again from the events."""
    if not appended.spans:
        return
    spans = _spans(warehouse, model, name, appended)
    try:
        stage(warehouse, ROLLUP_SPAN_STAGE_TABLE, SPAN_COLUMNS, spans)
        dialect = warehouse.dialect
        column, upper = ROW_TIMES[name]
        table = rollup_table(name)
        bounds = (pc.min(spans.column("span_start")).as_py(), pc.max(spans.column("span_end")).as_py())
        at = exp.column(column, table=name)
        # The overall bounds first: cheap, and most stored rows fail them.
        inside: list[exp.Expr] = [at >= timestamp_literal(bounds[0].isoformat(sep=" "))]
        if upper:
            inside.append(at < timestamp_literal(bounds[1].isoformat(sep=" ")))
        stored = rollup_span_test(exp.column("user_id", table=name), at, upper=upper)
        warehouse.execute(exp.delete(table, where=exp.and_(*inside, stored)).sql(dialect=dialect))
        select = BUILDERS[name](catalog, model, dialect, spans=bounds)
        warehouse.execute(exp.insert(select, rollup_table(name)).sql(dialect=dialect))
    finally:
        drop_stage(warehouse, ROLLUP_SPAN_STAGE_TABLE)


def _spans(warehouse: Warehouse, model: Model, name: str, appended: Appended) -> pa.Table:
    """The stage rows for rollup ``name``: days (user days), widened spans (sessions) or new first times."""
    if name in PER_USER_DAY:
        days = sorted(appended.days)
        starts = [datetime.combine(day, time()) for _, day in days]
        return _table([u for u, _ in days], starts, [s + timedelta(days=1) for s in starts])
    users = sorted(appended.spans)
    if name == FIRST_SEEN_ROLLUP:
        firsts = [appended.spans[u][0] for u in users]
        return _table(users, firsts, [t + MICROSECOND for t in firsts])
    new = _table(users, [appended.spans[u][0] for u in users], [appended.spans[u][1] for u in users])
    stage(warehouse, ROLLUP_SPAN_STAGE_TABLE, SPAN_COLUMNS, new)
    since = min(start for start, _ in appended.spans.values())
    widened = warehouse.query(session_windows_select(model, warehouse.dialect, since).sql(dialect=warehouse.dialect))
    rows = sorted(widened.rows)
    return _table([r[0] for r in rows], [r[1] for r in rows], [r[2] + MICROSECOND for r in rows])


def _table(users: list[str], starts: list[datetime], ends: list[datetime]) -> pa.Table:
    return pa.table(
        {
            "user_id": pa.array(users, pa.string()),
            "span_start": pa.array(starts, pa.timestamp("us")),
            "span_end": pa.array(ends, pa.timestamp("us")),
        }
    )
