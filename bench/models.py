"""Benchmark: a ten-step funnel and user paths on the 10M-event demo, each against a hand-written twin.

    python bench/models.py                 # the 10M-event file of bench/run.py (generated when missing, ~90 s)
    python bench/models.py --db data/finlens.duckdb --reps 3

The ten-step funnel (register → real-name → card → deposit → product list → product detail → invest click →
order → investment → redemption, 60-day window) is timed against the ``ASOF``-join SQL of
``tests/oracle_cohorts.py``; the shipped path analysis ``after_card_failure`` (paths from a failed card binding,
pages by name, 5 steps, top 10) against a twin written here with DuckDB's list functions. Both pairs run on one
connection, interleaved, after an untimed warm-up whose answers are compared. More questions are timed alone
(no twin): the ten-step funnel by week with its time to convert, paths to an investment, paths after dropping
out of the card funnel, and attribution. Targets as bench/run.py: compile < 10 ms, within 1.2x of the twin.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import DEFAULT_DAYS, DEFAULT_END, DEFAULT_SEED, DEFAULT_USERS, ensure_data  # noqa: E402
from connectors import connect  # noqa: E402
from semantic import Query, compile_query, load_catalog  # noqa: E402
from semantic.analyses.attribution import attribution_spec, compile_attribution  # noqa: E402
from semantic.analyses.paths import adhoc_path, load_paths  # noqa: E402
from semantic.analyses.paths_sql import compile_paths  # noqa: E402
from semantic.catalog.definitions import funnel_definition, with_metric  # noqa: E402
from tests.oracle_cohorts import Funnel, funnel_sql  # noqa: E402
from tests.oracle_sql import plain  # noqa: E402
from tests.oracle_sql_base import Ask  # noqa: E402

RANGE_DAYS = 28
STEPS = [
    ("register", None, "e.event = 'register'"),
    ("realname_auth", "is_success", "e.event = 'realname_auth' AND e.is_success"),
    ("bind_card", "is_success", "e.event = 'bind_card' AND e.is_success"),
    ("deposit", "is_success", "e.event = 'deposit' AND e.is_success"),
    ("$AppViewScreen", "page = 'product_list'", "e.event = '$AppViewScreen' AND e.page = 'product_list'"),
    ("$AppViewScreen", "page = 'product_detail'", "e.event = '$AppViewScreen' AND e.page = 'product_detail'"),
    ("$AppClick", "element = 'invest_button'", "e.event = '$AppClick' AND e.element = 'invest_button'"),
    ("P2P_order_submit", None, "e.event = 'P2P_order_submit'"),
    ("P2P_invest", "is_success", "e.event = 'P2P_invest' AND e.is_success"),
    ("P2P_redeem", None, "e.event = 'P2P_redeem'"),
]
WINDOW = "60d"


def paths_twin(start: date, end: date, steps: int = 5, top: int = 10) -> str:
    """Paths from the first failed bind_card of each session, by hand: sessions and collapsed repeats with two
    windows, each session's nodes as a DuckDB list sliced at its first anchor, the top nodes per step by QUALIFY."""
    return f"""
WITH ev AS (
    SELECT user_id, event_time, event_id,
           CASE WHEN event IN ('$AppViewScreen', '$pageview') AND page IS NOT NULL THEN 'page:' || page
                WHEN event IN ('$AppClick', '$WebClick') AND element IS NOT NULL THEN 'click:' || element
                ELSE event END AS node,
           COALESCE(event = 'bind_card' AND NOT is_success, FALSE) AS is_anchor
    FROM events
    WHERE user_id IS NOT NULL AND event IS NOT NULL
      AND event_time >= TIMESTAMP '{start} 00:00:00' AND event_time < TIMESTAMP '{end + timedelta(days=1)} 00:00:00'
),
marked AS (
    SELECT *, LAG(event_time) OVER w AS prev_time, LAG(node) OVER w AS prev_node
    FROM ev WINDOW w AS (PARTITION BY user_id ORDER BY event_time, event_id)
),
sessions AS (
    SELECT *, SUM(CASE WHEN prev_time IS NULL OR event_time > prev_time + INTERVAL 1800 SECOND THEN 1 ELSE 0 END)
                  OVER (PARTITION BY user_id ORDER BY event_time, event_id ROWS UNBOUNDED PRECEDING) AS sess,
              prev_time IS NULL OR event_time > prev_time + INTERVAL 1800 SECOND OR prev_node <> node AS new_node
    FROM marked
),
numbered AS (
    SELECT *, SUM(CAST(new_node AS INTEGER)) OVER (PARTITION BY user_id, sess ORDER BY event_time, event_id
                                                  ROWS UNBOUNDED PRECEDING) AS idx
    FROM sessions
),
seqs AS (
    SELECT user_id, list(node ORDER BY idx) FILTER (WHERE new_node) AS nodes, MIN(idx) FILTER (WHERE is_anchor) AS anchor
    FROM numbered GROUP BY user_id, sess HAVING MIN(idx) FILTER (WHERE is_anchor) IS NOT NULL
),
paths AS (SELECT row_number() OVER () AS path_id, user_id, nodes[anchor : anchor + {steps - 1}] AS path FROM seqs),
positions AS (SELECT path_id, user_id, len(path) AS length, unnest(range(1, len(path) + 1)) AS k, path FROM paths),
cells AS (SELECT path_id, user_id, length, k, path[k] AS node FROM positions),
kept AS (
    SELECT k, node FROM cells GROUP BY k, node
    QUALIFY row_number() OVER (PARTITION BY k ORDER BY COUNT(DISTINCT user_id) DESC, node) <= {top}
),
named AS (
    SELECT c.path_id, c.user_id, c.k, c.length, COALESCE(kept.node, 'other') AS node
    FROM cells c LEFT JOIN kept ON kept.k = c.k AND kept.node = c.node
),
flows AS (
    SELECT k AS step, node AS source, LEAD(node) OVER (PARTITION BY path_id ORDER BY k) AS target, user_id
    FROM named
)
SELECT step, source, target, COUNT(DISTINCT user_id) AS users FROM flows WHERE step < {steps}
GROUP BY ALL ORDER BY step, users DESC, source, target NULLS LAST"""


