"""Time funnels, retention and sessions on chdb against DuckDB on the same data, and against hand-written ClickHouse SQL.

    python bench/clickhouse_plans.py --duckdb /tmp/demo.duckdb --chdb /tmp/demo_chdb [--reps 5]

Both warehouses must hold the same rows (``finlens demo --warehouse URL`` with the same options
writes the same data into each). Each question is compiled for both dialects; every statement is
run once untimed (the answers of both engines are compared: column ``same``), then ``--reps``
rounds running each statement of the question once in turn (interleaved, so both sides meet the same load
on a shared machine); the table shows medians of warm runs inside one process per engine (chdb's first query
in a process loads the tables, ~3 s, and is left out). Two plain scans come first (a count of one event,
distinct users over the range). The hand-written twins are the fastest ClickHouse SQL found for the question: ``windowFunnel`` for funnels (its counts differ from the
documented semantics where equal timestamps or repeated starts matter, so only its time is
compared) and a per-user ``GROUP BY`` with ``arrayJoin`` for retention (the same answer).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors import connect  # noqa: E402
from semantic import Query, compile_query, load_catalog  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

INVEST_STEPS = """events.event IN ('$AppViewScreen', '$pageview') AND events.page = 'product_list',
    events.event IN ('$AppViewScreen', '$pageview') AND events.page = 'product_detail',
    events.event IN ('$AppClick', '$WebClick') AND events.element = 'invest_button',
    events.event = 'P2P_order_submit',
    events.event = 'P2P_invest' AND events.is_success"""


def hand_funnel(start: date, end: date) -> str:
    """``windowFunnel`` over the five invest steps by the platform of the user's first step-1 event."""
    return f"""
SELECT platform, level, count() AS users FROM (
  SELECT user_id,
    argMinIf(events.platform, events.event_time,
             events.event IN ('$AppViewScreen', '$pageview') AND events.page = 'product_list') AS platform,
    windowFunnel(86400)(toDateTime(events.event_time), {INVEST_STEPS}) AS level
  FROM events
  WHERE events.user_id IS NOT NULL AND events.event_time >= '{start} 00:00:00'
    AND events.event_time < toDateTime('{end + timedelta(days=1)} 00:00:00') + INTERVAL 1 DAY
  GROUP BY user_id)
WHERE level > 0 GROUP BY platform, level ORDER BY platform, level"""


def hand_retention(start: date, end: date) -> str:
    """bind_card_retention (daily, 30 periods) as one per-user GROUP BY, retained users by ``has``."""
    return f"""
WITH users AS (
  SELECT user_id,
    toDate(minIf(event_time, event = 'bind_card' AND is_success)) AS cohort,
    groupUniqArrayIf(toDate(event_time), event = '$AppStart' AND event_time >= '{start} 00:00:00') AS returns
  FROM events
  WHERE user_id IS NOT NULL AND ((event = 'bind_card' AND is_success) OR event = '$AppStart')
  GROUP BY user_id
  HAVING cohort >= '{start}' AND cohort <= '{end}'),
last AS (SELECT max(event_time) AS t FROM events)
SELECT cohort, period, count() AS cohort_size,
  if(toDateTime(cohort + period + 1) <= any(last.t), countIf(has(returns, cohort + period)), NULL) AS retained
FROM users ARRAY JOIN range(1, 31) AS period CROSS JOIN last
GROUP BY cohort, period ORDER BY cohort, period"""


QUESTIONS: list[tuple[str, dict, object]] = [
    ("bind_card_funnel", {}, None),
    ("invest_funnel --by platform", {"metrics": ("invest_funnel",), "dimensions": ("platform",)}, hand_funnel),
    ("bind_card_funnel --grain week", {"metrics": ("bind_card_funnel",), "grain": "week"}, None),
    ("bind_card_retention", {}, hand_retention),
    ("bind_card_retention_unbounded", {}, None),
    (
        "bind_card_retention --grain week --average",
        {"metrics": ("bind_card_retention",), "grain": "week", "average": True},
        None,
    ),
    ("sessions --grain day", {"grain": "day"}, None),
    ("avg_session_duration --by platform", {"dimensions": ("platform",)}, None),
]


