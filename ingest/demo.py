"""The demo data set: a financial app's behaviour, generated into any warehouse.

``generate_demo`` (re)creates the canonical ``events`` and ``users`` tables of
``ingest.schema`` and fills them with a simulated population whose numbers
tell a story (channel quality, onboarding drop-off, an A/B test, a push
campaign, a buggy release; see ``ingest/README.md``). It works in batches of
people so memory does not grow with the size asked for, and every batch is
seeded from (seed, batch index), so the same arguments give the same rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlglot import exp

from connectors.base import Warehouse
from finlens_common.errors import IngestError
from ingest.demo_arrow import events_table, users_table
from ingest.demo_plan import Window, make_plan
from ingest.demo_sim import Simulator
from ingest.loads import appended, finish_load
from ingest.schema import EVENTS_TABLE, USERS_TABLE, create_table_sql

DEFAULT_USERS = 40_000
DEFAULT_DAYS = 180
DEFAULT_SEED = 7
DEFAULT_END = date(2026, 10, 31)
BATCH_USERS = 2_000  # fixed, so a person's rows depend only on the seed and their batch


@dataclass(frozen=True)
class DemoSummary:
    """What a run produced and how long it took."""

    users: int
    events: int
    start: date
    end: date
    seconds: float


def generate_demo(
    warehouse: Warehouse,
    *,
    users: int = DEFAULT_USERS,
    days: int = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
    end: date = DEFAULT_END,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Replace ``events`` and ``users`` in ``warehouse`` with ``users`` people over the ``days`` ending on ``end``."""
    _validate(users, days, seed, end)
    end = date(end.year, end.month, end.day)  # a datetime counts as its day
    began = time.perf_counter()
    window = Window(end=end, days=days)
    for table in (EVENTS_TABLE, USERS_TABLE):
        warehouse.execute(
            exp.Drop(tables=[exp.to_table(table)], kind="TABLE", exists=True).sql(dialect=warehouse.dialect)
        )
        warehouse.execute(create_table_sql(table, warehouse.dialect))
    events = 0
    with warehouse.bulk_load() as flush:
        for batch, first in enumerate(range(0, users, BATCH_USERS)):
            size = min(BATCH_USERS, users - first)
            event_rows, user_rows = generate_batch(seed, batch, first, size, window)
            warehouse.append(EVENTS_TABLE, event_rows)
            warehouse.append(USERS_TABLE, user_rows)
            appended(warehouse, EVENTS_TABLE, event_rows)
            appended(warehouse, USERS_TABLE, user_rows)
            events += event_rows.num_rows
            del event_rows, user_rows
            flush()
            if progress is not None:
                progress(first + size, users)
    finish_load(warehouse, "demo", events)
    return DemoSummary(
        users=users, events=events, start=window.start, end=end, seconds=round(time.perf_counter() - began, 3)
    )


def generate_batch(seed: int, batch: int, first: int, size: int, window: Window):
    """One batch's (events, users) Arrow tables; a pure function of its arguments."""
    plan_rng, sim_rng, arrow_rng = (np.random.default_rng([seed, batch, part]) for part in range(3))
    plan = make_plan(plan_rng, seed, first, size, window)
    sim = Simulator(plan, window, sim_rng)
    sim.run()
    events = events_table(sim, plan, window, arrow_rng, batch)
    people = users_table(sim, plan, window)
    return events, people


def _validate(users: int, days: int, seed: int, end: date) -> None:
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        raise IngestError(f"demo: users must be a whole number >= 1, got {users!r}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise IngestError(f"demo: days must be a whole number >= 1, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise IngestError(f"demo: seed must be a whole number >= 0, got {seed!r}")
    if not isinstance(end, date):
        raise IngestError(f"demo: end must be a date, got {end!r}")
    if days > 3660:
        raise IngestError(f"demo: days must be at most 3660 (ten years), got {days}")
