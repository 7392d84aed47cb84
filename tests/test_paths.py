"""User paths by hand on DuckDB, PostgreSQL and chdb: sessions, collapsed repeats, pages, top branches, modes.

Sessions split on gaps over 30 minutes. Range 2026-03-02..03-03 unless said otherwise.
  P1 03-02 10:00 view home, 10:01 bind_card (failed), 10:02 bind_card (a repeat: collapsed), 10:03 click
     bind_card_submit, 10:04 the same click (collapsed), 10:05 $AppEnd
     nodes: $AppViewScreen, bind_card, $AppClick, $AppEnd
  P2 11:00 bind_card; 11:31 $AppStart (31 min later: a new session), 11:32 $AppClick
     the path from bind_card ends with its session: bind_card → (end)
  P3 12:00 bind_card, 12:10 deposit, 12:20 bind_card (again, not a repeat), 12:25 $AppEnd
  P4 03-02 13:00 bind_card, 13:05 $AppEnd; the same on 03-03: two paths, one user
  P5 14:00 bind_card, 14:01 click banner, 14:02 deposit
From bind_card, 4 steps (top 10):
  step 1: bind_card → $AppClick {P1, P5}; → deposit {P3}; → $AppEnd {P4}; → (end) {P2}
  step 2: $AppClick → $AppEnd {P1}; $AppClick → deposit {P5}; deposit → bind_card {P3}; $AppEnd → (end) {P4}
  step 3: $AppEnd → (end) {P1}; bind_card → $AppEnd {P3}; deposit → (end) {P5}
Top 1 per step (ties by name, byte order): step 2 keeps $AppClick (2 users), step 3 keeps $AppEnd ('$' sorts first),
step 4 keeps $AppEnd; the rest are "other".
To $AppEnd, 3 steps back: step 1 $AppClick → $AppEnd {P1}, bind_card → $AppEnd {P3, P4};
step 2 bind_card → $AppClick {P1}, deposit → bind_card {P3}, (began) → bind_card {P4}.
After dropping out of bind_card_funnel before step 3 (03-04): Q1 registers, passes real-name, views home,
fails to bind: realname_auth → $AppViewScreen → bind_card. Q2 binds (not dropped), Q3 fails real-name
(dropped before step 2: register → realname_auth).
"""

from __future__ import annotations

from datetime import date

import pytest

from finlens_common.errors import QueryError
from semantic.analyses.paths import adhoc_path, load_paths
from semantic.analyses.paths_sql import compile_paths, flow_users, run_paths
from semantic.compiler.dialects import DIALECTS
from tests.warehouse_fixtures import ENGINES, engine_warehouse


def ev(user, time, event, page=None, element=None, ok=None):
    return dict(user_id=user, event_time=time, event=event, page=page, element=element, is_success=ok, platform="iOS")


EVENTS = [
    ev("P1", "2026-03-02 10:00:00", "$AppViewScreen", page="home"),
    ev("P1", "2026-03-02 10:01:00", "bind_card", ok=False),
    ev("P1", "2026-03-02 10:02:00", "bind_card", ok=True),
    ev("P1", "2026-03-02 10:03:00", "$AppClick", page="bind_card", element="bind_card_submit"),
    ev("P1", "2026-03-02 10:04:00", "$AppClick", page="bind_card", element="bind_card_submit"),
    ev("P1", "2026-03-02 10:05:00", "$AppEnd"),
    ev("P2", "2026-03-02 11:00:00", "bind_card", ok=True),
    ev("P2", "2026-03-02 11:31:00", "$AppStart"),
    ev("P2", "2026-03-02 11:32:00", "$AppClick", page="home", element="banner"),
    ev("P3", "2026-03-02 12:00:00", "bind_card", ok=True),
    ev("P3", "2026-03-02 12:10:00", "deposit", ok=True),
    ev("P3", "2026-03-02 12:20:00", "bind_card", ok=True),
    ev("P3", "2026-03-02 12:25:00", "$AppEnd"),
    ev("P4", "2026-03-02 13:00:00", "bind_card", ok=True),
    ev("P4", "2026-03-02 13:05:00", "$AppEnd"),
    ev("P4", "2026-03-03 13:00:00", "bind_card", ok=True),
    ev("P4", "2026-03-03 13:05:00", "$AppEnd"),
    ev("P5", "2026-03-02 14:00:00", "bind_card", ok=True),
    ev("P5", "2026-03-02 14:01:00", "$AppClick", page="home", element="banner"),
    ev("P5", "2026-03-02 14:02:00", "deposit", ok=True),
    ev("Q1", "2026-03-04 15:00:00", "register", ok=True),
    ev("Q1", "2026-03-04 15:01:00", "realname_auth", ok=True),
    ev("Q1", "2026-03-04 15:02:00", "$AppViewScreen", page="home"),
    ev("Q1", "2026-03-04 15:03:00", "bind_card", ok=False),
    ev("Q1", "2026-03-04 15:04:00", "$AppEnd"),
    ev("Q2", "2026-03-04 16:00:00", "register", ok=True),
    ev("Q2", "2026-03-04 16:01:00", "realname_auth", ok=True),
    ev("Q2", "2026-03-04 16:02:00", "bind_card", ok=True),
    ev("Q3", "2026-03-04 17:00:00", "register", ok=True),
    ev("Q3", "2026-03-04 17:01:00", "realname_auth", ok=False),
]
RANGE = dict(start=date(2026, 3, 2), end=date(2026, 3, 3))
AFTER = dict(start=date(2026, 3, 4), end=date(2026, 3, 4))


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    with engine_warehouse(request, tmp_path_factory.mktemp("paths"), EVENTS, []) as opened:
        yield opened


