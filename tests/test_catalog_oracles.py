"""Every catalog metric, compiled by finlens, against its hand-written twin in ``tests/oracle_sql.py``.

One demo warehouse (a real DuckDB file) is generated once per session. For
each metric of ``load_catalog()`` (so a metric added to the YAML is covered
without touching this file) the compiled answer must equal the oracle's for:
the total over a range, a breakdown by ``platform``, a breakdown by the joined
user dimension ``register_channel``, day and week grains (funnels and
retentions must refuse a grain), and the ``platform = 'iOS'`` filter where the
spec defines filters. A metric with no oracle fails; it is never skipped.

The oracles themselves are checked first against numbers worked out by hand
on two tiny warehouses (session gaps of exactly 1800 s and 1801 s, funnel
ties and the inclusive window, retention periods not yet elapsed).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors import connect
from finlens_common.errors import QueryError
from ingest.demo import generate_demo
from semantic import Query, load_catalog, run_query
from tests.oracle_sql import CORE, CORE_FILE, Ask, Oracles, fetch, plain
from tests.warehouse_fixtures import make_warehouse

CATALOG = load_catalog()
ORACLES = Oracles(CATALOG.root)
NAMES = sorted(CATALOG.metrics)
KIND = {name: metric.type for name, metric in CATALOG.metrics.items()}
FILTERABLE = [
    n for n in NAMES if KIND[n] in ("aggregate", "ratio", "derived", "session", "funnel", "interval", "stickiness")
]
INTERVAL_STATS = ["users", "intervals", "mean_seconds", "p10_seconds", "p25_seconds", "p50_seconds"]
INTERVAL_STATS += ["p75_seconds", "p90_seconds"]
FUNNELS = [n for n in NAMES if KIND[n] == "funnel"]

# The demo: DEMO_USERS people over DEMO_DAYS days ending DATA_END (about 340k events, ~5 s to generate).
DEMO_USERS, DEMO_DAYS, DEMO_SEED, DATA_END = 12_000, 60, 11, date(2026, 3, 31)
# A range inside the data: people seen before it are not new, funnels finish after it, late cohorts are unknown.
START, END = date(2026, 2, 10), date(2026, 3, 24)
REL = 1e-9


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory):
    url = "duckdb:///" + str(tmp_path_factory.mktemp("catalog_oracles") / "demo.duckdb")
    with connect(url, read_only=False) as warehouse:
        summary = generate_demo(warehouse, users=DEMO_USERS, days=DEMO_DAYS, seed=DEMO_SEED, end=DATA_END)
    assert summary.events > 100_000
    with connect(url) as warehouse:
        yield warehouse


# --- comparing rows ----------------------------------------------------------------------------------------------


def key_columns(name: str, ask: Ask) -> list[str]:
    by = [ask.by] if ask.by else []
    if KIND[name] == "funnel":
        return [*([ask.grain] if ask.grain else []), *by, "step"]
    if KIND[name] in ("retention", "ltv"):
        return ["cohort", *by, "period"]
    if KIND[name] == "stickiness":
        return [ask.grain or CATALOG.metrics[name].period, *by, "active_days"]
    return [c for c in (ask.grain, ask.by) if c]


def value_columns(name: str) -> list[str]:
    if KIND[name] == "funnel":
        return ["step_name", "users", "conversion_from_previous", "conversion_from_first", "median_seconds_to_convert"]
    if KIND[name] == "retention":
        return ["cohort_size", "retained", "rate"]
    if KIND[name] == "ltv":
        return ["cohort_size", "amount", "amount_per_user"]
    if KIND[name] == "stickiness":
        return ["users"]
    if KIND[name] == "interval":
        return INTERVAL_STATS
    return [name]


def expected_columns(name: str, ask: Ask) -> list[str]:
    if KIND[name] in ("funnel", "retention", "ltv", "stickiness", "interval"):
        return [*key_columns(name, ask), *value_columns(name)]
    return [*([ask.grain] if ask.grain else []), *([ask.by] if ask.by else []), name]


def index(rows: list[dict[str, Any]], keys: list[str], side: str) -> dict[tuple, dict[str, Any]]:
    indexed: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        assert key not in indexed, f"{side}: two rows for {dict(zip(keys, key))}"
        indexed[key] = row
    return indexed


def same(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if isinstance(got, float) or isinstance(want, float):
        return got == pytest.approx(want, rel=REL)
    return got == want


def assert_same_rows(name: str, ask: Ask, got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    """Equal row for row; for aggregate metrics a group may be missing on one side only if its value is 0 or NULL."""
    keys, values = key_columns(name, ask), value_columns(name)
    got_rows, want_rows = index(got, keys, "finlens"), index(want, keys, "oracle")
    assert want_rows, f"{name}: the oracle found no rows for {ask}; the demo data should exercise every metric"
    optional = KIND[name] not in ("funnel", "retention", "ltv", "interval")
    problems = []
    for key in sorted(set(got_rows) | set(want_rows), key=repr):
        g, w = got_rows.get(key), want_rows.get(key)
        where = dict(zip(keys, key))
        if g is None or w is None:
            present = g if g is not None else w
            if not (optional and all(present[v] in (0, None) for v in values)):
                problems.append(f"{where}: finlens {g}, oracle {w}")
            continue
        for column in values:
            if not same(g[column], w[column]):
                problems.append(f"{where} {column}: finlens {g[column]!r}, oracle {w[column]!r}")
    assert not problems, f"{name} {ask}: {len(problems)} difference(s):\n  " + "\n  ".join(problems[:20])


def check(warehouse, name: str, ask: Ask, where: str | None = None) -> None:
    query = Query(
        metrics=(name,),
        dimensions=(ask.by,) if ask.by else (),
        grain=ask.grain,
        start=ask.start,
        end=ask.end,
        where=where,
    )
    result = run_query(CATALOG, query, warehouse)
    assert result.columns == expected_columns(name, ask)
    assert_same_rows(name, ask, result.rows, ORACLES.rows(warehouse, name, ask))


# --- coverage -------------------------------------------------------------------------------------------------------


def test_every_metric_has_an_oracle():
    assert set(ORACLES.names()) == set(CATALOG.metrics), "the YAML the oracles read differs from the loaded catalog"
    core = [n for n in NAMES if ORACLES.spec(n)[0] == CORE_FILE]
    assert {"pv", "uv", "sessions", "bind_card_funnel", "bind_card_retention"} <= set(core)
    missing = [n for n in core if n not in CORE]
    assert not missing, f"core metrics without a hand-written oracle in tests/oracle_sql.py: {missing}"
    for name in NAMES:  # raises NoOracle (a failure, not a skip) for a type no oracle knows
        ORACLES.twin_sql(name, Ask(START, END))


# --- every metric against its oracle on the demo ----------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_total(demo_warehouse, name):
    ask = Ask(START, END)
    check(demo_warehouse, name, ask)
    values = [
        row[v] for row in ORACLES.rows(demo_warehouse, name, ask) for v in value_columns(name) if v != "step_name"
    ]
    assert any(v not in (0, None) for v in values), (
        f"{name}: 0 or NULL over {START}..{END}; the demo data does not exercise it"
    )


@pytest.mark.parametrize("name", NAMES)
def test_by_platform(demo_warehouse, name):
    check(demo_warehouse, name, Ask(START, END, by="platform"))


@pytest.mark.parametrize("name", NAMES)
def test_by_joined_user_dimension(demo_warehouse, name):
    check(demo_warehouse, name, Ask(START, END, by="register_channel"))


@pytest.mark.parametrize("grain", ["day", "week"])
@pytest.mark.parametrize("name", NAMES)
def test_grain(demo_warehouse, name, grain):
    """A funnel by entry period, a retention or ltv by the grain's cohort period; stickiness has no day."""
    if KIND[name] == "stickiness" and grain == "day":
        with pytest.raises(QueryError):
            run_query(CATALOG, Query(metrics=(name,), grain=grain, start=START, end=END), demo_warehouse)
        return
    check(demo_warehouse, name, Ask(START, END, grain=grain))


