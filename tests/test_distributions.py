"""Distributions of ``metrics/marketing/distributions.yml`` by hand, on DuckDB, PostgreSQL and chdb.

Range 2026-03-01..03-31. Events per user in the range (user_id not NULL; events before or after do not count):
  U1 7 (two invests 600 + 400, page views of home/5.1, two app_errors on home/5.1, a later $AppStart)
  U2 2 (invest 999.99, an app_error on home/5.1; an invest of 2000 on 02-28 is out of range)
  U3 3 (two page views at the same second, event ids u3a (iOS) < u3b (Android); a failed invest of 5000)
  U4 10 (invest 500000 and nine $AppEnd, platform NULL; an H5 page view on 02-27 is out of range)
  U5 5 (invest with amount 0, two page views of home/5.1, an app_error on product_detail/5.2, a page view of
        home/5.2; an app_error on 04-01 is out of range)
  U6 1 (invest with a NULL amount)   U7 4 ($AppStart on Android)
  a crawler (user_id NULL): two page views and an app_error on product_detail with no app_version.

events, edges [1, 2, 3, 5, 10, 20, 50, 100]: "1" U6 · "2" U2 · "3-4" U3, U7 · "5-9" U1 (7), U5 (5: on the edge)
  · "10-19" U4 (10: on the edge) · the rest 0. Counted 7, below 0; shares 1/7, 1/7, 2/7, 2/7, 1/7.
amount (successful P2P_invest, edges [0.01, 1000, 10000, 50000, 100000, 500000]):
  U1 600 + 400 = 1000 (on the edge) → [1000, 10000) · U2 999.99 → [0.01, 1000) · U4 500000 (on the edge) → 500000+
  · U5 total 0, below the first edge: in no bucket, below = 1 · U3 (failed only), U6 (NULL amount), U7: no total.
  Counted 3; shares 1/3 each.
platform (latest event with a platform): U1 Android (03-10; the later $AppStart has none) · U2 Web · U3 Android
  (tie at 10:00, u3b is the larger id) · U4 none in range · U5 iOS · U6 iOS · U7 Android
  → Android 3 (0.5), iOS 2 (1/3), Web 1 (1/6); counted 6.
errors by page × app_version: home/5.1: 3 errors (U1 twice, U2), 2 users, 4 page views (U1 2, U5 2) → 0.75;
  product_detail/5.2: 1 error (U5), 1 user, 0 page views → rate NULL; product_detail/NULL: 1 error (no user),
  0 users, 2 page views → 0.5; home/5.2 has page views but no error: not listed. Counted 5.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from datetime import date
from pathlib import Path

import pytest
import sqlglot

from connectors import connect
from finlens.cli import marketing as cli_marketing_views
from finlens_common.errors import CatalogError, QueryError
from semantic.analyses.distributions import distribution_problems, load_distributions
from semantic.analyses.distributions_run import (
    bucket_distribution,
    bucket_members,
    compile_distribution,
    error_distribution,
    share_distribution,
    share_members,
)
from semantic.compiler.dialects import DIALECTS
from semantic.drill.members import member_list
from tests.warehouse_fixtures import ENGINES, engine_warehouse, make_warehouse

PV = "$AppViewScreen"


def ev(user, time, event, platform=None, **extra):
    return dict(user_id=user, event_time=f"2026-{time}", event=event, platform=platform, **extra)


EVENTS = [
    ev("U1", "02-20 09:00:00", PV, "iOS"),
    ev("U1", "03-01 10:00:00", "P2P_invest", "iOS", is_success=True, amount=600.0),
    ev("U1", "03-02 10:00:00", "P2P_invest", "iOS", is_success=True, amount=400.0),
    ev("U1", "03-03 10:00:00", PV, "iOS", page="home", app_version="5.1"),
    ev("U1", "03-03 10:01:00", "app_error", "iOS", page="home", app_version="5.1"),
    ev("U1", "03-04 10:00:00", "app_error", "iOS", page="home", app_version="5.1"),
    ev("U1", "03-10 10:00:00", PV, "Android", page="home", app_version="5.1"),
    ev("U1", "03-11 10:00:00", "$AppStart"),
    ev("U2", "02-28 10:00:00", "P2P_invest", "Web", is_success=True, amount=2000.0),
    ev("U2", "03-02 10:00:00", "P2P_invest", "Web", is_success=True, amount=999.99),
    ev("U2", "03-03 10:00:00", "app_error", page="home", app_version="5.1"),
    ev("U3", "03-05 10:00:00", PV, "iOS", event_id="u3a"),
    ev("U3", "03-05 10:00:00", PV, "Android", event_id="u3b"),
    ev("U3", "03-06 10:00:00", "P2P_invest", is_success=False, amount=5000.0),
    ev("U4", "02-27 10:00:00", PV, "H5"),
    ev("U4", "03-07 10:00:00", "P2P_invest", is_success=True, amount=500000.0),
    *(ev("U4", f"03-{8 + i:02d} 10:00:00", "$AppEnd") for i in range(9)),
    ev("U5", "03-08 10:00:00", "P2P_invest", "iOS", is_success=True, amount=0.0),
    ev("U5", "03-09 10:00:00", PV, "iOS", page="home", app_version="5.1"),
    ev("U5", "03-09 10:05:00", PV, "iOS", page="home", app_version="5.1"),
    ev("U5", "03-12 10:00:00", "app_error", "iOS", page="product_detail", app_version="5.2"),
    ev("U5", "03-13 10:00:00", PV, "iOS", page="home", app_version="5.2"),
    ev("U5", "04-01 10:00:00", "app_error", "iOS", page="product_detail", app_version="5.2"),
    ev("U6", "03-14 10:00:00", "P2P_invest", "iOS", is_success=True),
    *(ev("U7", f"03-{20 + i} 10:00:00", "$AppStart", "Android") for i in range(4)),
    ev(None, "03-15 10:00:00", "$pageview", "Web", page="product_detail"),
    ev(None, "03-15 10:01:00", "$pageview", "Web", page="product_detail"),
    ev(None, "03-15 10:02:00", "app_error", "Web", page="product_detail"),
]
MARCH = dict(start=date(2026, 3, 1), end=date(2026, 3, 31))


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    """The fixture loaded into a DuckDB file, the session's PostgreSQL server or a chdb folder (one at a time)."""
    with engine_warehouse(request, tmp_path_factory.mktemp("distributions"), EVENTS, []) as opened:
        yield opened


