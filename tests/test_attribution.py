"""Attribution by hand on DuckDB, PostgreSQL and chdb: the window's edges, ties, and the four models.

Conversions: successful P2P_invest (the ``invest_users`` metric's filter) in 2026-03-01..03-07. Touches: push_click
named by its campaign_id, and $AppViewScreen named by utm_campaign; window 7 days.
  A1 push c1 03-01 10:00, view u1 03-05 10:00, invest 03-06 10:00   → both touch; first c1, last u1; linear 1/2 each;
                                                                       decay (half-life 2d): ages 5d, 1d → weights
                                                                       2^-2.5 : 2^-0.5 = 1 : 4 → c1 0.2, u1 0.8
  A2 push c1 02-20, invest 03-03                                      → 11 days before: no touch (unattributed)
  A3 push c2 02-27 09:59:59, view u1 02-27 10:00:00, invest 03-06 10:00 → u1 exactly 7 days before: in; c2 one second
                                                                       more: out; u1 gets 1 in every model
  A4 push c1 and push c2 both 03-04 10:00, invest 03-05 10:00        → a tie: every model splits 1/2, 1/2
  A5 view u2 03-07 10:00 and invest 03-07 10:00                       → a touch at the conversion's instant counts: u2 1
  A6 push c1 03-02 10:00, invests 03-03 and 03-04                     → two conversions, each all c1
  A7 view u2 03-05, failed invest 03-05                               → no conversion
  A8 view without utm_campaign 03-05, invest 03-05                    → no touch (unnamed): unattributed
Total 8 conversions.          c1            c2     u1            u2    none
  first:                     1+.5+2 = 3.5   .5     1             1     2
  last:                      .5+2 = 2.5     .5     1+1 = 2       1     2
  linear:                    .5+.5+2 = 3    .5     .5+1 = 1.5    1     2
  time_decay:                .2+.5+2 = 2.7  .5     .8+1 = 1.8    1     2
conversions credited: c1 4 (first), 3 (last: A1's last is u1); u1 1 (first) or 2; c2 1; u2 1; none 2.
"""

from __future__ import annotations

from datetime import date

import pytest

from finlens_common.errors import QueryError
from semantic.analyses.attribution import attribution_spec, compile_attribution, run_attribution, touch_users
from semantic.compiler.dialects import DIALECTS
from tests.warehouse_fixtures import ENGINES, engine_warehouse


def push(user, time, campaign):
    return dict(user_id=user, event_time=time, event="push_click", properties=f'{{"campaign_id": "{campaign}"}}')


def view(user, time, utm):
    return dict(user_id=user, event_time=time, event="$AppViewScreen", page="home", utm_campaign=utm)


def invest(user, time, ok=True):
    return dict(user_id=user, event_time=time, event="P2P_invest", is_success=ok, amount=1000.0)


EVENTS = [
    push("A1", "2026-03-01 10:00:00", "c1"),
    view("A1", "2026-03-05 10:00:00", "u1"),
    invest("A1", "2026-03-06 10:00:00"),
    push("A2", "2026-02-20 10:00:00", "c1"),
    invest("A2", "2026-03-03 10:00:00"),
    push("A3", "2026-02-27 09:59:59", "c2"),
    view("A3", "2026-02-27 10:00:00", "u1"),
    invest("A3", "2026-03-06 10:00:00"),
    push("A4", "2026-03-04 10:00:00", "c1"),
    push("A4", "2026-03-04 10:00:00", "c2"),
    invest("A4", "2026-03-05 10:00:00"),
    view("A5", "2026-03-07 10:00:00", "u2"),
    invest("A5", "2026-03-07 10:00:00"),
    push("A6", "2026-03-02 10:00:00", "c1"),
    invest("A6", "2026-03-03 10:00:00"),
    invest("A6", "2026-03-04 10:00:00"),
    view("A7", "2026-03-05 10:00:00", "u2"),
    invest("A7", "2026-03-05 11:00:00", ok=False),
    view("A8", "2026-03-05 10:00:00", None),
    invest("A8", "2026-03-05 11:00:00"),
]
RANGE = dict(start=date(2026, 3, 1), end=date(2026, 3, 7))
TOUCHES = ["push_click:campaign_id", "$AppViewScreen:utm_campaign"]
C1, C2, U1, U2 = "push_click:c1", "push_click:c2", "$AppViewScreen:u1", "$AppViewScreen:u2"
EXPECTED = {
    "first": {C1: (4, 3.5), C2: (1, 0.5), U1: (1, 1.0), U2: (1, 1.0), None: (2, 2.0)},
    "last": {C1: (3, 2.5), C2: (1, 0.5), U1: (2, 2.0), U2: (1, 1.0), None: (2, 2.0)},
    "linear": {C1: (4, 3.0), C2: (1, 0.5), U1: (2, 1.5), U2: (1, 1.0), None: (2, 2.0)},
    "time_decay": {C1: (4, 2.7), C2: (1, 0.5), U1: (2, 1.8), U2: (1, 1.0), None: (2, 2.0)},
}


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    with engine_warehouse(request, tmp_path_factory.mktemp("attribution"), EVENTS, []) as opened:
        yield opened