@pytest.mark.parametrize("name", FILTERABLE)
def test_filtered_by_platform(demo_warehouse, name):
    check(demo_warehouse, name, Ask(START, END, by="channel", where="e.platform = 'iOS'"), where="platform = 'iOS'")


@pytest.mark.parametrize("grain", ["hour", "day", "week", "month", "quarter", "year"])
@pytest.mark.parametrize("name", ["pv", "uv", "sessions", "new_users", "error_rate", "deposit_amount"])
def test_every_grain(demo_warehouse, name, grain):
    check(demo_warehouse, name, Ask(date(2026, 2, 1), DATA_END, grain=grain))


@pytest.mark.parametrize("by", [None, "platform", "register_channel"])
@pytest.mark.parametrize("name", FUNNELS)
def test_funnel_twin_sql_matches_python_oracle(demo_warehouse, name, by):
    """The SQL twin the benchmark times (ASOF joins) agrees with the Python loop."""
    ask = Ask(START, END, by=by)
    columns, rows = fetch(demo_warehouse, ORACLES.twin_sql(name, ask))
    assert columns == expected_columns(name, ask)
    twin = [{c: plain(v) for c, v in zip(columns, row)} for row in rows]
    assert_same_rows(name, ask, twin, ORACLES.rows(demo_warehouse, name, ask))


