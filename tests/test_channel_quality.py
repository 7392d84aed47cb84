"""Channel quality (the shipped ``channel_funnel`` by ``channel`` and ``metrics/marketing/channels.yml``) by hand.

channel_funnel: a page view with a utm_source (step 1) → register → successful bind_card → successful P2P_invest,
within 30 days of the visit; a user counts under the channel of their earliest in-range step-1 event.

Range 2026-03-01..03-31. Per user, the channel and the deepest step (hand-derived):
  a: A1 4 (visits a on 03-02, later a visit from c on 03-05: still a), A2 4, A3 1, A4 1 (a later visit has no utm)
  b: B1 4, B2 1
  c: C1 2 (bind_card failed), C2 1 (registered on 03-02, before the 03-09 visit: out of order),
     C3 1 (visited from b on 02-27, before the range: the earliest in-range visit is from c), C4 1, C5 1, C6 1
  d: D1 3 (invests 30 days + 1 s after the visit: outside the window), D2 1, D3 1
  e: E1 4 (visits on 03-31 23:00; the later steps fall in April, after the range end: they count)
  not in the table: a crawler page view from a with no user_id; N1 registers after a page view without a utm_source.

Per channel, users at steps 1-4 and the overall conversion (step 4 / step 1):
  a 4 2 2 2  0.5  · b 2 1 1 1  0.5 · c 6 1 0 0  0 · d 3 1 1 0  0 · e 1 1 1 1  1.0
Conversion from the previous step: a 0.5, 1, 1; c 1/6, 0, NULL (0 of 0); d 1/3, 1, 0.

Odd count (03-01..03-31, five channels): traffic 1 2 3 4 6 → median 3; conversion 0 0 .5 .5 1 → median 0.5.
  a (4, .5) high/high: keep investing; b (2, .5 = the median: high) grow traffic; c (6, 0) target better;
  d (3 = the median: high, 0) target better; e (1, 1.0) grow traffic.
Even count (03-01..03-30: e's visit falls out, four channels): traffic 2 3 4 6 → median 3.5;
  conversion 0 0 .5 .5 → median 0.25. a keep investing, b grow traffic, c target better,
  d (3 < 3.5, 0) watch and adjust.
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
from semantic import load_catalog
from semantic.analyses.channel_quality import (
    channel_members,
    channel_problems,
    channel_quality,
    load_channel_spec,
)
from semantic.compiler.compile import compile_query
from semantic.compiler.dialects import DIALECTS
from semantic.drill.members import member_list
from tests.warehouse_fixtures import ENGINES, engine_warehouse, make_warehouse

PV = "$AppViewScreen"


def ev(user, time, event, utm=None, ok=None, amount=None):
    return dict(
        user_id=user,
        event_time=f"2026-{time}",
        event=event,
        utm_source=utm,
        is_success=ok,
        amount=amount,
        platform="iOS",
    )


EVENTS = [
    ev("A1", "03-02 10:00:00", PV, "a"),
    ev("A1", "03-02 10:05:00", "register", "a"),
    ev("A1", "03-03 10:00:00", "bind_card", ok=True),
    ev("A1", "03-04 10:00:00", "P2P_invest", ok=True, amount=1000.0),
    ev("A1", "03-05 10:00:00", PV, "c"),
    ev("A2", "03-03 09:00:00", PV, "a"),
    ev("A2", "03-03 09:10:00", "register", "a"),
    ev("A2", "03-03 09:20:00", "bind_card", ok=True),
    ev("A2", "03-10 09:00:00", "P2P_invest", ok=True, amount=500.0),
    ev("A3", "03-04 11:00:00", PV, "a"),
    ev("A4", "03-05 11:00:00", PV, "a"),
    ev("A4", "03-06 11:00:00", PV),
    ev(None, "03-05 12:00:00", "$pageview", "a"),
    ev("B1", "03-06 08:00:00", PV, "b"),
    ev("B1", "03-06 08:10:00", "register", "b"),
    ev("B1", "03-07 08:00:00", "bind_card", ok=True),
    ev("B1", "03-08 08:00:00", "P2P_invest", ok=True, amount=200.0),
    ev("B2", "03-07 08:00:00", PV, "b"),
    ev("C1", "03-08 08:00:00", PV, "c"),
    ev("C1", "03-08 08:05:00", "register", "c"),
    ev("C1", "03-08 08:10:00", "bind_card", ok=False),
    ev("C2", "03-02 07:00:00", "register"),
    ev("C2", "03-09 07:00:00", PV, "c"),
    ev("C3", "02-27 07:00:00", PV, "b"),
    ev("C3", "03-10 07:00:00", PV, "c"),
    ev("C4", "03-11 07:00:00", PV, "c"),
    ev("C5", "03-12 07:00:00", PV, "c"),
    ev("C6", "03-13 07:00:00", PV, "c"),
    ev("D1", "03-14 12:00:00", PV, "d"),
    ev("D1", "03-14 12:01:00", "register", "d"),
    ev("D1", "03-15 12:00:00", "bind_card", ok=True),
    ev("D1", "04-13 12:00:01", "P2P_invest", ok=True, amount=300.0),
    ev("D2", "03-16 07:00:00", PV, "d"),
    ev("D3", "03-17 07:00:00", PV, "d"),
    ev("E1", "03-31 23:00:00", PV, "e"),
    ev("E1", "04-01 09:00:00", "register", "e"),
    ev("E1", "04-02 09:00:00", "bind_card", ok=True),
    ev("E1", "04-03 09:00:00", "P2P_invest", ok=True, amount=100.0),
    ev("N1", "03-05 09:00:00", PV),
    ev("N1", "03-05 09:05:00", "register"),
]
MARCH = dict(start=date(2026, 3, 1), end=date(2026, 3, 31))
TO_30TH = dict(start=date(2026, 3, 1), end=date(2026, 3, 30))
KEEP, GROW, TARGET, WATCH = "Keep investing", "Grow traffic", "Target better", "Watch and adjust in small steps"


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    """The fixture loaded into a DuckDB file, the session's PostgreSQL server or a chdb folder (one at a time)."""
    with engine_warehouse(request, tmp_path_factory.mktemp("channels"), EVENTS, []) as opened:
        yield opened


