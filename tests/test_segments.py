"""Segments on a hand-built fixture, as of 2026-03-31, with every membership worked out by hand.

Users (register_time, register_channel, province):
  U1 2026-01-15 10:00     toutiao    Guangdong
  U2 2026-01-31 23:59:59  baidu_sem  Beijing     (the last second of January)
  U3 2026-02-01 00:00:00  seo        Guangdong   (the first second of February)
  U4 NULL (a visitor)     NULL       NULL
  U5 2025-12-31 23:59:59  wechat     Zhejiang
  U6 2026-01-10           NULL       NULL
  U7 2026-03-01           invite     Sichuan     (no events at all)
Events (credit = a $AppViewScreen of page credit_report; invest = P2P_invest):
  U1 credit 02-01; invest ok 03-10 1000; invest ok 03-20 5000
  U2 credit 03-05; invest FAILED 03-06 2000
  U3 credit 02-15
  U4 credit 03-30 three times (10:00, 10:10, 10:20)
  U5 credit 03-01; invest ok 2026-04-01 9999 (after "as of": never counts)
  U6 credit 03-01 23:59:59 and 03-02 00:00:00
  a crawler credit page view with no user on 03-10
The 30 days ending 2026-03-31 start on 03-02.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from finlens_common.errors import CatalogError, QueryError
from semantic import Query, compile_query, load_catalog, run_query
from semantic.analyses.segments import compile_segment_count, parse_segment_text, segment_count, segment_members
from semantic.compiler.dialects import DIALECTS
from semantic.drill.members import member_ids, member_list
from tests.warehouse_fixtures import ENGINES, engine_warehouse

AS_OF = date(2026, 3, 31)
CATALOG = load_catalog()


def credit(user, time):
    return dict(user_id=user, event_time=time, event="$AppViewScreen", page="credit_report")


def invest(user, time, ok, amount):
    return dict(user_id=user, event_time=time, event="P2P_invest", is_success=ok, amount=amount)


EVENTS = [
    credit("U1", "2026-02-01 09:00:00"),
    invest("U1", "2026-03-10 10:00:00", True, 1000.0),
    invest("U1", "2026-03-20 10:00:00", True, 5000.0),
    credit("U2", "2026-03-05 12:00:00"),
    invest("U2", "2026-03-06 12:00:00", False, 2000.0),
    credit("U3", "2026-02-15 12:00:00"),
    credit("U4", "2026-03-30 10:00:00"),
    credit("U4", "2026-03-30 10:10:00"),
    credit("U4", "2026-03-30 10:20:00"),
    credit("U5", "2026-03-01 08:00:00"),
    invest("U5", "2026-04-01 08:00:00", True, 9999.0),
    credit("U6", "2026-03-01 23:59:59"),
    credit("U6", "2026-03-02 00:00:00"),
    credit(None, "2026-03-10 03:00:00"),
]
USERS = [
    dict(user_id="U1", register_time="2026-01-15 10:00:00", register_channel="toutiao", province="Guangdong"),
    dict(user_id="U2", register_time="2026-01-31 23:59:59", register_channel="baidu_sem", province="Beijing"),
    dict(user_id="U3", register_time="2026-02-01 00:00:00", register_channel="seo", province="Guangdong"),
    dict(user_id="U4"),
    dict(user_id="U5", register_time="2025-12-31 23:59:59", register_channel="wechat", province="Zhejiang"),
    dict(user_id="U6", register_time="2026-01-10 00:00:00"),
    dict(user_id="U7", register_time="2026-03-01 00:00:00", register_channel="invite", province="Sichuan"),
]
EVERYONE = {"U1", "U2", "U3", "U4", "U5", "U6", "U7"}
CREDIT = "did: $AppViewScreen\nfilter: \"page = 'credit_report'\""
JANUARY_CREDIT_NEVER_INVESTED = """
all:
  - user: register_time
    between: [2026-01-01, 2026-01-31]
  - did: [$AppViewScreen, $pageview]
    filter: "page = 'credit_report'"
  - did_not: P2P_invest
    filter: is_success
