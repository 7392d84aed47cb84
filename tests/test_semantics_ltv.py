"""LTV (cumulative value per cohort) by hand on DuckDB, PostgreSQL and chdb.

``invest_value``: cohort register (first ever), value successful P2P_invest amounts, period day, 3 periods.
Range 2026-03-02..03-03; the data's last event is Z's at 03-06 12:00, so period N of cohort C is known when
C + N + 1 days <= 03-06 12:00.
  L1 register 03-02 10:00; invests 03-02 09:00 999 (before the cohort event: not counted), 03-02 11:00 100 (N0),
     03-03 50 (N1), a failed 500 on 03-03 (not counted), 03-05 25 (N3)
  L2 register 03-02 20:00; invest 03-04 200 (N2)
  L3 register 03-03 08:00; never invests
  L4 register 02-28: no cohort in the range
Cohort 03-02 {L1, L2}: cumulative 100, 150, 350, 375 (per user 50, 75, 175, 187.5), all known (N3 ends 03-06 00:00).
Cohort 03-03 {L3}: 0, 0, 0 known; N3 ends 03-07: NULL.
By week (the query's grain): one cohort 03-02 {L1, L2, L3}; even N0 (to 03-09) has not elapsed: NULL, never partial.
"""

from __future__ import annotations

from datetime import date

import pytest

from semantic import Drill, Query, run_query, users_behind
from tests.catalog_helpers import catalog_with
from tests.warehouse_fixtures import ENGINES, engine_warehouse

YAML = """
metrics:
  - name: invest_value
    type: ltv
    cohort: {event: register}
    value: {event: P2P_invest, filter: is_success, amount: amount}
    period: day
    periods: 3
    label: {zh: 累计投资, en: Cumulative investment}
    format: cny
    business_line: p2p
"""


def ev(user, time, event, ok=None, amount=None, platform="iOS"):
    return dict(user_id=user, event_time=time, event=event, is_success=ok, amount=amount, platform=platform)


EVENTS = [
    ev("L1", "2026-03-02 09:00:00", "P2P_invest", True, 999.0),
    ev("L1", "2026-03-02 10:00:00", "register"),
    ev("L1", "2026-03-02 11:00:00", "P2P_invest", True, 100.0),
    ev("L1", "2026-03-03 11:00:00", "P2P_invest", True, 50.0),
    ev("L1", "2026-03-03 12:00:00", "P2P_invest", False, 500.0),
    ev("L1", "2026-03-05 11:00:00", "P2P_invest", True, 25.0),
    ev("L2", "2026-03-02 20:00:00", "register", platform="Android"),
    ev("L2", "2026-03-04 09:00:00", "P2P_invest", True, 200.0),
    ev("L3", "2026-03-03 08:00:00", "register"),
    ev("L4", "2026-02-28 08:00:00", "register"),
    ev("L4", "2026-03-02 08:00:00", "P2P_invest", True, 70.0),
    ev("Z", "2026-03-06 12:00:00", "$AppStart"),
]
RANGE = dict(start=date(2026, 3, 2), end=date(2026, 3, 3))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    return catalog_with(tmp_path_factory.mktemp("ltv"), YAML)


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    with engine_warehouse(request, tmp_path_factory.mktemp("ltv_wh"), EVENTS, []) as opened:
        yield opened


def cells(catalog, warehouse, **options):
    rows = run_query(catalog, Query(metrics=("invest_value",), **RANGE, **options), warehouse).rows
    return {(r["cohort"], r["period"]): (r["cohort_size"], r["amount"], r["amount_per_user"]) for r in rows}


def test_cumulative_amounts_per_cohort_and_period(catalog, warehouse):
    got = cells(catalog, warehouse)
    assert [got[("2026-03-02", n)] for n in range(4)] == [
        (2, 100.0, 50.0),
        (2, 150.0, 75.0),
        (2, 350.0, 175.0),
        (2, 375.0, 187.5),
    ]
    assert [got[("2026-03-03", n)] for n in range(4)] == [(1, 0.0, 0.0), (1, 0.0, 0.0), (1, 0.0, 0.0), (1, None, None)]
    assert len(got) == 8


def test_a_period_not_yet_elapsed_is_null_not_partial(catalog, warehouse):
    weekly = cells(catalog, warehouse, grain="week")
    assert weekly[("2026-03-02", 0)] == (3, None, None)
    assert {c for c, _ in weekly} == {"2026-03-02"}


def test_a_breakdown_by_the_cohort_event(catalog, warehouse):
    rows = run_query(catalog, Query(metrics=("invest_value",), dimensions=("platform",), **RANGE), warehouse).rows
    got = {(r["cohort"], r["platform"], r["period"]): r["amount"] for r in rows}
    assert got[("2026-03-02", "iOS", 3)] == 175.0 and got[("2026-03-02", "Android", 3)] == 200.0


def test_users_behind_a_cell_carry_their_own_amount(catalog, warehouse):
    query = Query(metrics=("invest_value",), **RANGE)
    listed = users_behind(catalog, query, Drill(cohort="2026-03-02", period=1), warehouse)
    assert [(r["user_id"], r["amount"]) for r in listed.rows] == [("L1", 150.0), ("L2", 0.0)]
    later = users_behind(catalog, query, Drill(cohort="2026-03-03", period=3), warehouse)
    assert [(r["user_id"], r["amount"]) for r in later.rows] == [("L3", None)]
    assert listed.total == 2