@pytest.fixture(scope="module")
def spec(catalog):
    return load_channel_spec(catalog)


def by_channel(result):
    return {r.channel: r for r in result.rows}


def test_steps_conversions_and_odd_count_medians(catalog, spec, warehouse):
    result = channel_quality(catalog, spec, warehouse, **MARCH)
    rows = by_channel(result)
    assert [r.channel for r in result.rows] == ["c", "a", "d", "b", "e"]  # most traffic first
    assert {c: r.users for c, r in rows.items()} == {
        "a": (4, 2, 2, 2),
        "b": (2, 1, 1, 1),
        "c": (6, 1, 0, 0),
        "d": (3, 1, 1, 0),
        "e": (1, 1, 1, 1),
    }
    assert rows["a"].conversions == pytest.approx((1.0, 0.5, 1.0, 1.0))
    assert rows["c"].conversions[:3] == pytest.approx((1.0, 1 / 6, 0.0)) and rows["c"].conversions[3] is None
    assert rows["d"].conversions == pytest.approx((1.0, 1 / 3, 1.0, 0.0))
    assert {c: r.overall for c, r in rows.items()} == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.0, "d": 0.0, "e": 1.0})
    assert (result.median_traffic, result.median_conversion) == (3.0, 0.5)
    assert {c: r.strategy.en for c, r in rows.items()} == {"a": KEEP, "b": GROW, "c": TARGET, "d": TARGET, "e": GROW}
    assert rows["d"].quadrant == "high_traffic_low_conversion"  # traffic exactly at the median counts as high
    assert rows["b"].quadrant == "low_traffic_high_conversion"  # conversion exactly at the median counts as high
    assert rows["a"].strategy.zh == "持续投放"


def test_even_count_medians_are_halfway(catalog, spec, warehouse):
    result = channel_quality(catalog, spec, warehouse, **TO_30TH)
    rows = by_channel(result)
    assert set(rows) == {"a", "b", "c", "d"}
    assert (result.median_traffic, result.median_conversion) == pytest.approx((3.5, 0.25))
    assert {c: r.strategy.en for c, r in rows.items()} == {"a": KEEP, "b": GROW, "c": TARGET, "d": WATCH}


def test_where_applies_to_every_step(catalog, spec, warehouse):
    # every event of the fixture is on iOS: the filter keeps all of them; Android keeps none
    assert by_channel(channel_quality(catalog, spec, warehouse, where="platform = 'iOS'", **MARCH))["a"].users == (
        4,
        2,
        2,
        2,
    )
    empty = channel_quality(catalog, spec, warehouse, where="platform = 'Android'", **MARCH)
    assert empty.rows == () and empty.median_traffic is None