"""


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    """The fixture in a real DuckDB file, a real PostgreSQL server and chdb."""
    with engine_warehouse(request, tmp_path_factory.mktemp("segments"), EVENTS, USERS) as opened:
        yield opened


def members(warehouse, text: str, as_of: date = AS_OF) -> set[str]:
    segment = parse_segment_text(CATALOG, text)
    found = set(member_ids(segment_members(CATALOG, segment, as_of, warehouse.dialect), warehouse))
    assert segment_count(CATALOG, segment, as_of, warehouse) == len(found)
    return found


CASES = [
    # U2 (last second of January, only a failed investment) and U6; U1 invested, U3 registered in February.
    ("january_credit_never_invested", JANUARY_CREDIT_NEVER_INVESTED, {"U2", "U6"}),
    # The exact complement, visitors with NULL register_time included.
    (
        "not_january",
        "not:\n" + "\n".join("  " + line for line in JANUARY_CREDIT_NEVER_INVESTED.strip().splitlines()),
        {"U1", "U3", "U4", "U5", "U7"},
    ),
    # Two successful investments by 03-31: only U1 (U5's comes after "as of").
    ("invested_twice", "did: P2P_invest\nfilter: is_success\nat_least: 2", {"U1"}),
    # Sum of successful amounts >= 6000: U1's 1000 + 5000 = 6000 exactly; > 6000: nobody.
    ("sum_gte_6000", "did: P2P_invest\nfilter: is_success\nsum: amount\ngte: 6000", {"U1"}),
    ("sum_gt_6000", "did: P2P_invest\nfilter: is_success\nsum: amount\ngt: 6000", set()),
    # Average of all P2P_invest amounts < 2500: U2's 2000 (failed, but no filter); U1 averages 3000.
    ("avg_lt_2500", "did: P2P_invest\navg: amount\nlt: 2500", {"U2"}),
    # Credit report in the last 30 days (03-02..03-31): U2 03-05, U4 03-30, U6 03-02 00:00; U5 (03-01) no.
    ("credit_last_30", CREDIT + "\nlast_days: 30", {"U2", "U4", "U6"}),
    # Two or three credit views ever: U4 (3) and U6 (2).
    ("credit_2_to_3", CREDIT + "\nat_least: 2\nat_most: 3", {"U4", "U6"}),
    # During 03-01..03-05, both days whole: U2 (03-05 12:00), U5 (03-01), U6 (both views).
    ("credit_during", CREDIT + "\nduring: [2026-03-01, 2026-03-05]", {"U2", "U5", "U6"}),
    # Attributes: NULL provinces match neither in nor not_in; NOT(eq) is the complement and takes them.
    ("province_in", "user: user_province\nin: [Guangdong, Beijing]", {"U1", "U2", "U3"}),
    ("province_not_in", "user: user_province\nnot_in: [Guangdong]", {"U2", "U5", "U7"}),
    ("not_province_eq", "not: {user: user_province, eq: Guangdong}", {"U2", "U4", "U5", "U6", "U7"}),
    # Whole days: lte 01-31 takes U2's 23:59:59; gt 01-31 starts at February 1st 00:00.
    ("registered_by_january", "user: register_time\nlte: 2026-01-31", {"U1", "U2", "U5", "U6"}),
    ("registered_after_january", "user: register_time\ngt: 2026-01-31", {"U3", "U7"}),
    ("visitors", "user: register_time\nis_null: true", {"U4"}),
    # OR with a "never did": U1 by channel; U7 never viewed the credit page.
    # Computed labels from metrics/marketing (as of 03-31). Lifecycle: only U1 has a successful investment by then
    # (U2's failed, U5's comes after), so U1 holds; the other registered users are new; U4 is a visitor.
    ("holding", "lifecycle: holding", {"U1"}),
    ("not_new", "not: {lifecycle: new}", {"U1", "U4"}),
    # RFM: U1 is the only investor (n = 1), so every score is floor(5 * 0 / 1) + 1 = 1: general_retain.
    ("rfm_general_retain", "rfm: [general_retain, important_value]", {"U1"}),
    # Intent: nobody viewed products or clicked invest in the 14 days, so nobody is ranked.
    ("no_intent", "any: [{intent: strong}, {intent: [medium, weak]}, {prefers: bond}]", set()),
    (
        "toutiao_or_no_credit",
        "any:\n  - {user: register_channel, eq: toutiao}\n  - did_not: $AppViewScreen\n    filter: \"page = 'credit_report'\"",
        {"U1", "U7"},
    ),
]


@pytest.mark.parametrize("name,text,expected", CASES, ids=[c[0] for c in CASES])
def test_membership(warehouse, name, text, expected):
    assert members(warehouse, text) == expected


def test_as_of_moves_the_windows(warehouse):
    """As of 2026-04-01, U5's 9999 counts (sum >= 6000 adds U5) and the last 30 days start on 03-03, dropping U6."""
    assert members(warehouse, "did: P2P_invest\nfilter: is_success\nsum: amount\ngte: 6000", date(2026, 4, 1)) == {
        "U1",
        "U5",
    }
    assert members(warehouse, CREDIT + "\nlast_days: 30", date(2026, 4, 1)) == {"U2", "U4"}