@pytest.fixture(scope="module")
def specs(catalog):
    return load_distributions(catalog)


def test_events_buckets_with_users_on_edges(catalog, specs, warehouse):
    result = bucket_distribution(catalog, specs, "events", warehouse, **MARCH)
    assert [(r["bucket"], r["users"]) for r in result.rows] == [
        ("1", 1),
        ("2", 1),
        ("3-4", 2),
        ("5-9", 2),
        ("10-19", 1),
        ("20-49", 0),
        ("50-99", 0),
        ("100+", 0),
    ]
    assert (result.counted, result.below) == (7, 0)
    assert [r["share"] for r in result.rows] == pytest.approx([1 / 7, 1 / 7, 2 / 7, 2 / 7, 1 / 7, 0, 0, 0])
    assert (result.rows[3]["lower"], result.rows[3]["upper"], result.rows[-1]["upper"]) == (5, 10, None)


def test_amount_buckets_skip_users_without_a_total_and_count_those_below(catalog, specs, warehouse):
    result = bucket_distribution(catalog, specs, "amount", warehouse, **MARCH)
    assert [(r["bucket"], r["users"]) for r in result.rows] == [
        ("[0.01, 1000)", 1),
        ("[1000, 10000)", 1),
        ("[10000, 50000)", 0),
        ("[50000, 100000)", 0),
        ("[100000, 500000)", 0),
        ("500000+", 1),
    ]
    assert (result.counted, result.below) == (3, 1)
    assert sum(r["share"] for r in result.rows) == pytest.approx(1.0)


