"""Retention variants by hand: exact vs unbounded (on or after), the period chosen at query time, and the
average row weighted by cohort size, on DuckDB, PostgreSQL and chdb.

Two retentions with cohort ``register`` and return ``login`` over 14 daily periods, one exact, one on_or_after.
Range 2026-03-02..03-04. The data's last event is Z's at 03-16 12:00, so day N of cohort C is known when
C + N + 1 days <= 03-16 12:00: cohort 03-02 for N <= 13, cohort 03-04 for N <= 11.
  A  register 03-02 09:00; login 03-03 (N1), 03-06 (N4), 03-12 (N10)
  B  register 03-02 20:00; login 03-05 (N3)
  C  register 03-04 10:00; login 03-04 12:00 (N0: never counted), 03-09 08:00 (N5)
  D  register 03-01 (before the range): no cohort
Exact, cohort 03-02 {A, B}: N1 1, N2 0, N3 1, N4 1, N10 1, N11..13 0, N14 NULL;
       cohort 03-04 {C}:    N5 1, other N <= 11 0, N12..14 NULL.
On or after (the latest return is at least N): cohort 03-02: A's latest N10, B's N3 → N1..3 2, N4..10 1,
       N11..13 0, N14 NULL; cohort 03-04: C's latest N5 → N1..5 1, N6..11 0, N12..14 NULL.
Average (exact) over the cohorts whose N is known: N1 3 users, 1 (A); N5 3, 1 (C); N12 only 03-02: 2, 0;
       N14 none: 0 users, NULL.
By week (the query's grain): one cohort 03-02 {A, B, C}; week 1 = 03-09..03-15: A (03-12) and C (03-09) → 2 of 3,
       known (ends 03-16 00:00); week 2 NULL. On or after: the same 2 (nobody returns after week 1).
"""

from __future__ import annotations

from datetime import date

import pytest

from semantic import Drill, Query, run_query, users_behind
from tests.catalog_helpers import catalog_with
from tests.warehouse_fixtures import ENGINES, engine_warehouse

YAML = """
metrics:
  - name: login_retention
    type: retention
    cohort: {event: register}
    return: {event: login}
    period: day
    periods: 14
    label: {zh: 登录留存, en: Login retention}
    format: percent
    business_line: platform
  - name: login_retention_unbounded
    type: retention
    cohort: {event: register}
    return: {event: login}
    period: day
    periods: 14
    mode: on_or_after
    label: {zh: 登录留存（当日或之后）, en: Login retention (on or after)}
    format: percent
    business_line: platform
"""


def ev(user, time, event):
    return dict(user_id=user, event_time=time, event=event, platform="iOS")


EVENTS = [
    ev("A", "2026-03-02 09:00:00", "register"),
    ev("A", "2026-03-03 09:00:00", "login"),
    ev("A", "2026-03-06 09:00:00", "login"),
    ev("A", "2026-03-12 09:00:00", "login"),
    ev("B", "2026-03-02 20:00:00", "register"),
    ev("B", "2026-03-05 09:00:00", "login"),
    ev("C", "2026-03-04 10:00:00", "register"),
    ev("C", "2026-03-04 12:00:00", "login"),
    ev("C", "2026-03-09 08:00:00", "login"),
    ev("D", "2026-03-01 10:00:00", "register"),
    ev("D", "2026-03-03 10:00:00", "login"),
    ev("Z", "2026-03-16 12:00:00", "$AppStart"),
]
RANGE = dict(start=date(2026, 3, 2), end=date(2026, 3, 4))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    return catalog_with(tmp_path_factory.mktemp("retention_modes"), YAML)


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    with engine_warehouse(request, tmp_path_factory.mktemp("retention_modes_wh"), EVENTS, []) as opened:
        yield opened


def grid(catalog, warehouse, name, **options):
    got = run_query(catalog, Query(metrics=(name,), **RANGE, **options), warehouse).rows
    return {(r["cohort"], r["period"]): (r["cohort_size"], r["retained"], r["rate"]) for r in got}


def retained(table, cohort, periods):
    return [table[(cohort, n)][1] for n in periods]


def test_exact_and_unbounded_differ_as_worked_out(catalog, warehouse):
    exact = grid(catalog, warehouse, "login_retention")
    assert retained(exact, "2026-03-02", range(1, 15)) == [1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, None]
    assert retained(exact, "2026-03-04", range(1, 15)) == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, None, None, None]
    unbounded = grid(catalog, warehouse, "login_retention_unbounded")
    assert retained(unbounded, "2026-03-02", range(1, 15)) == [2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, None]
    assert retained(unbounded, "2026-03-04", range(1, 15)) == [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, None, None, None]
    assert unbounded[("2026-03-02", 4)] == (2, 1, 0.5)
    # unbounded retention never rises with N, exact may
    known = [unbounded[("2026-03-02", n)][1] for n in range(1, 14)]
    assert known == sorted(known, reverse=True)


def test_the_average_row_weights_the_known_cohorts_by_size(catalog, warehouse):
    table = grid(catalog, warehouse, "login_retention", average=True)
    assert table[("all", 1)] == (3, 1, pytest.approx(1 / 3))
    assert table[("all", 5)] == (3, 1, pytest.approx(1 / 3))
    assert table[("all", 12)] == (2, 0, 0.0)
    assert table[("all", 14)] == (0, None, None)
    assert table[("2026-03-02", 1)] == (2, 1, 0.5)  # the cohorts' own rows are unchanged, the cohort as text
    assert len(table) == 3 * 14


def test_the_query_grain_sets_the_cohort_period(catalog, warehouse):
    weekly = grid(catalog, warehouse, "login_retention", grain="week")
    assert weekly[("2026-03-02", 1)] == (3, 2, pytest.approx(2 / 3))
    assert weekly[("2026-03-02", 2)] == (3, None, None)
    assert {c for c, _ in weekly} == {"2026-03-02"} and len(weekly) == 14
    assert grid(catalog, warehouse, "login_retention_unbounded", grain="week")[("2026-03-02", 1)][1] == 2
    monthly = grid(catalog, warehouse, "login_retention", grain="month")
    assert monthly[("2026-03-01", 1)] == (3, None, None)  # April has not elapsed


def test_drills_match_the_cells(catalog, warehouse):
    def ids(name, drill, **options):
        query = Query(metrics=(name,), **RANGE, **options)
        return sorted(r["user_id"] for r in users_behind(catalog, query, drill, warehouse).rows)

    assert ids("login_retention_unbounded", Drill(cohort="2026-03-02", period=4, retained=True)) == ["A"]
    assert ids("login_retention_unbounded", Drill(cohort="2026-03-02", period=2, retained=True)) == ["A", "B"]
    assert ids("login_retention", Drill(cohort="2026-03-02", period=2, retained=True)) == []
    assert ids("login_retention", Drill(cohort="all", period=12)) == ["A", "B"]  # cohort 03-04's N12 is unknown
    assert ids("login_retention", Drill(cohort="all", period=5, retained=True)) == ["C"]
    assert ids("login_retention", Drill(cohort="2026-03-02", period=1, retained=True), grain="week") == ["A", "C"]