@pytest.mark.parametrize(
    ("channel", "step", "dropped", "expected"),
    [
        ("a", 1, False, ["A1", "A2", "A3", "A4"]),
        ("a", 4, False, ["A1", "A2"]),
        ("c", 3, True, ["C1"]),  # registered, never bound a card
        ("d", 4, True, ["D1"]),  # bound a card, invested outside the window
        ("e", 4, False, ["E1"]),
    ],
)
def test_channel_members_are_the_users_behind_each_step(catalog, spec, warehouse, channel, step, dropped, expected):
    members = channel_members(
        catalog, spec, channel=channel, step=step, dropped=dropped, dialect=warehouse.dialect, **MARCH
    )
    listing = member_list(catalog, members, date(2026, 4, 30), warehouse, limit=None)
    assert listing.total == len(expected)
    assert sorted(r["user_id"] for r in listing.rows) == expected


def test_channel_members_refuses_a_step_outside_the_funnel(catalog, spec):
    with pytest.raises(QueryError, match="name a step of funnel 'channel_funnel' from 1 to 4"):
        channel_members(catalog, spec, channel="a", step=5, **MARCH)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sql_compiles_for_every_dialect(catalog, spec, dialect):
    from semantic.analyses.channel_quality import channel_query

    sql = compile_query(catalog, channel_query(spec, where="platform = 'iOS'", **MARCH), dialect).sql
    assert len(sqlglot.parse(sql, read=dialect)) == 1
    members = channel_members(catalog, spec, channel="a", step=2, dialect=dialect, **MARCH)
    assert len(sqlglot.parse(members.sql(dialect=dialect), read=dialect)) == 1


# --- the YAML ----------------------------------------------------------------------------------------------------