def timed(warehouse, statements: dict[str, str], reps: int) -> dict[str, float]:
    """Median ms of each statement, the statements interleaved round by round (order alternating)."""
    runs: dict[str, list[float]] = {name: [] for name in statements}
    for rep in range(reps):
        order = list(statements.items())
        for name, sql in order if rep % 2 == 0 else reversed(order):
            began = time.perf_counter()
            warehouse.query(sql)
            runs[name].append((time.perf_counter() - began) * 1000)
    return {name: statistics.median(values) for name, values in runs.items()}


def compile_ms(make, reps: int = 50) -> float:
    make()
    samples = []
    for _ in range(reps):
        began = time.perf_counter()
        make()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def same(a: list[dict], b: list[dict], keys: list[str]) -> bool:
    index = {tuple(r[k] for k in keys): r for r in b}
    if len(a) != len(b):
        return False
    for row in a:
        other = index.get(tuple(row[k] for k in keys))
        if other is None:
            return False
        for column, value in row.items():
            theirs = other[column]
            if isinstance(value, float) or isinstance(theirs, float):
                if (value is None) != (theirs is None) or (
                    value is not None and not math.isclose(value, theirs, rel_tol=1e-9)
                ):
                    return False
            elif value != theirs:
                return False
    return True


def rows(warehouse, sql: str) -> list[dict]:
    result = warehouse.query(sql)
    return [dict(zip(result.columns, map(plain, row))) for row in result.rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="DuckDB file (default: bench/run.py's 10M-event file)")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    db = args.db
    if db is None:
        options = argparse.Namespace(
            users=DEFAULT_USERS, days=DEFAULT_DAYS, seed=DEFAULT_SEED, end=DEFAULT_END, regenerate=False
        )
        db = Path("/tmp/finlens-bench") / f"demo-{DEFAULT_USERS}u-{DEFAULT_DAYS}d-s{DEFAULT_SEED}-{DEFAULT_END}.duckdb"
        info = ensure_data(db, options)
    else:
        info = {"events": "?", "end": None}
    catalog = load_catalog()
    warehouse = connect("duckdb:///" + str(db.resolve()))
    end = date.fromisoformat(str(info["end"])) if info.get("end") else DEFAULT_END
    start = end - timedelta(days=RANGE_DAYS - 1)
    span = dict(start=start, end=end)

    ten = funnel_definition(catalog, name="ten_step_funnel", steps=[(e, f) for e, f, _ in STEPS], window=WINDOW)
    with_ten = with_metric(catalog, ten.spec)
    funnel_query = Query(metrics=("ten_step_funnel",), **span)
    funnel_twin = funnel_sql(
        Ask(start, end), Funnel("ten_step_funnel", tuple((str(k), p) for k, (_, _, p) in enumerate(STEPS)), 60 * 86400)
    )
    after_card_failure = load_paths(catalog)["after_card_failure"]
    compiled = {
        "funnel": compile_query(with_ten, funnel_query).sql,
        "funnel twin": funnel_twin,
        "paths": compile_paths(catalog, after_card_failure, **span),
        "paths twin": paths_twin(start, end),
    }
    got, want = rows(warehouse, compiled["funnel"]), rows(warehouse, compiled["funnel twin"])
    funnel_ok = [r["users"] for r in got] == [r["users"] for r in want] and all(
        (a["median_seconds_to_convert"] is None and b["median_seconds_to_convert"] is None)
        or math.isclose(a["median_seconds_to_convert"], b["median_seconds_to_convert"], rel_tol=1e-9)
        for a, b in zip(got, want)
    )
    paths_ok = same(
        rows(warehouse, compiled["paths"]), rows(warehouse, compiled["paths twin"]), ["step", "source", "target"]
    )
    pairs = timed(warehouse, compiled, args.reps)
    alone = {
        "ten-step funnel by week with time to convert": compile_query(
            with_ten, Query(metrics=("ten_step_funnel",), grain="week", time_to_convert=True, **span)
        ).sql,
        "paths to a successful investment": compile_paths(catalog, load_paths(catalog)["before_investment"], **span),
        "paths after dropping out before the card": compile_paths(
            catalog, adhoc_path(catalog, after="bind_card_funnel:3", steps=5, by_page=True), **span
        ),
        "attribution, time decay, 3 touches": compile_attribution(
            catalog,
            attribution_spec(
                catalog,
                conversion="invest_users",
                touches=["push_click:campaign_id", "$AppViewScreen:utm_campaign", "$pageview:utm_campaign"],
                window="7d",
                model="time_decay",
                half_life="2d",
            ),
            **span,
        ),
    }
    for sql in alone.values():
        warehouse.query(sql)
    singles = timed(warehouse, alone, args.reps)
    compile_funnel = compile_ms(lambda: compile_query(with_ten, funnel_query))
    compile_paths_ms = compile_ms(lambda: compile_paths(catalog, after_card_failure, **span))
    warehouse.close()
    print(
        f"{info['events']:,} events; question {start}..{end}; median of {args.reps} interleaved runs"
        if isinstance(info["events"], int)
        else ""
    )
    print()
    print("| question | compile ms | finlens ms | hand-written ms | ratio | same answer |")
    print("|---|--:|--:|--:|--:|---|")
    print(
        f"| ten-step funnel | {compile_funnel:.2f} | {pairs['funnel']:.0f} | {pairs['funnel twin']:.0f} | "
        f"{pairs['funnel'] / pairs['funnel twin']:.2f} | {'yes' if funnel_ok else 'DIFFERS'} |"
    )
    print(
        f"| paths after a failed card binding | {compile_paths_ms:.2f} | {pairs['paths']:.0f} | {pairs['paths twin']:.0f} | "
        f"{pairs['paths'] / pairs['paths twin']:.2f} | {'yes' if paths_ok else 'DIFFERS'} |"
    )
    print()
    print("| question, no twin | finlens ms |")
    print("|---|--:|")
    for name, ms in singles.items():
        print(f"| {name} | {ms:.0f} |")
    slow = pairs["funnel"] > 1.2 * pairs["funnel twin"] or pairs["paths"] > 1.2 * pairs["paths twin"]
    return 0 if funnel_ok and paths_ok and not slow and max(compile_funnel, compile_paths_ms) < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