def test_member_list_columns(warehouse):
    """January/credit/never-invested as of 03-31, latest first. U2: last event 03-06 12:00, two visits
    (03-05 and 03-06 are a day apart). U6: last event 03-02 00:00, one visit: 03-01 23:59:59 is outside the
    30 days, which cut the session. No event carries a province here, so last_province is NULL."""
    segment = parse_segment_text(CATALOG, JANUARY_CREDIT_NEVER_INVESTED)
    listing = member_list(CATALOG, segment_members(CATALOG, segment, AS_OF, warehouse.dialect), AS_OF, warehouse)
    assert listing.total == 2
    assert listing.rows == [
        {"user_id": "U2", "last_visit": "2026-03-06 12:00:00", "visits_30d": 2, "last_province": None},
        {"user_id": "U6", "last_visit": "2026-03-02 00:00:00", "visits_30d": 1, "last_province": None},
    ]


def test_segment_filters_a_metric(warehouse):
    """Page views in March (as of 03-31): members U2 (1) and U6 (2) make 3; everyone else: U4 3, U5 1 and
    the crawler's view without a user 1, so 5. Together the 8 page views of March."""
    segment = parse_segment_text(CATALOG, JANUARY_CREDIT_NEVER_INVESTED, name="jan")
    march = dict(metrics=("pv",), start=date(2026, 3, 1), end=AS_OF)
    inside = run_query(CATALOG, Query(**march, segment=segment), warehouse).rows
    outside = run_query(CATALOG, Query(**march, segment=segment, exclude_segment=True), warehouse).rows
    total = run_query(CATALOG, Query(**march), warehouse).rows
    assert (inside[0]["pv"], outside[0]["pv"], total[0]["pv"]) == (3, 5, 8)


def test_segment_compiles_for_every_dialect():
    segment = parse_segment_text(
        CATALOG,
        JANUARY_CREDIT_NEVER_INVESTED + "  - did: P2P_invest\n    sum: amount\n    between: [1, 9]\n    last_days: 7\n"
        "  - any: [{intent: strong}, {prefers: bond}, {lifecycle: new}, {rfm: general_retain}]\n",
    )
    for dialect in DIALECTS:
        sql = compile_segment_count(CATALOG, segment, AS_OF, dialect)
        assert "segment_behaviour" in sql and "2026-01-01" in sql and "segment_rfm" in sql


@pytest.mark.parametrize(
    "text,message",
    [
        (
            'did: P2P_invest\nfilter: "amont > 1"',
            "<segment>:2: segment: filter: unknown dimension 'amont' (did you mean 'amount'?)",
        ),
        ("user: provnce\neq: x", "<segment>:1: segment: unknown user attribute 'provnce'"),
        ("did_not: P2P_invest\nat_least: 2", "<segment>:1: segment: 'did_not' takes no at_least"),
        (
            "did: P2P_invest\nsum: platform\ngte: 1",
            "<segment>:2: segment: sum needs a numeric column of 'events', not 'platform'",
        ),
        (
            "user: register_time\nbetween: [2026-02-01, 2026-01-01]",
            "<segment>:2: segment: 'between' starts (2026-02-01) after it ends (2026-01-01)",
        ),
        ("every: []", "<segment>:1: segment: unknown condition 'every'"),
    ],
)
def test_bad_conditions_say_what_and_where(text, message):
    with pytest.raises(QueryError) as caught:
        parse_segment_text(CATALOG, text)
    assert str(caught.value).startswith(message)


def test_segment_files_report_every_problem_with_file_and_line(tmp_path):
    root = tmp_path / "metrics"
    shutil.copytree(Path(CATALOG.root) / "models", root / "models")
    shutil.copytree(Path(CATALOG.root) / "catalog", root / "catalog")
    (root / "segments").mkdir()
    (root / "segments" / "bad.yml").write_text(
        "segments:\n"
        "  - name: a\n    label: {zh: 甲, en: A}\n    where: {segment: b}\n"
        "  - name: b\n    label: {zh: 乙, en: B}\n    where: {segment: a}\n"
        "  - name: c\n    label: {zh: 丙, en: C}\n    where:\n      did: P2P_invest\n      last_days: 0\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    lines = str(caught.value).splitlines()
    assert any(
        line.endswith("bad.yml:12: segment 'c': 'last_days' must be a whole number >= 1, not 0") for line in lines
    )
    assert any(
        line.endswith("bad.yml:2: segment 'a': segment 'a' refers to itself through a → b → a") for line in lines
    )


def test_unknown_segment_and_missing_end_are_one_line_errors():
    with pytest.raises(
        QueryError, match="unknown segment 'churn_risk_redeeme' \\(did you mean 'churn_risk_redeemed'\\?\\)"
    ):
        compile_query(CATALOG, Query(metrics=("pv",), end=AS_OF, segment="churn_risk_redeeme"))
    with pytest.raises(QueryError, match="give an end date"):
        compile_query(CATALOG, Query(metrics=("pv",), segment="churn_risk_redeemed"))