# --- the oracles on tiny cases worked out by hand ----------------------------------------------------------------

SESSION_EVENTS = [
    dict(event_id="a1", event_time="2026-03-01 10:00:00", event="$AppViewScreen", user_id="A", platform="iOS"),
    dict(
        event_id="a2", event_time="2026-03-01 10:30:00", event="$AppViewScreen", user_id="A", platform="iOS"
    ),  # +1800 s: same
    dict(
        event_id="a3", event_time="2026-03-01 11:00:01", event="$AppViewScreen", user_id="A", platform="iOS"
    ),  # +1801 s: new
    dict(event_id="a4", event_time="2026-03-01 11:00:01", event="$AppClick", user_id="A", platform="iOS"),
    dict(event_id="b1", event_time="2026-03-01 23:50:00", event="$AppViewScreen", user_id="B", platform="Android"),
    dict(event_id="b2", event_time="2026-03-02 00:10:00", event="$AppStart", user_id="B", platform="Android"),
    dict(event_id="n1", event_time="2026-03-02 08:00:00", event="$pageview", user_id=None, platform="Web"),
    dict(event_id="t2", event_time="2026-03-02 08:00:00", event="login", user_id="T", platform="iOS"),
    dict(event_id="t1", event_time="2026-03-02 08:00:00", event="$pageview", user_id="T", platform="Web"),
    dict(event_id="v1", event_time="2026-02-27 10:00:00", event="$pageview", user_id="V", platform="Web"),
    dict(event_id="v2", event_time="2026-03-02 10:00:00", event="login", user_id="V", platform="Web"),
]
# Sessions in 03-01..03-02: A 10:00-10:30 (2 views, 1800 s), A 11:00:01 (1 view + click, 0 s),
# B 23:50-00:10 (1 view, 1200 s, bounce, day 03-01), T 08:00 (1 view, 0 s, bounce; Web: t1 sorts first),
# V 10:00 (login only, 0 s; its 02-27 view is outside the range).