def write_marketing(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "marketing"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "channels.yml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return tmp_path


def test_shipped_spec(spec):
    # grouped by the channel visit's own utm_source (step 1 carries one); "channel" is the user's first touch
    assert (spec.funnel, spec.dimension) == ("channel_funnel", "utm_source")
    assert spec.quadrants["low_traffic_low_conversion"].zh == "观察并小步调整"


def test_yaml_problems_have_file_and_line(catalog, tmp_path):
    root = write_marketing(
        tmp_path,
        """
        channel_quality:
          funnel: chanel_funnel
          dimension: chanel
          quadrants:
            high_traffic_high_conversion: {zh: 持续投放, en: Keep investing}
            low_traffic_high_conversion: {zh: 扩大流量}
            high_traffic_low_conversion: {zh: 优化定向, en: Target better}
          colour: red
        """,
    )
    spec, problems = channel_problems(catalog, root)
    assert spec is None
    assert sorted(f"{Path(p.file).name}:{p.line}: {p.message}" for p in problems) == sorted(
        [
            "channels.yml:2: channel_quality: unknown funnel metric 'chanel_funnel' (did you mean 'channel_funnel'?)",
            "channels.yml:4: channel_quality quadrants: missing 'low_traffic_low_conversion' (a {zh, en} strategy label)",
            "channels.yml:6: channel_quality quadrants: 'low_traffic_high_conversion' must be a mapping with zh and en strings",
            "channels.yml:8: channel_quality: unknown key 'colour'",
        ]
    )


def test_yaml_not_a_funnel_and_unknown_dimension(catalog, tmp_path):
    root = write_marketing(
        tmp_path,
        """
        channel_quality:
          funnel: registrations
        """,
    )
    _, problems = channel_problems(catalog, root)
    assert [f"{p.line}: {p.message}" for p in problems] == [
        "2: channel_quality: 'registrations' is a count_distinct metric, not a funnel",
        "2: channel_quality: missing required key 'quadrants'",
    ]
    root = write_marketing(
        tmp_path, "channel_quality:\n  funnel: channel_funnel\n  dimension: chanel\n  quadrants: {}\n"
    )
    _, problems = channel_problems(catalog, root)
    assert "3: channel_quality: unknown dimension 'chanel' (did you mean 'channel'?)" in [
        f"{p.line}: {p.message}" for p in problems
    ]


def test_yaml_syntax_error_and_missing_file(catalog, tmp_path):
    root = write_marketing(tmp_path, "channel_quality:\n  funnel: [x\n")
    with pytest.raises(CatalogError) as caught:
        load_channel_spec(catalog, root)
    assert str(caught.value).startswith(f"{root / 'marketing' / 'channels.yml'}:3: YAML syntax error")
    with pytest.raises(CatalogError, match="channels.yml:0: file not found"):
        load_channel_spec(catalog, tmp_path / "nowhere")


# --- the command line --------------------------------------------------------------------------------------------


def cli(capsys, *argv):
    parser = argparse.ArgumentParser()
    cli_marketing_views.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code = cli_marketing_views.COMMANDS[args.command](args)
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def fixture_url(tmp_path_factory):
    return make_warehouse(tmp_path_factory.mktemp("channels_cli") / "fixture.duckdb", EVENTS)


def test_cli_json(capsys, fixture_url):
    code, out = cli(capsys, "channels", "--start", "2026-03-01", "--end", "2026-03-31", "--warehouse", fixture_url)
    document = json.loads(out)
    assert code == 0
    assert (document["median_traffic"], document["median_conversion"]) == (3.0, 0.5)
    d = next(row for row in document["channels"] if row["channel"] == "d")
    assert d == {
        "channel": "d",
        "traffic": 3,
        "channel_visit_users": 3,
        "channel_visit_conversion": 1.0,
        "register_users": 1,
        "register_conversion": pytest.approx(1 / 3),
        "bind_card_users": 1,
        "bind_card_conversion": 1.0,
        "first_invest_users": 0,
        "first_invest_conversion": 0.0,
        "overall_conversion": 0.0,
        "quadrant": "high_traffic_low_conversion",
        "strategy": TARGET,
    }


def test_cli_default_range_is_the_data_span(capsys, fixture_url):
    # the data span is 02-27..04-13: C3's 02-27 visit from b is now in range and earliest, so b has 3 users
    _, out = cli(capsys, "channels", "--warehouse", fixture_url)
    document = json.loads(out)
    assert (document["start"], document["end"]) == ("2026-02-27", "2026-04-13")
    assert {row["channel"]: row["traffic"] for row in document["channels"]} == {"a": 4, "b": 3, "c": 5, "d": 3, "e": 1}


def test_cli_table(capsys, fixture_url):
    code, out = cli(
        capsys,
        "channels",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-30",
        "--format",
        "table",
        "--warehouse",
        fixture_url,
    )
    assert code == 0 and "Watch and adjust in small steps" in out and "(4 rows)" in out
    assert out.rstrip().endswith("median traffic 3.5, median overall conversion 0.25")


def test_cli_bad_date(capsys, fixture_url):
    with pytest.raises(QueryError, match="bad date '2026-13-01'"):
        cli(capsys, "channels", "--start", "2026-13-01", "--warehouse", fixture_url)


def test_catalog_still_loads_with_the_metric():
    assert load_catalog().metrics["channel_funnel"].window_seconds == 30 * 86_400


# --- the page ----------------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
# the page's default range is the data's last 30 days: 03-15..04-13 here, where d has D2 and D3 (D1 visited on
# 03-14) and e has E1: two channels, so the medians are 1.5 users and 0.5; d targets better, e grows traffic
PAGE_RANGE = dict(start=date(2026, 3, 15), end=date(2026, 4, 13))


def _problems(at) -> list[str]:
    return [e.value for e in at.exception] + [e.value for e in at.error]


def test_page_table_equals_the_semantic_layer(catalog, spec, fixture_url, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FINLENS_WAREHOUSE", fixture_url)
    at = AppTest.from_file(str(ROOT / "finlens" / "pages" / "channels.py"), default_timeout=120).run()
    assert _problems(at) == [] and at.title[0].value == "Channel quality"
    with connect(fixture_url) as opened:
        expected = channel_quality(catalog, spec, opened, **PAGE_RANGE)
    assert [r.strategy.en for r in expected.rows] == [TARGET, GROW]
    table = at.dataframe[0].value
    assert list(table["Channel"]) == ["d", "e"]
    assert list(table["1. Channel visit"]) == ["2", "1"] and list(table["4. First investment"]) == ["0", "1"]
    from semantic.catalog.formatting import format_value

    assert (
        list(table["Overall conversion"])
        == [format_value(r.overall, "percent") for r in expected.rows]
        == ["0.0%", "100.0%"]
    )
    assert list(table["Strategy"]) == [r.strategy.en for r in expected.rows]
    assert "traffic 2" not in at.caption[1].value and "1.5" in at.caption[1].value


def test_a_channel_opens_its_users_at_a_step(catalog, fixture_url, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.app_helpers import APP, follow

    monkeypatch.setenv("FINLENS_WAREHOUSE", fixture_url)
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.switch_page("finlens/pages/channels.py").run()
    assert _problems(at) == []
    pick = next(b for b in at.get("button_group") if b.key == "channels_pick")
    pick.set_value("e").run()
    steps = next(b for b in at.get("button_group") if b.key == "channels_step_e")
    labels = [o.content if hasattr(o, "content") else o for o in steps.options]
    assert labels == ["1. Channel visit (1)", "2. Register (1)", "3. Card bound (1)", "4. First investment (1)"]
    steps.set_value(labels[3]).run()
    follow(at)  # the browser opens the link the click sent it (one history entry)
    assert _problems(at) == [] and at.title[0].value == "Users behind the number"
    assert next(m.value for m in at.metric if m.label == "Users") == "1"
    assert (at.query_params["m"], at.query_params["step"]) == ("channel_funnel", "4")