def scans(start: date, end: date) -> list[tuple[str, str, str]]:
    """(label, DuckDB SQL, ClickHouse SQL): plain scans, the floor under every question."""
    days = f"event_time >= '{start} 00:00:00' AND event_time < '{end + timedelta(days=1)} 00:00:00'"
    app_start = "SELECT count(*) FROM events WHERE event = '$AppStart'"
    return [
        ("scan: count() WHERE event = '$AppStart'", app_start, app_start),
        (
            f"scan: distinct users, {(end - start).days + 1} days",
            f"SELECT count(DISTINCT user_id) FROM events WHERE {days}",
            f"SELECT uniqExact(user_id) FROM events WHERE {days}",
        ),
    ]


def interleaved(runs: list[tuple[object, str]], reps: int) -> tuple[list[float], list[list[dict]]]:
    """Each (warehouse, sql) once untimed (its rows kept), then ``reps`` rounds running each once in turn:
    the median seconds of each. Interleaving keeps the sides of a comparison under the same load."""
    answers = [warehouse.query(sql).records() for warehouse, sql in runs]  # type: ignore[attr-defined]
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(reps):
        for (warehouse, sql), spent in zip(runs, times):
            began = time.perf_counter()
            warehouse.query(sql).records()  # type: ignore[attr-defined]
            spent.append(time.perf_counter() - began)
    return [statistics.median(t) for t in times], answers


def same(left: list[dict], right: list[dict]) -> bool:
    def norm(value):
        if isinstance(value, float):
            return None if math.isnan(value) else round(value, 6)
        return str(value) if isinstance(value, date) else value

    return [{k: norm(v) for k, v in r.items()} for r in left] == [{k: norm(v) for k, v in r.items()} for r in right]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duckdb", required=True, help="a DuckDB file")
    parser.add_argument("--chdb", required=True, help="a chdb folder with the same rows")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--days", type=int, default=28, help="the question's range: the last N days of the data")
    args = parser.parse_args()
    catalog = load_catalog(ROOT / "metrics")
    duck = connect(f"duckdb:///{Path(args.duckdb).resolve().as_posix()}")
    chdb = connect(f"chdb:///{Path(args.chdb).resolve().as_posix()}")
    last = duck.query("SELECT CAST(MAX(event_time) AS DATE) AS d, COUNT(*) AS n FROM events").records()[0]
    end, events = last["d"], last["n"]
    start = end - timedelta(days=args.days - 1)
    chdb.query("SELECT count() FROM events WHERE event_time IS NOT NULL").records()  # loads the tables
    load = os.getloadavg()[0]
    print(
        f"_{events:,} events; question: {start}..{end}; median of {args.reps} interleaved warm runs; load average {load:.1f} at the start_\n"
    )
    print("| question | DuckDB s | chdb s | chdb / DuckDB | hand-written chdb s | compiled / hand | same |")
    print("|---|--:|--:|--:|--:|--:|---|")
    for label, duck_sql, ch_sql in scans(start, end):
        times, answers = interleaved([(duck, duck_sql), (chdb, ch_sql)], args.reps)
        agree = (
            "yes" if answers[0][0][next(iter(answers[0][0]))] == answers[1][0][next(iter(answers[1][0]))] else "DIFFERS"
        )
        print(f"| {label} | {times[0]:.3f} | {times[1]:.3f} | {times[1] / times[0]:.2f} | – | – | {agree} |")
    for label, options, hand in QUESTIONS:
        options = {"metrics": (label.split()[0],), **options}
        query = Query(start=start, end=end, time_to_convert="funnel" in label, **options)
        runs = [
            (duck, compile_query(catalog, query, "duckdb").sql),
            (chdb, compile_query(catalog, query, "clickhouse").sql),
        ]
        if callable(hand):
            runs.append((chdb, hand(start, end)))
        times, answers = interleaved(runs, args.reps)
        duck_s, ch_s, hand_s = times[0], times[1], times[2] if callable(hand) else None
        duck_rows, ch_rows = answers[0], answers[1]
        hand_text = f"{hand_s:.3f} | {ch_s / hand_s:.2f}" if hand_s else "– | –"
        print(
            f"| {label} | {duck_s:.3f} | {ch_s:.3f} | {ch_s / duck_s:.2f} | {hand_text} | "
            f"{'yes' if same(duck_rows, ch_rows) else 'DIFFERS'} |"
        )


if __name__ == "__main__":
    main()