FUNNEL_EVENTS = [
    dict(event_id="u1a", event_time="2026-03-01 10:00:00", event="register", user_id="U1", platform="iOS"),
    dict(event_id="u1b", event_time="2026-03-01 10:05:00", event="realname_auth", is_success=True, user_id="U1"),
    dict(
        event_id="u1c", event_time="2026-03-08 10:00:00", event="bind_card", is_success=True, user_id="U1"
    ),  # exactly 7 days
    dict(event_id="u1d", event_time="2026-03-09 08:00:00", event="$AppStart", user_id="U1"),
    dict(event_id="u2c", event_time="2026-03-02 12:00:00", event="register", user_id="U2", platform="Android"),
    dict(event_id="u2b", event_time="2026-03-02 12:00:00", event="realname_auth", is_success=True, user_id="U2"),
    dict(event_id="u2a", event_time="2026-03-02 12:00:00", event="bind_card", is_success=True, user_id="U2"),
    dict(event_id="u2d", event_time="2026-03-03 08:00:00", event="$AppStart", user_id="U2"),
    dict(event_id="u2e", event_time="2026-03-05 08:00:00", event="$AppStart", user_id="U2"),
    dict(event_id="u3a", event_time="2026-03-01 00:00:00", event="register", user_id="U3", platform="iOS"),
    dict(event_id="u3b", event_time="2026-03-01 01:00:00", event="realname_auth", is_success=True, user_id="U3"),
    dict(
        event_id="u3c", event_time="2026-03-08 00:00:01", event="bind_card", is_success=True, user_id="U3"
    ),  # 7 days + 1 s
    dict(event_id="u4a", event_time="2026-03-01 09:00:00", event="register", user_id="U4", platform="Web"),
    dict(event_id="u4b", event_time="2026-03-01 10:00:00", event="realname_auth", is_success=True, user_id="U4"),
    dict(event_id="u4c", event_time="2026-03-09 09:00:00", event="register", user_id="U4", platform="iOS"),
    dict(event_id="u4d", event_time="2026-03-09 09:30:00", event="realname_auth", is_success=True, user_id="U4"),
    dict(event_id="u4e", event_time="2026-03-09 10:00:00", event="bind_card", is_success=True, user_id="U4"),
    dict(event_id="u5a", event_time="2026-03-10 23:00:00", event="register", user_id="U5", platform="iOS"),
    dict(event_id="u5b", event_time="2026-03-11 01:00:00", event="realname_auth", is_success=True, user_id="U5"),
    dict(event_id="u6a", event_time="2026-03-03 10:00:00", event="register", user_id="U6", platform="iOS"),
    dict(event_id="u6b", event_time="2026-03-03 10:01:00", event="realname_auth", is_success=False, user_id="U6"),
    dict(event_id="z1", event_time="2026-03-12 12:00:00", event="$AppViewScreen", user_id="Z"),  # the data's last event
]
# bind_card_funnel over 03-01..03-10, deepest step and step gaps (s):
#   U1 3 (300, 604500)   U2 3 (0, 0: same second, ids reversed)   U3 2 (3600; bind 1 s late)
#   U4 3 from its second start (1800, 1800), grouped under its first start (Web)   U5 2 (7200; after the range)
#   U6 1 (failed realname)
# bind_card_retention cohorts: 03-02 {U2}, 03-08 {U1, U3}, 03-09 {U4}; $AppStart U1 03-09, U2 03-03 and 03-05;
# the last event 03-12 12:00 makes period N of cohort c known when c + N + 1 day <= 03-12 12:00.


@pytest.fixture(scope="module")
def session_warehouse(tmp_path_factory):
    url = make_warehouse(tmp_path_factory.mktemp("oracle_sessions") / "tiny.duckdb", SESSION_EVENTS)
    with connect(url) as warehouse:
        yield warehouse


@pytest.fixture(scope="module")
def funnel_warehouse(tmp_path_factory):
    url = make_warehouse(tmp_path_factory.mktemp("oracle_funnel") / "tiny.duckdb", FUNNEL_EVENTS)
    with connect(url) as warehouse:
        yield warehouse


def oracle(warehouse, name: str, ask: Ask) -> dict[Any, dict[str, Any]]:
    keys = key_columns(name, ask)
    return {tuple(r[k] for k in keys) if len(keys) != 1 else r[keys[0]]: r for r in ORACLES.rows(warehouse, name, ask)}


def test_session_oracles_by_hand(session_warehouse):
    march = Ask(date(2026, 3, 1), date(2026, 3, 2))
    values = {
        n: oracle(session_warehouse, n, march)[()][n]
        for n in ("sessions", "avg_session_duration", "avg_visit_depth", "bounce_rate", "pv", "uv")
    }
    assert values == {
        "sessions": 5,
        "avg_session_duration": 600.0,
        "avg_visit_depth": 1.25,
        "bounce_rate": 0.5,
        "pv": 6,
        "uv": 4,
    }
    by_platform = oracle(session_warehouse, "sessions", Ask(march.start, march.end, by="platform"))
    assert {k: r["sessions"] for k, r in by_platform.items()} == {"iOS": 2, "Android": 1, "Web": 2}
    bounce = oracle(session_warehouse, "bounce_rate", Ask(march.start, march.end, by="platform"))
    assert {k: r["bounce_rate"] for k, r in bounce.items()} == {"iOS": 0.0, "Android": 1.0, "Web": 1.0}
    duration = oracle(session_warehouse, "avg_session_duration", Ask(march.start, march.end, by="platform"))
    assert {k: r["avg_session_duration"] for k, r in duration.items()} == {"iOS": 900.0, "Android": 1200.0, "Web": 0.0}
    by_day = oracle(session_warehouse, "sessions", Ask(march.start, march.end, grain="day"))
    assert {k: r["sessions"] for k, r in by_day.items()} == {"2026-03-01": 3, "2026-03-02": 2}
    ios_only = oracle(session_warehouse, "sessions", Ask(march.start, march.end, where="e.platform = 'iOS'"))
    assert ios_only[()]["sessions"] == 3  # A's two sessions and T's login alone
    new = oracle(session_warehouse, "new_users", Ask(march.start, march.end, by="platform"))
    assert {k: r["new_users"] for k, r in new.items()} == {"iOS": 1, "Android": 1, "Web": 1}  # V is not new; T under t1


