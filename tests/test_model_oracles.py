"""The analysis models on demo data, against answers worked out without finlens, on DuckDB, PostgreSQL and chdb.

The same demo (same seed) is loaded into each engine. The answers come from ``tests/oracle_models.py`` (the
funnel trend with its time-to-convert percentiles, a Python loop; the retention grid, hand-written SQL, whose
average row is summed here) run on the DuckDB copy, and from two plain Python loops over the raw events below
(paths and attribution), written from ``semantic/README.md``. Every engine's compiled answer must equal them.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from connectors import connect
from ingest.demo import generate_demo
from semantic import Query, load_catalog, run_query
from semantic.analyses.attribution import attribution_spec, run_attribution
from semantic.analyses.paths import adhoc_path
from semantic.analyses.paths_sql import run_paths
from tests.oracle_cohorts import BIND_CARD_FUNNEL, BIND_CARD_RETENTION
from tests.oracle_models import funnel_trend_python, retention_twin
from tests.oracle_sql import plain
from tests.oracle_sql_base import Ask, fetch

END = dt.date(2026, 10, 31)
DEMO = dict(users=1500, days=45, seed=11, end=END)
START = dt.date(2026, 10, 1)
CATALOG = load_catalog()
ENGINES = ("duckdb", "postgres", "chdb")
GAP = dt.timedelta(minutes=30)


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory, postgres_server):
    folder = tmp_path_factory.mktemp("model_oracles")
    chdb_dir = Path(tempfile.mkdtemp(prefix="finlens-chdb-"))
    urls = {
        "duckdb": f"duckdb:///{folder}/demo.duckdb",
        "postgres": postgres_server.url,
        "chdb": f"chdb:///{chdb_dir}",
    }
    opened = {}
    try:
        for url in urls.values():
            with connect(url, read_only=False) as loader:
                generate_demo(loader, **DEMO)
        for name, url in urls.items():
            opened[name] = connect(postgres_server.reader(url) if name == "postgres" else url)
        yield opened
    finally:
        for warehouse in opened.values():
            warehouse.close()
        shutil.rmtree(chdb_dir, ignore_errors=True)


def same(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if isinstance(got, float) or isinstance(want, float):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
    return got == want


def assert_rows(got: list[dict], want: list[dict], keys: list[str], context: str) -> None:
    index = {tuple(r[k] for k in keys): r for r in want}
    seen = {tuple(r[k] for k in keys): r for r in got}
    assert index, f"{context}: the oracle found nothing; the demo should exercise it"
    assert seen.keys() == index.keys(), f"{context}: rows differ: {sorted(set(seen) ^ set(index), key=repr)[:5]}"
    for key, row in index.items():
        for column, value in row.items():
            assert same(seen[key][column], value), f"{context} {key} {column}: {seen[key][column]!r} != {value!r}"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("by", [None, "platform"])
def test_funnel_trend_with_time_to_convert(warehouses, engine, by):
    ask = Ask(START, END, by=by, grain="week")
    want = funnel_trend_python(warehouses["duckdb"], ask, BIND_CARD_FUNNEL)
    query = Query(
        metrics=("bind_card_funnel",),
        dimensions=(by,) if by else (),
        grain="week",
        start=START,
        end=END,
        time_to_convert=True,
    )
    got = run_query(CATALOG, query, warehouses[engine]).rows
    assert_rows(got, want, ["week", *([by] if by else []), "step"], f"trend on {engine}")
    total = run_query(CATALOG, Query(metrics=("bind_card_funnel",), start=START, end=END), warehouses[engine]).rows
    if by is None:  # each user is in one entry week: the weeks add up to the funnel
        for row in total:
            assert sum(r["users"] for r in got if r["step"] == row["step"]) == row["users"]


@pytest.mark.parametrize("engine", ENGINES)
def test_retention_average_row_and_weekly_cohorts(warehouses, engine):
    columns, rows = fetch(warehouses["duckdb"], retention_twin(Ask(START, END), BIND_CARD_RETENTION))
    cells = [{c: plain(v) for c, v in zip(columns, row)} for row in rows]
    want = [dict(r, cohort=str(r["cohort"])) for r in cells]
    for period in range(1, BIND_CARD_RETENTION.periods + 1):
        known = [r for r in cells if r["period"] == period and r["retained"] is not None]
        size, back = sum(r["cohort_size"] for r in known), sum(r["retained"] for r in known)
        want.append(
            dict(
                cohort="all",
                period=period,
                cohort_size=size,
                retained=back if known else None,
                rate=back / size if size else None,
            )
        )
    query = Query(metrics=("bind_card_retention",), start=START, end=END, average=True)
    got = run_query(CATALOG, query, warehouses[engine]).rows
    assert_rows(got, want, ["cohort", "period"], f"average on {engine}")
    columns, rows = fetch(warehouses["duckdb"], retention_twin(Ask(START, END, grain="week"), BIND_CARD_RETENTION))
    weekly = [{c: plain(v) for c, v in zip(columns, row)} for row in rows]
    got = run_query(
        CATALOG, Query(metrics=("bind_card_retention",), grain="week", start=START, end=END), warehouses[engine]
    )
    assert_rows(got.rows, weekly, ["cohort", "period"], f"weekly on {engine}")


@pytest.mark.parametrize("engine", ENGINES)
def test_retention_average_rows_per_breakdown_value(warehouses, engine):
    """Weekly cohorts by platform with ``average``: per (platform, period) an ``all`` row summing the known cohorts
    of that platform (ClickHouse makes both kinds of rows in one GROUPING SETS pass; the sums are done here)."""
    ask = Ask(START, END, by="platform", grain="week")
    columns, rows = fetch(warehouses["duckdb"], retention_twin(ask, BIND_CARD_RETENTION))
    cells = [{c: plain(v) for c, v in zip(columns, row)} for row in rows]
    want = [dict(r, cohort=str(r["cohort"])) for r in cells]
    for value, period in sorted({(r["platform"], r["period"]) for r in cells}, key=lambda k: (str(k[0]), k[1])):
        group = [r for r in cells if r["platform"] == value and r["period"] == period]
        known = [r for r in group if r["retained"] is not None]
        size, back = sum(r["cohort_size"] for r in known), sum(r["retained"] for r in known)
        want.append(
            dict(
                cohort="all",
                platform=value,
                period=period,
                cohort_size=size,
                retained=back if known else None,
                rate=back / size if size else None,
            )
        )
    assert any(r["retained"] is None for r in cells) and len({r["platform"] for r in cells}) > 1
    query = Query(
        metrics=("bind_card_retention",), dimensions=("platform",), grain="week", start=START, end=END, average=True
    )
    got = run_query(CATALOG, query, warehouses[engine]).rows
    assert_rows(got, want, ["cohort", "platform", "period"], f"average by platform on {engine}")


# --- paths, by a loop over each user's events --------------------------------------------------------------------


def raw_events(warehouse) -> list[tuple]:
    lo, hi = f"TIMESTAMP '{START} 00:00:00'", f"TIMESTAMP '{END + dt.timedelta(days=1)} 00:00:00'"
    sql = (
        "SELECT user_id, event_time, event_id, event, page, element, is_success, "
        "json_extract_string(properties, '$.campaign_id'), utm_campaign FROM events "
        f"WHERE user_id IS NOT NULL AND event IS NOT NULL AND event_time >= {lo} AND event_time < {hi} "
        "ORDER BY user_id, event_time, event_id"
    )
    return fetch(warehouse, sql)[1]


def node_of(row: tuple, by_page: bool) -> str:
    event, page, element = row[3], row[4], row[5]
    if by_page and event in ("$AppViewScreen", "$pageview") and page is not None:
        return f"page:{page}"
    if by_page and event in ("$AppClick", "$WebClick") and element is not None:
        return f"click:{element}"
    return event


def paths_oracle(rows: list[tuple], anchor: str, steps: int, top: int, by_page: bool, forward: bool) -> dict:
    """Sessions (gap over 30 min), repeats collapsed, one path per session from (to) its first anchor node."""
    paths: list[tuple[str, list[str]]] = []
    by_user: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        by_user[row[0]].append(row)
    for user, events in by_user.items():
        sessions: list[list[tuple[str, bool]]] = []
        previous = None
        for row in events:
            node, is_anchor = node_of(row, by_page), row[3] == anchor
            if previous is None or row[1] - previous[1] > GAP:
                sessions.append([(node, is_anchor)])
            elif node != sessions[-1][-1][0]:
                sessions[-1].append((node, is_anchor))
            elif is_anchor:
                sessions[-1][-1] = (node, True)  # a collapsed repeat still anchors its node
            previous = row
        for session in sessions:
            marks = [i for i, (_, a) in enumerate(session) if a]
            if not marks:
                continue
            nodes = [n for n, _ in session]
            path = (
                nodes[marks[0] : marks[0] + steps]
                if forward
                else nodes[max(0, marks[0] - steps + 1) : marks[0] + 1][::-1]
            )
            paths.append((user, path))
    users_at: dict[tuple[int, str], set] = defaultdict(set)
    for user, path in paths:
        for k, node in enumerate(path, start=1):
            users_at[(k, node)].add(user)
    kept = set()
    for k in range(1, steps + 1):
        ranked = sorted((n for i, n in users_at if i == k), key=lambda n: (-len(users_at[(k, n)]), n))
        kept |= {(k, n) for n in ranked[:top]}
    flows: dict[tuple, set] = defaultdict(set)
    for user, path in paths:
        named = [n if (k, n) in kept else "other" for k, n in enumerate(path, start=1)]
        for k in range(1, steps):
            if k > len(named):
                break
            here, there = named[k - 1], named[k] if k < len(named) else None
            flows[(k, here, there) if forward else (k, there, here)].add(user)
    return {key: len(users) for key, users in flows.items()}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("anchor", "forward", "by_page", "top"),
    [("bind_card", True, True, 6), ("P2P_invest", False, True, 4), ("$AppStart", True, False, 3)],
)
def test_paths_against_a_loop(warehouses, engine, anchor, forward, by_page, top):
    want = paths_oracle(raw_events(warehouses["duckdb"]), anchor, 4, top, by_page, forward)
    options = {"start" if forward else "end": anchor}
    spec = adhoc_path(CATALOG, steps=4, by_page=by_page, top=top, **options)
    got = {
        (r["step"], r["source"], r["target"]): r["users"]
        for r in run_paths(CATALOG, spec, warehouses[engine], start=START, end=END)
    }
    assert want and got == want


# --- attribution, by a loop over conversions and touches --------------------------------------------------------


def attribution_oracle(warehouse, model: str, window: dt.timedelta, half_life: float) -> dict:
    lo = dt.datetime.combine(START, dt.time()) - window
    hi = dt.datetime.combine(END + dt.timedelta(days=1), dt.time())
    sql = (
        "SELECT user_id, event_time, event_id, event, is_success, json_extract_string(properties, '$.campaign_id'), "
        f"utm_campaign FROM events WHERE user_id IS NOT NULL AND event_time >= TIMESTAMP '{lo}' "
        f"AND event_time < TIMESTAMP '{hi}' ORDER BY user_id, event_time, event_id"
    )
    touches: dict[str, list[tuple]] = defaultdict(list)
    conversions = []
    for user, time, event_id, event, ok, campaign, utm in fetch(warehouse, sql)[1]:
        if event == "P2P_invest" and ok and time >= dt.datetime.combine(START, dt.time()):
            conversions.append((user, time, event_id))
        if event == "push_click" and campaign is not None:
            touches[user].append((time, event_id, f"push_click:{campaign}"))
        elif event == "$AppViewScreen" and utm is not None:
            touches[user].append((time, event_id, f"$AppViewScreen:{utm}"))
    credit: dict[Any, float] = defaultdict(float)
    credited: dict[Any, int] = defaultdict(int)
    for user, time, event_id in conversions:
        inside = [t for t in touches[user] if time - window <= t[0] <= time and t[1] != event_id]
        if not inside:
            credit[None] += 1
            credited[None] += 1
            continue
        if model == "first":
            weights = [1.0 if t[0] == min(x[0] for x in inside) else 0.0 for t in inside]
        elif model == "last":
            weights = [1.0 if t[0] == max(x[0] for x in inside) else 0.0 for t in inside]
        elif model == "linear":
            weights = [1.0] * len(inside)
        else:
            weights = [2 ** (-(time - t[0]).total_seconds() / half_life) for t in inside]
        got: dict[str, float] = defaultdict(float)
        for touch, weight in zip(inside, weights):
            got[touch[2]] += weight / sum(weights)
        for touch, share in got.items():
            if share > 0:
                credit[touch] += share
                credited[touch] += 1
    total = len(conversions)
    return {t: (credited[t], credit[t], credit[t] / total) for t in credit}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("model", ["first", "last", "linear", "time_decay"])
def test_attribution_against_a_loop(warehouses, engine, model):
    want = attribution_oracle(warehouses["duckdb"], model, dt.timedelta(days=14), 3 * 86400.0)
    spec = attribution_spec(
        CATALOG,
        conversion="invest_users",
        touches=["push_click:campaign_id", "$AppViewScreen:utm_campaign"],
        window="14d",
        model=model,
        half_life="3d" if model == "time_decay" else None,
    )
    rows = run_attribution(CATALOG, spec, warehouses[engine], start=START, end=END)
    got = {r["touch"]: (r["conversions"], r["credit"], r["credit_share"]) for r in rows}
    assert len(want) > 2 and got.keys() == want.keys()
    for touch, (conversions, credit, share) in want.items():
        assert got[touch][0] == conversions and same(got[touch][1], credit) and same(got[touch][2], share), touch