def test_share_by_latest_value(catalog, specs, warehouse):
    result = share_distribution(catalog, specs, "platform", warehouse, **MARCH)
    assert result.rows == [
        {"platform": "Android", "users": 3, "share": pytest.approx(0.5)},
        {"platform": "iOS", "users": 2, "share": pytest.approx(1 / 3)},
        {"platform": "Web", "users": 1, "share": pytest.approx(1 / 6)},
    ]
    assert result.counted == 6


def test_share_where_selects_events_first(catalog, specs, warehouse):
    # only iOS events: U1 (03-04 error), U3 (u3a), U5 and U6 → all four on iOS
    result = share_distribution(catalog, specs, "platform", warehouse, where="platform = 'iOS'", **MARCH)
    assert [(r["platform"], r["users"], r["share"]) for r in result.rows] == [("iOS", 4, 1.0)]


def test_errors_by_page_and_version_with_rate(catalog, specs, warehouse):
    result = error_distribution(catalog, specs, "errors", warehouse, **MARCH)
    assert result.columns == ["page", "app_version", "errors", "users", "page_views", "error_rate"]
    assert result.rows == [
        {"page": "home", "app_version": "5.1", "errors": 3, "users": 2, "page_views": 4, "error_rate": 0.75},
        {"page": "product_detail", "app_version": "5.2", "errors": 1, "users": 1, "page_views": 0, "error_rate": None},
        {"page": "product_detail", "app_version": None, "errors": 1, "users": 0, "page_views": 2, "error_rate": 0.5},
    ]
    assert result.counted == 5


@pytest.mark.parametrize(
    ("name", "bucket", "expected"),
    [
        ("events", "5-9", {"U1": 7, "U5": 5}),
        ("events", 5, {"U4": 10}),
        ("amount", "500000+", {"U4": 500000}),
        ("amount", "[0.01, 1000)", {"U2": 999.99}),
    ],
)
def test_bucket_members(catalog, specs, warehouse, name, bucket, expected):
    members = bucket_members(catalog, specs, name, bucket, dialect=warehouse.dialect, **MARCH)
    listing = member_list(catalog, members, date(2026, 3, 31), warehouse, extra=("value",), limit=None)
    assert listing.total == len(expected)
    assert {r["user_id"]: r["value"] for r in listing.rows} == pytest.approx(expected)


def test_share_members(catalog, specs, warehouse):
    members = share_members(catalog, specs, "platform", "Android", dialect=warehouse.dialect, **MARCH)
    listing = member_list(catalog, members, date(2026, 3, 31), warehouse, limit=None)
    assert sorted(r["user_id"] for r in listing.rows) == ["U1", "U3", "U7"]


def test_bad_names_are_one_line_query_errors(catalog, specs):
    with pytest.raises(QueryError, match=r"unknown distribution 'event' \(did you mean 'events'\?\)"):
        compile_distribution(catalog, specs, "event", **MARCH)
    with pytest.raises(
        QueryError, match=r"has no bucket '3-5'.*; buckets: 1, 2, 3-4, 5-9, 10-19, 20-49, 50-99, 100\+$"
    ):
        bucket_members(catalog, specs, "events", "3-5", **MARCH)
    with pytest.raises(QueryError, match="buckets 1 to 8, not 9"):
        bucket_members(catalog, specs, "events", 9, **MARCH)
    with pytest.raises(QueryError, match="unknown dimension 'platfrom'"):
        compile_distribution(catalog, specs, "events", where="platfrom = 'iOS'", **MARCH)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sql_compiles_for_every_dialect(catalog, specs, dialect):
    for name in specs:
        sql = compile_distribution(
            catalog, specs, name, dialect, where="platform = 'iOS' AND register_channel = 'x'", **MARCH
        )
        assert len(sqlglot.parse(sql, read=dialect)) == 1, name
    for select in (
        bucket_members(catalog, specs, "amount", 2, dialect=dialect, **MARCH),
        share_members(catalog, specs, "province", "Beijing", dialect=dialect, **MARCH),
    ):
        assert len(sqlglot.parse(select.sql(dialect=dialect), read=dialect)) == 1