def same_rows(got: list[tuple], want: list[tuple]) -> bool:
    """Row by row, each value equal within approx (pytest.approx compares flat sequences only)."""
    return len(got) == len(want) and all(g == pytest.approx(w) for g, w in zip(got, want))


def test_funnel_oracles_by_hand(funnel_warehouse):
    ask = Ask(date(2026, 3, 1), date(2026, 3, 10))
    by_platform = Ask(ask.start, ask.end, by="platform")
    expected_total = [
        (1, 6, 1.0, 1.0, None),
        (2, 5, 5 / 6, 5 / 6, 1800.0),
        (3, 3, 3 / 5, 3 / 6, 1800.0),
    ]
    expected_ios = [(1, 4, 1.0, 1.0, None), (2, 3, 3 / 4, 3 / 4, 3600.0), (3, 1, 1 / 3, 1 / 4, 604500.0)]
    columns, rows = fetch(funnel_warehouse, ORACLES.twin_sql("bind_card_funnel", ask))
    twin = [dict(zip(columns, r)) for r in rows]
    columns, rows = fetch(funnel_warehouse, ORACLES.twin_sql("bind_card_funnel", by_platform))
    twin_by = [dict(zip(columns, r)) for r in rows]
    for total, grouped in (
        (
            ORACLES.rows(funnel_warehouse, "bind_card_funnel", ask),
            ORACLES.rows(funnel_warehouse, "bind_card_funnel", by_platform),
        ),
        (twin, twin_by),
    ):
        shape = [
            (
                r["step"],
                r["users"],
                r["conversion_from_previous"],
                r["conversion_from_first"],
                r["median_seconds_to_convert"],
            )
            for r in sorted(total, key=lambda r: r["step"])
        ]
        assert same_rows(shape, expected_total)
        ios = [
            (
                r["step"],
                r["users"],
                r["conversion_from_previous"],
                r["conversion_from_first"],
                r["median_seconds_to_convert"],
            )
            for r in sorted(grouped, key=lambda r: r["step"])
            if r["platform"] == "iOS"
        ]
        assert same_rows(ios, expected_ios)
        web = {r["step"]: (r["users"], r["median_seconds_to_convert"]) for r in grouped if r["platform"] == "Web"}
        assert web == {1: (1, None), 2: (1, 1800.0), 3: (1, 1800.0)}
        android = {
            r["step"]: (r["users"], r["median_seconds_to_convert"]) for r in grouped if r["platform"] == "Android"
        }
        assert android == {1: (1, None), 2: (1, 0.0), 3: (1, 0.0)}


def test_retention_oracle_by_hand(funnel_warehouse):
    grid = oracle(funnel_warehouse, "bind_card_retention", Ask(date(2026, 3, 1), date(2026, 3, 10)))
    assert len(grid) == 3 * 30
    cell = {k: (r["cohort_size"], r["retained"], r["rate"]) for k, r in grid.items()}
    assert cell[("2026-03-02", 1)] == (1, 1, 1.0)
    assert cell[("2026-03-02", 2)] == (1, 0, 0.0)
    assert cell[("2026-03-02", 3)] == (1, 1, 1.0)
    assert cell[("2026-03-02", 9)] == (1, 0, 0.0)  # 03-11 ends 03-12 00:00, before the last event
    assert cell[("2026-03-02", 10)] == (1, None, None)  # 03-12 ends after it
    assert cell[("2026-03-08", 1)] == (2, 1, 0.5)
    assert cell[("2026-03-08", 3)] == (2, 0, 0.0)
    assert cell[("2026-03-08", 4)] == (2, None, None)
    assert cell[("2026-03-09", 2)] == (1, 0, 0.0)
    assert cell[("2026-03-09", 3)] == (1, None, None)