def spec(catalog, model):
    return attribution_spec(
        catalog,
        conversion="invest_users",
        touches=TOUCHES,
        window="7d",
        model=model,
        half_life="2d" if model == "time_decay" else None,
    )


@pytest.mark.parametrize("model", sorted(EXPECTED))
def test_credit_by_model(catalog, warehouse, model):
    rows = run_attribution(catalog, spec(catalog, model), warehouse, **RANGE)
    assert all(list(r) == ["touch", "conversions", "credit", "credit_share"] for r in rows)
    got = {r["touch"]: (r["conversions"], r["credit"]) for r in rows}
    assert got.keys() == EXPECTED[model].keys()
    for touch, (conversions, credit) in EXPECTED[model].items():
        assert got[touch][0] == conversions, (model, touch)
        assert got[touch][1] == pytest.approx(credit), (model, touch)
    assert [r["credit_share"] for r in rows] == pytest.approx([r["credit"] / 8 for r in rows])
    assert rows[-1]["touch"] is None  # the unattributed row comes last


def test_an_event_named_conversion_and_unnamed_touches(catalog, warehouse):
    question = attribution_spec(catalog, conversion="P2P_invest", touches=["push_click"], window="7d", model="first")
    got = {r["touch"]: r["conversions"] for r in run_attribution(catalog, question, warehouse, **RANGE)}
    # every P2P_invest is a conversion here (9, A7's failed one too); a push within 7 days precedes A1's, A4's and
    # A6's two; A2, A3 (its push is 1 s too early), A5, A7 and A8 have none
    assert got == {"push_click": 4, None: 5}


def test_users_behind_a_touch(catalog, warehouse):
    users = touch_users(catalog, spec(catalog, "last"), warehouse, touch=C1, **RANGE)
    assert [(r["user_id"], r["conversions"]) for r in users.rows] == [("A6", 2), ("A4", 1)]
    assert [r["credit"] for r in users.rows] == pytest.approx([2.0, 0.5])
    none = touch_users(catalog, spec(catalog, "last"), warehouse, touch=None, **RANGE)
    assert sorted(r["user_id"] for r in none.rows) == ["A2", "A8"]


def test_bad_options_are_one_line(catalog):
    for options, message in [
        (dict(model="shapley"), "--model must be one of first, last, linear, time_decay"),
        (dict(model="time_decay"), "--model time_decay needs --half-life"),
        (dict(half_life="2d"), "--half-life goes with --model time_decay"),
        (dict(window="7 days"), "is not a duration"),
        (dict(touches=["push_click:nosuch"]), "'nosuch' is not a dimension of events"),
        (dict(conversion="sessions"), "metric 'sessions' must be a filtered count or sum of events"),
        (dict(touches=[]), "give from 1 to 20 touches"),
    ]:
        arguments = dict(conversion="invest_users", touches=TOUCHES, window="7d", model="last") | options
        with pytest.raises(QueryError, match=message):
            attribution_spec(catalog, **arguments)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_compiles_for_every_dialect(catalog, dialect):
    sql = compile_attribution(catalog, spec(catalog, "time_decay"), dialect, **RANGE)
    assert "push_click:" in sql
