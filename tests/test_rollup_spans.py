"""Span refreshes (only the days, sessions and first events new events reach) equal rebuilding every rollup.

Each case draws events of five users on a 5-minute grid around two midnights (so gaps of exactly
the 30-minute limit, ties at one instant and sessions across midnight are common), shuffles them
into four loads (later loads bring events earlier than stored ones: late events that split,
join and extend sessions and move first times), and after every load compares each rollup table,
row by row, with the rows its whole build (``rollup_build.BUILDERS``, checked against the events
by ``test_rollups.py``) selects from the events as they are then. Some events have no user.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from connectors import connect
from ingest.rollup_spans import Appended
from semantic.compiler.reader import ROLLUP_STATE_TABLE, ROLLUPS
from semantic.compiler.rollup_build import BUILDERS, rollup_model
from tests.test_rollups import CATALOG, _append
from tests.warehouse_fixtures import load

MODEL = rollup_model(CATALOG)
EVENTS = ("$AppViewScreen", "$AppClick", "$pageview", "P2P_invest", "bind_card")
START = datetime(2026, 3, 1, 20, 0)


def _events(rng: random.Random, count: int) -> list[dict]:
    rows = []
    for number in range(count):
        at = START + timedelta(minutes=5 * rng.randrange(0, 12 * 30))  # 03-01 20:00 .. 03-03 02:00
        user = rng.choice(["A", "B", "C", "D", "E", None])
        rows.append(
            dict(
                event_id=f"e{number:03d}",
                event_time=at.strftime("%Y-%m-%d %H:%M:%S"),
                event=rng.choice(EVENTS),
                user_id=user,
                distinct_id=user or f"anon{number}",
                platform=rng.choice(["iOS", "Android", "Web"]),
                business_line=rng.choice(["platform", "p2p"]),
            )
        )
    return rows


def _table(reader, sql: str) -> list[tuple]:
    return sorted(reader.query(sql).rows, key=repr)


def _assert_rollups_equal_rebuild(writer) -> None:
    assert MODEL is not None
    for name in ROLLUPS:
        stored = _table(writer, f"SELECT * FROM {name}")
        rebuilt = _table(writer, BUILDERS[name](CATALOG, MODEL, writer.dialect).sql(dialect=writer.dialect))
        assert stored == rebuilt, name


def _run(writer, seed: int) -> None:
    rng = random.Random(seed)
    events = _events(rng, 120)
    rng.shuffle(events)
    for table in (*ROLLUPS, ROLLUP_STATE_TABLE):
        writer.execute(f"DROP TABLE IF EXISTS {table}")
    load(writer, [], [])
    cuts = sorted(rng.sample(range(1, len(events)), 3))
    for batch in (events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)):
        _append(writer, batch)
        _assert_rollups_equal_rebuild(writer)


@pytest.mark.parametrize("seed", range(12))
def test_span_refreshes_equal_rebuilds_on_duckdb(tmp_path, seed):
    with connect(f"duckdb:///{tmp_path.as_posix()}/spans.duckdb", read_only=False) as writer:
        _run(writer, seed)


@pytest.mark.parametrize("seed", range(3))
def test_span_refreshes_equal_rebuilds_on_postgres(postgres_server, seed):
    with connect(postgres_server.url, read_only=False) as writer:
        _run(writer, seed)


def test_appended_spans_by_hand():
    """Two appends for A: span from the earliest to the latest new time, both days; a NULL time recomputes B whole."""
    import pyarrow as pa

    t = pa.timestamp("us")
    appended = Appended()
    first = pa.table(
        {
            "user_id": ["A", "A", None],
            "event_time": pa.array([datetime(2026, 3, 1, 23, 50), datetime(2026, 3, 2, 0, 5), datetime(2026, 3, 1)], t),
        }
    )
    assert appended.add(first) == set()
    second = pa.table({"user_id": ["A", "B"], "event_time": pa.array([datetime(2026, 3, 1, 9, 0), None], t)})
    assert appended.add(second) == {"B"}
    assert appended.spans == {"A": (datetime(2026, 3, 1, 9, 0), datetime(2026, 3, 2, 0, 5))}
    assert appended.days == {("A", datetime(2026, 3, 1).date()), ("A", datetime(2026, 3, 2).date())}
    assert appended.without({"A"}).spans == {}


def test_a_whole_build_in_parts_equals_one_statement(tmp_path, monkeypatch):
    """120 events at 25 a part: each rollup is built in 5 parts by user hash, then stored in the order questions read
    it (time; the user days by event, then time)."""
    from ingest import rollups

    monkeypatch.setattr(rollups, "ROWS_PER_PART", 25)
    with connect(f"duckdb:///{tmp_path.as_posix()}/parts.duckdb", read_only=False) as writer:
        load(writer, [], [])
        _append(writer, _events(random.Random(99), 120))  # no rollup state yet: every rollup built whole, in parts
        _assert_rollups_equal_rebuild(writer)
        stored = [row[0] for row in writer.query("SELECT session_start FROM rollup_session_days").rows]
        assert stored == sorted(stored)
        keyed = writer.query("SELECT event, event_time FROM rollup_user_days").rows
        assert keyed == sorted(keyed, key=lambda row: (row[0] is None, row[0] or "", row[1])) and len(keyed) > 5
        tables = {row[0] for row in writer.query("SELECT table_name FROM information_schema.tables").rows}
        assert not {t for t in tables if t.endswith("_parts")}