def test_user_values_stay_literals(catalog, specs):
    sql = compile_distribution(catalog, specs, "platform", where="platform = 'x'' OR 1=1 --'", **MARCH)
    literals = [
        lit.this for lit in sqlglot.parse_one(sql, read="duckdb").find_all(sqlglot.exp.Literal) if lit.is_string
    ]
    assert "x' OR 1=1 --" in literals


# --- the YAML ----------------------------------------------------------------------------------------------------


def problems(catalog, tmp_path: Path, text: str) -> list[str]:
    folder = tmp_path / "marketing"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "distributions.yml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    _, found = distribution_problems(catalog, tmp_path)
    return [f"{Path(p.file).name}:{p.line}: {p.message}" for p in found]


def test_shipped_labels(specs):
    assert list(specs) == ["events", "amount", "app_version", "platform", "device_model", "province", "errors"]
    assert specs["events"].bucket_labels() == ["1", "2", "3-4", "5-9", "10-19", "20-49", "50-99", "100+"]
    assert specs["platform"].label.en == "Platform"


def test_yaml_problems_have_file_and_line(catalog, tmp_path):
    got = problems(
        catalog,
        tmp_path,
        """
        distributions:
          - name: sizes
            type: buckets
            label: {zh: 甲, en: A}
            edges: [1, 5, 3]
          - name: money
            type: buckets
            label: {zh: 乙, en: B}
            amount: amout
            edges: [0, 10]
          - name: where
            type: share
            dimension: platfrom
          - name: broken
            type: errors
            label: {zh: 丙, en: C}
            by: [page, versio]
            filter: "SUM(amount) > 0"
          - name: odd
            type: histogram
          - name: sizes
            type: share
            dimension: province
        """,
    )
    assert got == [
        "distributions.yml:5: distribution 'sizes': 'edges' must increase strictly, got [1, 5, 3]",
        "distributions.yml:9: distribution 'money': amount: unknown column 'amout' (did you mean 'amount'?)",
        "distributions.yml:10: distribution 'money': the first edge must be above 0 (users with a zero total are in no bucket), got 0",
        "distributions.yml:13: distribution 'where': unknown dimension 'platfrom' (did you mean 'platform'?)",
        "distributions.yml:17: distribution 'broken': unknown dimension 'versio' (did you mean 'app_version'?)",
        "distributions.yml:18: distribution 'broken': filter may not contain an aggregate (SUM(amount))",
        "distributions.yml:20: distribution 'odd': type 'histogram' is not one of buckets, share, errors",
    ]


def test_yaml_duplicate_and_syntax_error(catalog, tmp_path):
    got = problems(
        catalog,
        tmp_path,
        """
        distributions:
          - {name: p, type: share, dimension: platform}
          - {name: p, type: share, dimension: province}
        """,
    )
    assert len(got) == 1 and got[0].startswith("distributions.yml:3: duplicate distribution 'p' (first defined at ")
    assert got[0].endswith("distributions.yml:2)")
    with pytest.raises(CatalogError, match=r"distributions.yml:3: YAML syntax error"):
        (tmp_path / "marketing" / "distributions.yml").write_text("distributions:\n  - {name: [x\n", encoding="utf-8")
        load_distributions(catalog, tmp_path)


# --- the command line --------------------------------------------------------------------------------------------


def cli(capsys, *argv):
    parser = argparse.ArgumentParser()
    cli_marketing_views.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code = cli_marketing_views.COMMANDS[args.command](args)
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def fixture_url(tmp_path_factory):
    return make_warehouse(tmp_path_factory.mktemp("distributions_cli") / "fixture.duckdb", EVENTS)


