"""The one write path's bookkeeping: every load's commit and the data's watermark; where loaders hook in.

Every loader (``finlens demo``, ``finlens import``, ``finlens collect``) ends each load it
commits with :func:`finish_load`: one row in ``ingest_loads`` (when, what, how many new
events, and ``received_until``: the moment up to which what was received is now in the
warehouse). :func:`read_watermark` is what readers compare to know that the data changed
(the app keys its caches by it) and how fresh it is ("data up to 14:03:05, 4 s ago").

Rows a loader appends to ``events`` or ``users`` are announced with :func:`appended`;
whatever must follow the data registers with :func:`on_append` and runs in the loader's
transaction, on the same connection. The exact rollups (``ingest/rollups.py``) are such a hook,
refreshed by :func:`finish_load` before it writes the watermark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
from sqlglot import exp

from connectors.base import Warehouse
from ingest import rollups
from ingest.schema import LOADS_TABLE, arrow_schema, create_table_sql

AppendHook = Callable[[Warehouse, str, pa.Table], None]
_HOOKS: list[AppendHook] = []


@dataclass(frozen=True)
class Watermark:
    """What the warehouse holds: loads so far, the last commit, and what it covers (UTC, naive)."""

    loads: int
    loaded_at: datetime
    received_until: datetime

    @property
    def token(self) -> str:
        """Changes whenever a load commits: a cache key."""
        return f"{self.loads}:{self.loaded_at.isoformat()}"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def on_append(hook: AppendHook) -> None:
    """Call ``hook(warehouse, table, rows)`` after every append of a loader to ``events`` or ``users``."""
    _HOOKS.append(hook)


def appended(warehouse: Warehouse, table: str, rows: pa.Table) -> None:
    for hook in _HOOKS:
        hook(warehouse, table, rows)


def ensure_loads_table(warehouse: Warehouse) -> None:
    if not warehouse.has_table(LOADS_TABLE):
        warehouse.execute(create_table_sql(LOADS_TABLE, warehouse.dialect))


def finish_load(warehouse: Warehouse, source: str, events: int, received_until: datetime | None = None) -> None:
    """Record a committed load (call it inside the load's transaction where there is one); refresh the rollups."""
    rollups.refresh(warehouse)
    ensure_loads_table(warehouse)
    now = utc_now()
    row = {"loaded_at": now, "source": source, "events": events, "received_until": received_until or now}
    warehouse.append(LOADS_TABLE, pa.Table.from_pylist([row], schema=arrow_schema(LOADS_TABLE)))


on_append(rollups.note_appended)


def prune_loads(warehouse: Warehouse, source: str, keep: timedelta) -> None:
    """Forget ``source``'s load rows older than ``keep`` (a collector commits about once a second)."""
    cutoff = exp.convert(utc_now() - keep)
    where = exp.and_(exp.column("source").eq(exp.convert(source)), exp.column("loaded_at") < cutoff)
    warehouse.execute(exp.delete(LOADS_TABLE, where=where).sql(dialect=warehouse.dialect))


def read_watermark(warehouse: Warehouse) -> Watermark | None:
    """The watermark, or None for a warehouse no finlens loader has written (loaded by other tools)."""
    if not warehouse.has_table(LOADS_TABLE):
        return None
    query = exp.select(
        exp.Count(this=exp.Star()), exp.Max(this=exp.column("loaded_at")), exp.Max(this=exp.column("received_until"))
    ).from_(LOADS_TABLE)
    loads, loaded_at, received_until = warehouse.query(query.sql(dialect=warehouse.dialect)).rows[0]
    if not loads or loaded_at is None:
        return None
    return Watermark(int(loads), _naive(loaded_at), _naive(received_until or loaded_at))


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
