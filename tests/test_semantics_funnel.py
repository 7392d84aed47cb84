"""bind_card_funnel (register → successful realname_auth → successful bind_card, 7-day window) by hand, on every engine.

Range 2026-03-01..2026-03-10. Per user, the deepest step reached (hand-derived):
  U1 3  straight through, 300 s then 300 s
  U2 1  realname before register does not count (out of order)
  U3 3  bind exactly 7 days after register: the window is inclusive
  U4 2  bind 7 days + 1 s after register: outside the window
  U5 1  realname failed
  U6 2  bind failed
  U7 2  first register → realname; the bind comes 8 days later; the second register has no realname after it
  U8 3  all three at the same second (ids in reverse order): non-decreasing times suffice
  U9 -  register before the range: not in the funnel at all
  U10 3 register on the last day; later steps after the range end still count
  U11 -  two failed realname_auth 30 minutes apart, no register
"""

from __future__ import annotations

from datetime import date

import pytest

from semantic import Query, run_query
from tests.warehouse_fixtures import ENGINES, engine_warehouse


def ev(user, time, event, ok=None, platform=None, event_id=None):
    return dict(user_id=user, event_time=time, event=event, is_success=ok, platform=platform, event_id=event_id)


EVENTS = [
    ev("U1", "2026-03-01 10:00:00", "register", True, "iOS"),
    ev("U1", "2026-03-01 10:05:00", "realname_auth", True),
    ev("U1", "2026-03-01 10:10:00", "bind_card", True),
    ev("U2", "2026-03-01 09:00:00", "realname_auth", True),
    ev("U2", "2026-03-01 10:00:00", "register", True, "iOS"),
    ev("U2", "2026-03-01 11:00:00", "bind_card", True),
    ev("U3", "2026-03-01 00:00:00", "register", True, "Android"),
    ev("U3", "2026-03-03 00:00:00", "realname_auth", True),
    ev("U3", "2026-03-08 00:00:00", "bind_card", True),
    ev("U4", "2026-03-01 00:00:00", "register", True, "Android"),
    ev("U4", "2026-03-02 00:00:00", "realname_auth", True),
    ev("U4", "2026-03-08 00:00:01", "bind_card", True),
    ev("U5", "2026-03-02 12:00:00", "register", True, "Web"),
    ev("U5", "2026-03-02 12:01:00", "realname_auth", False),
    ev("U6", "2026-03-05 10:00:00", "register", True, "Web"),
    ev("U6", "2026-03-05 10:30:00", "realname_auth", True),
    ev("U6", "2026-03-05 10:40:00", "bind_card", False),
    ev("U7", "2026-03-01 08:00:00", "register", True, "iOS"),
    ev("U7", "2026-03-01 09:00:00", "realname_auth", True),
    ev("U7", "2026-03-09 08:00:00", "register", True, "Android"),
    ev("U7", "2026-03-09 09:00:00", "bind_card", True),
    ev("U8", "2026-03-02 15:00:00", "bind_card", True, event_id="x1"),
    ev("U8", "2026-03-02 15:00:00", "realname_auth", True, event_id="x2"),
    ev("U8", "2026-03-02 15:00:00", "register", True, event_id="x3"),
    ev("U9", "2026-02-27 10:00:00", "register", True, "iOS"),
    ev("U9", "2026-03-01 10:00:00", "realname_auth", True),
    ev("U9", "2026-03-01 11:00:00", "bind_card", True),
    ev("U10", "2026-03-10 23:00:00", "register", True, "iOS"),
    ev("U10", "2026-03-11 01:00:00", "realname_auth", True),
    ev("U10", "2026-03-12 00:00:00", "bind_card", True),
    ev("U11", "2026-03-04 10:00:00", "realname_auth", False),
    ev("U11", "2026-03-04 10:30:00", "realname_auth", False),
]
RANGE = dict(start=date(2026, 3, 1), end=date(2026, 3, 10))


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    """The fixture on DuckDB, PostgreSQL and chdb (ClickHouse compiles funnels to its own array plan)."""
    with engine_warehouse(request, tmp_path_factory.mktemp("funnel"), EVENTS, []) as opened:
        yield opened


def test_funnel_steps(catalog, warehouse):
    got = run_query(catalog, Query(metrics=("bind_card_funnel",), **RANGE), warehouse).rows
    assert [(r["step"], r["step_name"], r["users"]) for r in got] == [
        (1, "register", 9),
        (2, "realname_auth", 7),
        (3, "bind_card", 4),
    ]
    assert [r["conversion_from_previous"] for r in got] == pytest.approx([1.0, 7 / 9, 4 / 7])
    assert [r["conversion_from_first"] for r in got] == pytest.approx([1.0, 7 / 9, 4 / 9])
    # step 2 gaps: 0 (U8), 300, 1800, 3600, 7200, 86400, 172800 → 3600
    # step 3 gaps: 0, 300, 82800, 432000 → (300 + 82800) / 2
    assert got[0]["median_seconds_to_convert"] is None
    assert got[1]["median_seconds_to_convert"] == pytest.approx(3600)
    assert got[2]["median_seconds_to_convert"] == pytest.approx(41550)


def test_breakdown_uses_earliest_step_one_event(catalog, warehouse):
    got = run_query(catalog, Query(metrics=("bind_card_funnel",), dimensions=("platform",), **RANGE), warehouse).rows
    users = {(r["platform"], r["step"]): r["users"] for r in got}
    assert users == {
        ("Android", 1): 2,
        ("Android", 2): 2,
        ("Android", 3): 1,  # U3, U4
        ("Web", 1): 2,
        ("Web", 2): 1,
        ("Web", 3): 0,  # U5, U6
        ("iOS", 1): 4,
        ("iOS", 2): 3,
        ("iOS", 3): 2,  # U1, U2, U7 (first register on iOS), U10
        (None, 1): 1,
        (None, 2): 1,
        (None, 3): 1,  # U8
    }
    web = [r for r in got if r["platform"] == "Web"]
    assert web[2]["conversion_from_previous"] == 0.0
    assert web[2]["median_seconds_to_convert"] is None


def test_range_end_moves_step_one_only(catalog, warehouse):
    got = run_query(
        catalog, Query(metrics=("bind_card_funnel",), start=date(2026, 3, 10), end=date(2026, 3, 10)), warehouse
    ).rows
    assert [r["users"] for r in got] == [1, 1, 1]  # U10 only, finishing on 03-12


def test_event_matching_two_steps_fulfils_one(tmp_path, warehouse):
    """A custom funnel (YAML alone) whose two steps are the same event: one event cannot be both."""
    from tests.catalog_helpers import catalog_with

    catalog = catalog_with(
        tmp_path,
        """
metrics:
  - name: double_realname
    type: funnel
    window: 1h
    steps:
      - event: realname_auth
      - event: realname_auth
    label: {zh: 两次实名, en: Two real-name checks}
    format: percent
    business_line: platform
""",
    )
    got = run_query(catalog, Query(metrics=("double_realname",), **RANGE), warehouse).rows
    # U1-U11 each have a realname_auth in range (U10's is on 03-11, but its time is only checked for step 1:
    # U10 has none in range, so 10 users start); only U11 has a second one within the hour.
    assert [r["users"] for r in got] == [10, 1]