def test_cli_buckets_json(capsys, fixture_url):
    code, out = cli(
        capsys, "distribution", "amount", "--start", "2026-03-01", "--end", "2026-03-31", "--warehouse", fixture_url
    )
    document = json.loads(out)
    assert code == 0
    assert {k: document[k] for k in ("name", "type", "start", "end", "counted", "below")} == {
        "name": "amount",
        "type": "buckets",
        "start": "2026-03-01",
        "end": "2026-03-31",
        "counted": 3,
        "below": 1,
    }
    assert [r["users"] for r in document["rows"]] == [1, 1, 0, 0, 0, 1]


def test_cli_errors_table_and_default_range(capsys, fixture_url):
    # the data span is 02-20..04-01: U5's error on 04-01 now counts on product_detail/5.2
    code, out = cli(capsys, "distribution", "errors", "--format", "table", "--warehouse", fixture_url)
    assert code == 0
    lines = out.splitlines()
    assert lines[2].split() == ["home", "5.1", "3", "2", "4", "0.75"]
    assert lines[3].split() == ["product_detail", "5.2", "2", "1", "0", "NULL"]
    assert lines[-1] == "2026-02-20 – 2026-04-01: 6 error events counted"


def test_cli_unknown_distribution(capsys, fixture_url):
    with pytest.raises(QueryError, match="unknown distribution 'provinces'"):
        cli(capsys, "distribution", "provinces", "--warehouse", fixture_url)


# --- the page ----------------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
# the page's default range is the data's last 30 days: 03-03..04-01 here
PAGE_RANGE = dict(start=date(2026, 3, 3), end=date(2026, 4, 1))


def _problems(at) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error]


def test_page_buckets_equal_the_semantic_layer_and_open_members(catalog, specs, fixture_url, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FINLENS_WAREHOUSE", fixture_url)
    at = AppTest.from_file(str(ROOT / "finlens" / "pages" / "distributions.py"), default_timeout=120).run()
    assert _problems(at) == [] and at.title[0].value == "Distributions"
    with connect(fixture_url) as opened:
        expected = bucket_distribution(catalog, specs, "events", opened, **PAGE_RANGE)
    # from 03-03: U1 loses both invests (5 events), U2 its invest (1): "1" U2, U6 · "3-4" U3, U7 · "5-9" U1, U5 · "10-19" U4
    assert [r["users"] for r in expected.rows] == [2, 0, 2, 2, 1, 0, 0, 0]
    table = at.dataframe[0].value
    assert list(table["Users"]) == [r["users"] for r in expected.rows]
    assert at.caption[2].value.startswith(f"{expected.counted} users counted")
    pick = next(b for b in at.get("button_group") if b.key == "bucket_events")
    pick.set_value("5-9").run()
    assert _problems(at) == []
    assert next(m.value for m in at.metric if m.label == "Users") == "2"
    assert sorted(at.dataframe[1].value["user_id"]) == ["U1", "U5"]
    assert at.get("download_button")


def test_page_errors_and_shares(catalog, specs, fixture_url, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FINLENS_WAREHOUSE", fixture_url)
    at = AppTest.from_file(str(ROOT / "finlens" / "pages" / "distributions.py"), default_timeout=120).run()
    at.selectbox(key="distribution").set_value("errors").run()
    assert _problems(at) == []
    with connect(fixture_url) as opened:
        expected = error_distribution(catalog, specs, "errors", opened, **PAGE_RANGE)
    table = at.dataframe[0].value
    assert list(table["errors"]) == [r["errors"] for r in expected.rows] == [3, 2, 1]
    at.selectbox(key="distribution").set_value("platform").run()
    assert _problems(at) == []
    with connect(fixture_url) as opened:
        shares = share_distribution(catalog, specs, "platform", opened, **PAGE_RANGE)
    assert list(at.dataframe[0].value["Users"]) == [r["users"] for r in shares.rows]
