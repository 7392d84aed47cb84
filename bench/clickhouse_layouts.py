"""Time ClickHouse table layouts for ``events`` (sorting key, partitions, LowCardinality) on the same rows.

    python bench/clickhouse_layouts.py --chdb /tmp/demo_chdb [--reps 3] [--days 28]

The folder is a chdb warehouse of the demo (``finlens demo --warehouse chdb:///...``). Each candidate
layout gets a copy of ``events`` in the same folder (``events_<name>``, ``INSERT INTO ... SELECT *``,
dropped again at the end); every statement (plain scans, and the compiled ClickHouse SQL of funnels,
retention and sessions with ``events`` pointed at the copy) runs once untimed per candidate (the answers
are compared with the first candidate's: column ``same``), then ``--reps`` interleaved rounds; the table
shows medians in seconds. The candidates' DDL is built like ``ingest/schema.py`` builds the shipped one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlglot import exp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.clickhouse_plans import QUESTIONS, same  # noqa: E402
from connectors.chdb import ChdbWarehouse  # noqa: E402
from ingest.schema import CLICKHOUSE_LOW_CARDINALITY, EVENTS_TABLE, create_table_sql  # noqa: E402
from semantic import Query, compile_query, load_catalog  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# name → (low cardinality text columns?, PARTITION BY, ORDER BY)
LAYOUTS: dict[str, tuple[bool, str | None, tuple[str, ...]]] = {
    "plain": (False, None, ()),
    "lowcard": (True, None, ()),
    "time": (True, None, ("event_time",)),
    "event_time": (True, None, ("event", "event_time")),
    "event_user_time": (True, None, ("event", "user_id", "event_time")),
    "user_time": (True, None, ("user_id", "event_time")),
    "month_event_time": (True, "toYYYYMM(event_time)", ("event", "event_time")),
}


def layout_sql(name: str, low_cardinality: bool, partition: str | None, key: tuple[str, ...]) -> str:
    """The shipped ``events`` DDL with this candidate's types, partitions and sorting key."""
    create = exp.maybe_parse(create_table_sql(EVENTS_TABLE, "clickhouse"), dialect="clickhouse")
    assert isinstance(create, exp.Create)
    create.this.set("this", exp.to_table(f"events_{name}"))
    if not low_cardinality:
        for column in create.this.expressions:
            if column.name in CLICKHOUSE_LOW_CARDINALITY[EVENTS_TABLE]:
                column.set("kind", column.args["kind"].expressions[0])
    properties = create.args["properties"]
    order = properties.find(exp.Order)
    sort: exp.Expr = exp.Tuple(expressions=[exp.column(c) for c in key]) if key else exp.Anonymous(this="tuple")
    order.set("expressions", [exp.Ordered(this=sort, nulls_first=False)])
    for partitioned in list(properties.find_all(exp.PartitionedByProperty)):
        partitioned.pop()
    if partition:
        properties.expressions.insert(
            1, exp.PartitionedByProperty(this=exp.maybe_parse(partition, dialect="clickhouse"))
        )
    if not key:
        for setting in list(properties.find_all(exp.SettingsProperty)):
            setting.pop()
    return create.sql(dialect="clickhouse")


def pointed_at(sql: str, name: str) -> str:
    """``sql`` reading ``events_<name>`` (aliased ``events``, so qualified columns still resolve)."""
    tree = exp.maybe_parse(sql, dialect="clickhouse")
    for table in list(tree.find_all(exp.Table)):
        if table.name == EVENTS_TABLE and not table.args.get("db"):
            table.set("this", exp.to_identifier(f"events_{name}"))
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(EVENTS_TABLE)))
    return tree.sql(dialect="clickhouse")


def statements(end, days: int) -> list[tuple[str, str]]:
    """(label, ClickHouse SQL over ``events``): plain scans, then the compiled questions."""
    catalog = load_catalog(ROOT / "metrics")
    start = end - timedelta(days=days - 1)
    scans = [
        ("scan: count() WHERE event = '$AppStart'", "SELECT count() FROM events WHERE event = '$AppStart'"),
        (
            f"scan: uniqExact(user_id), {days} days",
            f"SELECT uniqExact(user_id) FROM events WHERE event_time >= '{start} 00:00:00' "
            f"AND event_time < '{end + timedelta(days=1)} 00:00:00'",
        ),
    ]
    questions = [(label, {"metrics": (label.split()[0],), **options}) for label, options, _ in QUESTIONS]
    compiled = [
        (
            label,
            compile_query(
                catalog, Query(start=start, end=end, time_to_convert="funnel" in label, **o), "clickhouse"
            ).sql,
        )
        for label, o in questions
    ]
    return [*scans, *compiled]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chdb", required=True, help="a chdb folder of the demo (its events table is read)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--only", default="", help="time only the statements whose label contains this text")
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help="comma-separated candidate names")
    args = parser.parse_args()
    names = args.layouts.split(",")
    warehouse = ChdbWarehouse(f"chdb:///{Path(args.chdb).resolve().as_posix()}", read_only=False)
    try:
        for name in names:
            warehouse.execute(f"DROP TABLE IF EXISTS events_{name}")
            began = time.perf_counter()
            warehouse.execute(layout_sql(name, *LAYOUTS[name]))
            warehouse.execute(f"INSERT INTO events_{name} SELECT * FROM events")
            warehouse.execute(f"OPTIMIZE TABLE events_{name} FINAL")
            size = warehouse.query(
                f"SELECT sum(bytes_on_disk) AS b FROM system.parts WHERE table = 'events_{name}' AND active"
            ).records()[0]["b"]
            print(
                f"- `{name}`: {layout_sql(name, *LAYOUTS[name]).split(') ENGINE=')[1]}; "
                f"copied in {time.perf_counter() - began:.0f} s, {size / 1e6:.0f} MB on disk",
                flush=True,
            )
        end = warehouse.query("SELECT toDate(max(event_time)) AS d FROM events").records()[0]["d"]
        print(
            f"\n_load average {os.getloadavg()[0]:.1f} at the start; median of {args.reps} interleaved warm runs, s_\n"
        )
        print("| statement | " + " | ".join(names) + " | same |")
        print("|---|" + "--:|" * len(names) + "---|")
        for label, sql in statements(end, args.days):
            if args.only not in label:
                continue
            runs = [pointed_at(sql, name) for name in names]
            answers = [warehouse.query(run).records() for run in runs]
            times: list[list[float]] = [[] for _ in runs]
            for _ in range(args.reps):
                for run, spent in zip(runs, times):
                    began = time.perf_counter()
                    warehouse.query(run).records()
                    spent.append(time.perf_counter() - began)
            agree = all(same(answers[0], other) for other in answers[1:])
            cells = " | ".join(f"{statistics.median(t):.3f}" for t in times)
            print(f"| {label} | {cells} | {'yes' if agree else 'DIFFERS'} |", flush=True)
    finally:
        for name in names:
            warehouse.execute(f"DROP TABLE IF EXISTS events_{name}")
        warehouse.close()


if __name__ == "__main__":
    main()
