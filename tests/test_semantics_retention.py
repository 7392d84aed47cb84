"""bind_card_retention (cohort: first successful bind_card, by day; return: $AppStart) by hand.

Range 2026-03-01..2026-03-02. The data's last event is 2026-03-05 12:00:00, so a daily
period N of cohort day C is known only when C + N + 1 days <= that instant.
  R1 bind 03-01 10:00; starts 03-02 (N=1), 03-04 (N=3), 03-05 12:00 (N=4, not yet known)
  R2 bind 03-01 20:00; starts 03-01 21:00 (N=0, not counted), 03-03 (N=2)
  R3 failed bind 02-28, bind 03-02 10:00; starts 03-03 (N=1)
  R4 first bind 02-27 (before the range), again 03-02: not in any cohort
  R5 never binds; starts every day: never counted
"""

from __future__ import annotations

from datetime import date

import pytest

from connectors import connect
from semantic import Query, run_query
from tests.warehouse_fixtures import make_warehouse


def ev(user, time, event, ok=None, platform="iOS"):
    return dict(user_id=user, event_time=time, event=event, is_success=ok, platform=platform)


EVENTS = [
    ev("R1", "2026-03-01 10:00:00", "bind_card", True, "iOS"),
    ev("R1", "2026-03-02 09:00:00", "$AppStart"),
    ev("R1", "2026-03-04 09:00:00", "$AppStart"),
    ev("R1", "2026-03-05 12:00:00", "$AppStart"),
    ev("R2", "2026-03-01 20:00:00", "bind_card", True, "Android"),
    ev("R2", "2026-03-01 21:00:00", "$AppStart"),
    ev("R2", "2026-03-03 08:00:00", "$AppStart"),
    ev("R3", "2026-02-28 10:00:00", "bind_card", False),
    ev("R3", "2026-03-02 10:00:00", "bind_card", True, "iOS"),
    ev("R3", "2026-03-03 10:00:00", "$AppStart"),
    ev("R4", "2026-02-27 10:00:00", "bind_card", True),
    ev("R4", "2026-03-02 10:00:00", "bind_card", True),
    ev("R4", "2026-03-03 10:00:00", "$AppStart"),
    *(ev("R5", f"2026-03-0{d} 10:00:00", "$AppStart") for d in range(1, 5)),
]
RANGE = dict(start=date(2026, 3, 1), end=date(2026, 3, 2))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    url = make_warehouse(tmp_path_factory.mktemp("retention") / "fixture.duckdb", EVENTS)
    with connect(url) as wh:
        yield wh


def test_daily_cohorts(catalog, warehouse):
    got = run_query(catalog, Query(metrics=("bind_card_retention",), **RANGE), warehouse).rows
    assert len(got) == 2 * 30  # two cohorts x 30 periods
    table = {(r["cohort"], r["period"]): (r["cohort_size"], r["retained"], r["rate"]) for r in got}
    assert table[("2026-03-01", 1)] == (2, 1, 0.5)
    assert table[("2026-03-01", 2)] == (2, 1, 0.5)
    assert table[("2026-03-01", 3)] == (2, 1, 0.5)
    assert table[("2026-03-01", 4)] == (2, None, None)  # ends 03-06 00:00, after the last event
    assert table[("2026-03-02", 1)] == (1, 1, 1.0)
    assert table[("2026-03-02", 2)] == (1, 0, 0.0)  # known and zero: 03-05 00:00 <= 03-05 12:00
    assert table[("2026-03-02", 3)] == (1, None, None)
    assert all(table[("2026-03-01", n)][1] is None for n in range(4, 31))


def test_breakdown_by_cohort_event_dimension(catalog, warehouse):
    got = run_query(catalog, Query(metrics=("bind_card_retention",), dimensions=("platform",), **RANGE), warehouse).rows
    first = {(r["cohort"], r["platform"]): (r["cohort_size"], r["retained"]) for r in got if r["period"] == 1}
    assert first == {("2026-03-01", "Android"): (1, 0), ("2026-03-01", "iOS"): (1, 1), ("2026-03-02", "iOS"): (1, 1)}


def test_weekly_periods(tmp_path, warehouse):
    from tests.catalog_helpers import catalog_with

    catalog = catalog_with(
        tmp_path,
        """
metrics:
  - name: weekly_start_retention
    type: retention
    cohort: {event: $AppStart}
    return: {event: $AppStart}
    period: week
    periods: 2
    label: {zh: 周留存, en: Weekly retention}
    format: percent
    business_line: platform
""",
    )
    got = run_query(catalog, Query(metrics=("weekly_start_retention",)), warehouse).rows
    # First $AppStart: R5 03-01 (Sunday: week of 02-23); R1, R2, R3, R4 in the week of 03-02 (R2: 03-01 21:00 → 02-23).
    sizes = {(r["cohort"], r["period"]): (r["cohort_size"], r["retained"]) for r in got}
    # Week 02-23 cohort: R5 and R2; in week 03-02 both start again (N=1 known: ends 03-09 > 03-05 12:00? no: unknown).
    assert sizes[("2026-02-23", 1)] == (2, None)
    assert sizes[("2026-03-02", 1)] == (3, None)