def flows(catalog, warehouse, range_=RANGE, **options):
    rows = run_paths(catalog, adhoc_path(catalog, **options), warehouse, **range_)
    assert all(list(r) == ["step", "source", "target", "users"] for r in rows)
    return {(r["step"], r["source"], r["target"]): r["users"] for r in rows}


def test_paths_from_an_event(catalog, warehouse):
    assert flows(catalog, warehouse, start="bind_card", steps=4) == {
        (1, "bind_card", "$AppClick"): 2,
        (1, "bind_card", "deposit"): 1,
        (1, "bind_card", "$AppEnd"): 1,
        (1, "bind_card", None): 1,
        (2, "$AppClick", "$AppEnd"): 1,
        (2, "$AppClick", "deposit"): 1,
        (2, "deposit", "bind_card"): 1,
        (2, "$AppEnd", None): 1,
        (3, "$AppEnd", None): 1,
        (3, "bind_card", "$AppEnd"): 1,
        (3, "deposit", None): 1,
    }


def test_branches_outside_the_top_are_other(catalog, warehouse):
    assert flows(catalog, warehouse, start="bind_card", steps=4, top=1) == {
        (1, "bind_card", "$AppClick"): 2,
        (1, "bind_card", "other"): 2,
        (1, "bind_card", None): 1,
        (2, "$AppClick", "$AppEnd"): 1,
        (2, "$AppClick", "other"): 1,
        (2, "other", "other"): 1,
        (2, "other", None): 1,
        (3, "$AppEnd", None): 1,
        (3, "other", "$AppEnd"): 1,
        (3, "other", None): 1,
    }


def test_page_views_by_page_and_clicks_by_element(catalog, warehouse):
    got = flows(catalog, warehouse, start="bind_card", steps=3, by_page=True)
    assert got[(1, "bind_card", "click:bind_card_submit")] == 1
    assert got[(1, "bind_card", "click:banner")] == 1
    assert got[(2, "click:banner", "deposit")] == 1
    before = flows(catalog, warehouse, end="bind_card", steps=2, by_page=True)
    assert before == {(1, "page:home", "bind_card"): 1, (1, None, "bind_card"): 4}


def test_paths_to_an_event(catalog, warehouse):
    assert flows(catalog, warehouse, end="$AppEnd", steps=3) == {
        (1, "$AppClick", "$AppEnd"): 1,
        (1, "bind_card", "$AppEnd"): 2,
        (2, "bind_card", "$AppClick"): 1,
        (2, "deposit", "bind_card"): 1,
        (2, None, "bind_card"): 1,
    }


def test_paths_after_dropping_out_of_a_funnel(catalog, warehouse):
    assert flows(catalog, warehouse, AFTER, after="bind_card_funnel:3", steps=3) == {
        (1, "realname_auth", "$AppViewScreen"): 1,
        (2, "$AppViewScreen", "bind_card"): 1,
    }
    assert flows(catalog, warehouse, AFTER, after="bind_card_funnel:2", steps=2) == {
        (1, "register", "realname_auth"): 1,
    }


def test_users_behind_a_flow(catalog, warehouse):
    spec = adhoc_path(catalog, start="bind_card", steps=4)
    users = flow_users(catalog, spec, warehouse, step=1, source="bind_card", target="$AppClick", **RANGE)
    assert sorted(r["user_id"] for r in users.rows) == ["P1", "P5"] and users.total == 2
    ended = flow_users(catalog, spec, warehouse, step=2, source="$AppEnd", target=None, **RANGE)
    assert [(r["user_id"], r["paths"]) for r in ended.rows] == [("P4", 2)]


def test_bad_options_are_one_line(catalog):
    for options, message in [
        (dict(), "give exactly one of --start EVENT, --end EVENT or --after FUNNEL:STEP"),
        (dict(start="a", end="b"), "give exactly one of"),
        (dict(start="bind_card", steps=11), "steps must be from 2 to 10, not 11"),
        (dict(after="bind_card_funnel:1"), "drops users before steps 2 to 3, not 1"),
        (dict(after="pv:2"), "'pv' is a aggregate, not a funnel"),
        (dict(after="nosuch:2"), "unknown metric 'nosuch'"),
        (dict(start="x" * 101), "is not an event name"),
    ]:
        with pytest.raises(QueryError, match=message):
            adhoc_path(catalog, **options)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_paths_compile_for_every_dialect_with_values_as_literals(catalog, dialect):
    spec = adhoc_path(catalog, start="bind_card' OR 1=1 --", by_page=True)
    sql = compile_paths(catalog, spec, dialect, **RANGE, where="platform = 'iOS'")
    assert "'bind_card'' OR 1=1 --'" in sql or "'bind_card\\' OR 1=1 --'" in sql


def test_shipped_path_analyses_load(catalog):
    specs = load_paths(catalog)
    assert {"after_card_failure", "before_investment", "after_realname_drop"} <= set(specs)
    assert specs["after_realname_drop"].anchor == "bind_card_funnel:3"
