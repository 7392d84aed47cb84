"""The demo generator, checked with hand-written SQL against a real DuckDB file.

One "story" warehouse (20,000 people over 60 days) is generated per module;
its numbers are compared with the targets the product's story promises
(``ingest/README.md``), using tolerances wide enough for sampling noise and
narrow enough to catch a broken effect. Smaller warehouses check determinism.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from connectors import connect
from finlens_common.errors import IngestError
from ingest import schema
from ingest.demo import DEFAULT_DAYS, DEFAULT_END, DEFAULT_SEED, DEFAULT_USERS, DemoSummary, generate_demo

USERS, DAYS, SEED, END = 20_000, 60, 7, date(2026, 10, 31)
START = END - timedelta(days=DAYS - 1)
PAGE_VIEW = "event IN ('$AppViewScreen', '$pageview')"


def generate(path: Path, **options) -> tuple[DemoSummary, list[tuple[int, int]]]:
    calls: list[tuple[int, int]] = []
    with connect("duckdb:///" + str(path), read_only=False) as warehouse:
        summary = generate_demo(warehouse, progress=lambda done, total: calls.append((done, total)), **options)
    return summary, calls


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "story.duckdb"
    summary, calls = generate(path, users=USERS, days=DAYS, seed=SEED, end=END)
    con = duckdb.connect(str(path), read_only=True)
    yield con, summary, calls
    con.close()


@pytest.fixture
def db(story):
    return story[0]


def one(con, sql: str):
    return con.execute(sql).fetchall()[0][0]


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


# --- shape -------------------------------------------------------------------------------------------------------


def test_defaults_give_a_rich_picture():
    assert DEFAULT_DAYS >= 90 and 20_000 <= DEFAULT_USERS <= 100_000
    assert DEFAULT_SEED == 7 and DEFAULT_END == date(2026, 10, 31)


def test_summary_and_progress(story):
    con, summary, calls = story
    assert summary.users == USERS
    assert summary.events == one(con, "SELECT count(*) FROM events")
    assert (summary.start, summary.end) == (START, END)
    assert summary.seconds > 0
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(set(done)) == len(done) and done[-1] == USERS
    assert {total for _, total in calls} == {USERS}
    assert len(calls) > 1  # loaded in chunks


def test_schema_matches_ingest_schema(db):
    for table, columns in schema.TABLES.items():
        described = [(name, kind) for name, kind, *_ in rows(db, f"DESCRIBE {table}")]
        assert described == [(name, sql_type) for name, sql_type, _ in columns]


def test_event_ids_unique_and_times_in_range(db):
    assert one(db, "SELECT count(*) - count(DISTINCT event_id) FROM events") == 0
    assert one(db, "SELECT count(*) FROM events WHERE event_id IS NULL OR event_time IS NULL OR event IS NULL") == 0
    first, last = rows(db, "SELECT min(event_time), max(event_time) FROM events")[0]
    assert datetime(2026, 9, 2) <= first < datetime(2026, 9, 2, 1)
    assert datetime(2026, 10, 31, 22) <= last < datetime(2026, 11, 1)
    assert one(db, "SELECT count(*) FROM events WHERE epoch_us(event_time) % 1000000 <> 0") == 0


def test_properties_are_json_objects(db):
    assert one(db, "SELECT count(*) FROM events WHERE properties IS NULL") == 0
    assert one(db, "SELECT count(*) FROM events WHERE NOT json_valid(properties)") == 0
    assert one(db, "SELECT count(*) FROM events WHERE json_type(properties) <> 'OBJECT'") == 0
    assert one(db, "SELECT count(*) FROM events WHERE event = '$AppClick' AND properties::VARCHAR = '{}'") > 0


def test_identity_and_users_table(db):
    null_share = one(db, "SELECT avg((user_id IS NULL)::INT) FROM events")
    assert 0.001 < null_share < 0.006
    assert rows(db, "SELECT DISTINCT platform, event FROM events WHERE user_id IS NULL") == [("Web", "$pageview")]
    assert one(db, "SELECT count(*) FROM users") == USERS
    assert one(db, "SELECT count(DISTINCT user_id) FROM users") == USERS
    assert one(db, "SELECT count(DISTINCT user_id) FROM events") == USERS
    assert (
        one(
            db, "SELECT count(*) FROM users WHERE user_id NOT IN (SELECT user_id FROM events WHERE user_id IS NOT NULL)"
        )
        == 0
    )
    assert (
        one(
            db,
            "SELECT count(*) FROM users WHERE (register_time IS NOT NULL) <> regexp_full_match(user_id, 'u[0-9]{6,}')",
        )
        == 0
    )
    # Before registering people are their anonymous id; from the register event on, their user id.
    before = """FROM events e JOIN users u USING (user_id)
                WHERE u.register_time >= TIMESTAMP '2026-09-02' AND e.event_time < u.register_time"""
    assert one(db, f"SELECT count(*) {before}") > 1000
    assert one(db, f"SELECT count(*) {before} AND e.distinct_id = e.user_id") == 0
    assert one(db, "SELECT count(*) FROM events WHERE event = 'register' AND distinct_id <> user_id") == 0
    assert (
        one(
            db,
            "SELECT count(*) FROM events e JOIN users u USING (user_id) WHERE e.event = 'register' "
            "AND e.event_time <> u.register_time",
        )
        == 0
    )
    assert (
        one(db, "SELECT count(*) FROM users WHERE register_time IS NULL AND (gender IS NOT NULL OR is_real_name)") == 0
    )
    assert {r[0] for r in rows(db, "SELECT DISTINCT age_group FROM users")} == {
        "18-24",
        "25-34",
        "35-44",
        "45-54",
        "55+",
        None,
    }
    assert {r[0] for r in rows(db, "SELECT DISTINCT risk_level FROM users WHERE is_real_name")} == {
        "C1",
        "C2",
        "C3",
        "C4",
        "C5",
    }


def test_vocabulary(db):
    assert {r[0] for r in rows(db, "SELECT DISTINCT platform FROM events")} == {
        "iOS",
        "Android",
        "Web",
        "H5",
        "MiniProgram",
    }
    assert {r[0] for r in rows(db, "SELECT DISTINCT business_line FROM events")} == {
        "platform",
        "life",
        "forex",
        "p2p",
        "stock",
    }
    pages = {r[0] for r in rows(db, f"SELECT DISTINCT page FROM events WHERE {PAGE_VIEW}")}
    assert pages == {
        "home",
        "product_list",
        "product_detail",
        "register",
        "realname",
        "bind_card",
        "deposit",
        "withdraw",
        "credit_report",
        "forex_market",
        "forex_master",
        "stock_market",
        "stock_detail",
        "mall_home",
        "mall_item",
        "profile",
        "opening_screen",
        "coupon_center",
    }
    app = "platform IN ('iOS', 'Android')"
    app_only = "('$AppViewScreen', '$AppClick', '$AppStart', '$AppEnd')"
    assert one(db, f"SELECT count(*) FROM events WHERE event IN {app_only} AND NOT {app}") == 0
    assert one(db, f"SELECT count(*) FROM events WHERE event IN ('$pageview', '$WebClick') AND {app}") == 0
    assert one(db, f"SELECT count(*) FROM events WHERE (app_version IS NULL) = {app}") == 0
    versions = [
        r[0] for r in rows(db, "SELECT DISTINCT app_version FROM events WHERE app_version IS NOT NULL ORDER BY 1")
    ]
    assert versions[0] == "5.0.0" and versions[-1] == "5.3.0" and 4 <= len(versions) <= 6
    # Page views and clicks belong to their page's area; business events to their line.
    area = """CASE WHEN page LIKE 'product\\_%' ESCAPE '\\' THEN 'p2p' WHEN page LIKE 'forex\\_%' ESCAPE '\\' THEN 'forex'
                   WHEN page LIKE 'stock\\_%' ESCAPE '\\' THEN 'stock' WHEN page LIKE 'mall\\_%' ESCAPE '\\' THEN 'life'
                   ELSE 'platform' END"""
    assert (
        one(
            db,
            f"SELECT count(*) FROM events WHERE event IN ('$AppViewScreen', '$pageview', '$AppClick', '$WebClick') "
            f"AND business_line <> {area}",
        )
        == 0
    )
    expected = {
        "P2P_invest": "p2p",
        "P2P_order_submit": "p2p",
        "P2P_redeem": "p2p",
        "coupon_receive": "p2p",
        "forex_trade": "forex",
        "forex_copy": "forex",
        "stock_trade": "stock",
        "stock_portfolio_buy": "stock",
        "life_exchange": "life",
        "life_item_view": "life",
        "register": "platform",
        "bind_card": "platform",
        "deposit": "platform",
        "app_error": "platform",
        "push_send": "platform",
        "$AppStart": "platform",
    }
    got = dict(
        rows(
            db,
            "SELECT event, any_value(business_line) FROM events "
            "GROUP BY event HAVING count(DISTINCT business_line) = 1",
        )
    )
    assert {e: got.get(e) for e in expected} == expected
    assert (
        one(
            db,
            "SELECT count(*) FROM events "
            "WHERE page = 'product_detail' AND (product_id IS NULL OR product_type IS NULL)",
        )
        == 0
    )
    assert {r[0] for r in rows(db, "SELECT DISTINCT product_type FROM events WHERE product_type IS NOT NULL")} == {
        "bond",
        "stock",
        "money",
        "index",
        "mixed",
    }
    assert one(db, f"SELECT count(*) FROM events WHERE {PAGE_VIEW} AND duration IS NULL") == 0
    assert one(db, "SELECT count(*) FROM events WHERE event = '$AppEnd' AND duration IS NULL") == 0
    assert (
        one(db, "SELECT count(*) FROM events WHERE event IN ('deposit', 'withdraw', 'P2P_invest') AND amount IS NULL")
        == 0
    )
    assert (
        one(
            db,
            "SELECT count(*) FROM events WHERE is_success = false AND fail_reason IS NULL "
            "AND event IN ('realname_auth', 'bind_card', 'P2P_invest')",
        )
        == 0
    )
    assert one(db, "SELECT count(*) FROM events WHERE is_success AND fail_reason IS NOT NULL") == 0


# --- the story ---------------------------------------------------------------------------------------------------


def test_acquisition_channels(db):
    by_source = dict(
        rows(db, "SELECT utm_source, count(DISTINCT user_id) FROM events WHERE utm_source IS NOT NULL GROUP BY 1")
    )
    assert 8 <= len(by_source) <= 12
    registered = dict(
        rows(db, "SELECT utm_source, count(DISTINCT user_id) FROM events WHERE event = 'register' GROUP BY 1")
    )
    assert one(db, "SELECT count(*) FROM events WHERE event = 'register' AND utm_source IS NULL") == 0
    rate = {s: registered.get(s, 0) / n for s, n in by_source.items()}
    assert by_source["union_cps"] > 0.05 * sum(by_source.values())  # real traffic...
    assert rate["union_cps"] == 0  # ...and not one registration
    assert one(db, "SELECT count(*) FROM users WHERE register_channel = 'union_cps' AND register_time IS NOT NULL") == 0
    assert (
        one(
            db,
            "SELECT count(*) FROM events e JOIN users u USING (user_id) "
            "WHERE u.register_channel = 'union_cps' AND e.event = 'P2P_invest'",
        )
        == 0
    )
    biggest = max(by_source, key=by_source.get)
    assert biggest in ("toutiao", "douyin") and rate[biggest] < 0.12  # the feed: most traffic, poor conversion
    assert rate["invite"] > 0.5 and by_source["invite"] < 0.08 * sum(by_source.values())  # small, high quality


def conversion(db, platforms: str) -> float:
    return one(
        db,
        f"""
        SELECT count(DISTINCT user_id) FILTER (WHERE event = 'P2P_invest' AND is_success) / count(DISTINCT user_id)
        FROM events WHERE platform IN ({platforms}) AND user_id IS NOT NULL""",
    )


def test_purchase_conversion_by_platform(db):
    assert conversion(db, "'Web'") < 0.01
    assert 0.03 < conversion(db, "'iOS', 'Android'") < 0.07


def test_onboarding_drop_off(db):
    openers = f"SELECT DISTINCT user_id FROM events WHERE {PAGE_VIEW} AND page = 'bind_card'"
    bound = "SELECT DISTINCT user_id FROM events WHERE event = 'bind_card' AND is_success"
    share = one(db, f"SELECT avg((user_id IN ({bound}))::INT) FROM ({openers})")
    assert 0.2 < share < 0.36
    registered = one(db, "SELECT count(DISTINCT user_id) FROM events WHERE event = 'register'")
    verified = one(
        db,
        "SELECT count(DISTINCT user_id) FROM events WHERE event = 'realname_auth' AND is_success "
        "AND user_id IN (SELECT user_id FROM events WHERE event = 'register')",
    )
    carded = one(
        db,
        "SELECT count(DISTINCT user_id) FROM events WHERE event = 'bind_card' AND is_success "
        "AND user_id IN (SELECT user_id FROM events WHERE event = 'register')",
    )
    assert registered > verified > carded > 0
    assert one(db, "SELECT count(*) FROM events WHERE event = 'bind_card' AND NOT is_success") > 0


def test_after_binding_a_card(db):
    firsts = """SELECT user_id, min(event_time)::DATE AS day FROM events
                WHERE event = 'bind_card' AND is_success AND json_extract_string(properties, '$.card_index') = '1'
                GROUP BY user_id"""
    next_day = one(
        db,
        f"""
        SELECT avg((EXISTS (SELECT 1 FROM events s WHERE s.user_id = b.user_id AND s.event = '$AppStart'
                            AND s.event_time::DATE = b.day + 1))::INT)
        FROM ({firsts}) b WHERE b.day < DATE '{END}'""",
    )
    assert 0.2 < next_day < 0.36
    second = one(
        db,
        f"""
        SELECT avg((user_id IN (SELECT user_id FROM events WHERE event = 'bind_card' AND is_success
                                AND json_extract_string(properties, '$.card_index') = '2'))::INT)
        FROM ({firsts})""",
    )
    assert 0.3 < second < 0.5


def test_opening_screen_ab_test(db):
    exposures = """SELECT user_id, min(event_time) AS seen, min(json_extract_string(properties, '$.ab_opening_screen')) AS arm,
                          count(DISTINCT json_extract_string(properties, '$.ab_opening_screen')) AS arms
                   FROM events WHERE event = '$AppViewScreen' AND page = 'opening_screen' GROUP BY user_id"""
    assert one(db, f"SELECT max(arms) FROM ({exposures})") == 1
    result = dict(
        (arm, (n, rate))
        for arm, n, rate in rows(
            db,
            f"""
        SELECT arm, count(*), avg((EXISTS (SELECT 1 FROM events p WHERE p.user_id = x.user_id AND p.event = 'P2P_invest'
                                           AND p.is_success AND p.event_time >= x.seen))::INT)
        FROM ({exposures}) x GROUP BY arm""",
        )
    )
    assert set(result) == {"fund_security", "high_yield"}
    sizes = [n for n, _ in result.values()]
    assert min(sizes) > 0.45 * sum(sizes)
    assert 0.01 < result["fund_security"][1] < 0.04
    assert 0.10 < result["high_yield"][1] < 0.18


def test_push_campaign(db):
    groups = dict(rows(db, "SELECT campaign_group, count(*) FROM users WHERE campaign_group IS NOT NULL GROUP BY 1"))
    assert set(groups) == {"push", "holdout"} and 0.8 < groups["push"] / groups["holdout"] < 1.25
    sent = dict(
        rows(
            db,
            """SELECT u.campaign_group, count(DISTINCT e.user_id) FROM events e JOIN users u USING (user_id)
                            WHERE e.event = 'push_send' GROUP BY 1""",
        )
    )
    assert sent == {"push": groups["push"]}  # everyone in push, nobody in holdout
    assert rows(
        db,
        "SELECT DISTINCT json_extract_string(properties, '$.campaign_id') FROM events "
        "WHERE event IN ('push_send', 'push_click')",
    ) == [("reactivate_2026q4",)]
    day = one(db, "SELECT min(event_time)::DATE FROM events WHERE event = 'push_send'")
    assert day == one(db, "SELECT max(event_time)::DATE FROM events WHERE event = 'push_send'")
    assert END - timedelta(days=35) <= day <= END - timedelta(days=14)
    rate = dict(
        rows(
            db,
            f"""
        SELECT campaign_group, avg((EXISTS (SELECT 1 FROM events e WHERE e.user_id = u.user_id AND e.event = 'P2P_invest'
                   AND e.is_success AND e.event_time >= DATE '{day}' AND e.event_time < DATE '{day}' + INTERVAL 14 DAY))::INT)
        FROM users u WHERE campaign_group IS NOT NULL GROUP BY 1""",
        )
    )
    assert 0.19 < rate["push"] < 0.31
    assert 0.11 < rate["holdout"] < 0.21
    assert rate["push"] - rate["holdout"] > 0.04
    assert (
        one(
            db,
            "SELECT count(*) FROM events e JOIN users u USING (user_id) "
            "WHERE e.event = 'push_click' AND u.campaign_group IS DISTINCT FROM 'push'",
        )
        == 0
    )


def test_buggy_release_raises_errors(db):
    per_start = dict(
        rows(
            db,
            """
        SELECT app_version, count(*) FILTER (WHERE event = 'app_error') / count(*) FILTER (WHERE event = '$AppStart')
        FROM events WHERE app_version IS NOT NULL GROUP BY 1""",
        )
    )
    others = [v for k, v in per_start.items() if k != "5.2.0"]
    assert per_start["5.2.0"] > 2 * max(others)
    assert (
        one(
            db,
            "SELECT count(*) FROM events WHERE event = 'app_error' "
            "AND (page IS NULL OR json_extract_string(properties, '$.error_code') IS NULL)",
        )
        == 0
    )


def test_daily_and_weekly_rhythm(db):
    night = one(db, "SELECT avg((hour(event_time) BETWEEN 2 AND 5)::INT) FROM events")
    evening = one(db, "SELECT avg((hour(event_time) BETWEEN 19 AND 22)::INT) FROM events")
    assert night < 0.05 and evening > 4 * night
    weekend, weekday = rows(
        db,
        """
        SELECT avg(n) FILTER (WHERE dayofweek(day) IN (0, 6)), avg(n) FILTER (WHERE dayofweek(day) NOT IN (0, 6))
        FROM (SELECT event_time::DATE AS day, count(*) AS n FROM events GROUP BY 1)""",
    )[0]
    assert weekend < 0.9 * weekday
    # Visits: events a few seconds to minutes apart; visits hours or days apart.
    gaps = """SELECT date_diff('second', lag(event_time) OVER (PARTITION BY user_id ORDER BY event_time), event_time) AS gap
              FROM events WHERE user_id IS NOT NULL"""
    median, long_share = rows(db, f"SELECT median(gap), avg((gap > 3600)::INT) FROM ({gaps}) WHERE gap IS NOT NULL")[0]
    assert 3 <= median <= 120 and 0.05 < long_share < 0.4
    # New people keep arriving: registrations in both halves of the window.
    halves = rows(
        db,
        f"""SELECT event_time < DATE '{START}' + INTERVAL 30 DAY, count(*) FROM events
                          WHERE event = 'register' GROUP BY 1""",
    )
    assert len(halves) == 2 and min(n for _, n in halves) > 0.3 * sum(n for _, n in halves)


def test_monthly_purchase_cycle_and_research_bursts(db):
    gap = one(
        db,
        """
        SELECT median(date_diff('day', prev, event_time)) FROM (
            SELECT event_time, lag(event_time) OVER (PARTITION BY user_id ORDER BY event_time) AS prev
            FROM events WHERE event = 'P2P_invest' AND is_success) WHERE prev IS NOT NULL""",
    )
    assert 25 <= gap <= 40
    views = dict(
        rows(
            db,
            f"""
        SELECT date_diff('day', v.event_time::DATE, i.event_time::DATE) BETWEEN 1 AND 3, count(*)
        FROM (SELECT user_id, event_time FROM events WHERE event = 'P2P_invest' AND is_success) i
        JOIN (SELECT user_id, event_time FROM events WHERE {PAGE_VIEW} AND page = 'product_detail') v USING (user_id)
        WHERE date_diff('day', v.event_time::DATE, i.event_time::DATE) BETWEEN 1 AND 3
           OR date_diff('day', v.event_time::DATE, i.event_time::DATE) BETWEEN 8 AND 10
        GROUP BY 1""",
        )
    )
    assert views[True] > 3 * views[False]  # the days just before a purchase vs a week earlier
    redeemed = one(
        db,
        """SELECT count(*) FROM events r WHERE r.event = 'P2P_redeem' AND EXISTS (
                              SELECT 1 FROM events v WHERE v.user_id = r.user_id AND v.page = 'product_detail'
                              AND v.event_time BETWEEN r.event_time AND r.event_time + INTERVAL 3 DAY)""",
    )
    assert redeemed > 0.5 * one(
        db, "SELECT count(*) FROM events WHERE event = 'P2P_redeem' AND event_time < DATE '2026-10-28'"
    )


def test_other_business_lines(db):
    copies = [
        n
        for _, n in rows(
            db,
            """SELECT json_extract_string(properties, '$.master_id'), count(DISTINCT user_id)
                                        FROM events WHERE event = 'forex_copy' GROUP BY 1 ORDER BY 2 DESC""",
        )
    ]
    assert len(copies) >= 5 and copies[0] > 4 * copies[-1]
    assert {
        r[0]
        for r in rows(
            db, "SELECT DISTINCT json_extract_string(properties, '$.is_copy') FROM events WHERE event = 'forex_trade'"
        )
    } == {"true", "false"}
    assert {
        r[0]
        for r in rows(
            db, "SELECT DISTINCT json_extract_string(properties, '$.side') FROM events WHERE event = 'stock_trade'"
        )
    } == {"buy", "sell"}
    assert (
        one(
            db,
            """SELECT count(*) FROM events WHERE event = 'stock_trade' AND NOT (dayofweek(event_time) BETWEEN 1 AND 5
                      AND (event_time::TIME BETWEEN TIME '09:30' AND TIME '11:30'
                           OR event_time::TIME BETWEEN TIME '13:00' AND TIME '15:00'))""",
        )
        == 0
    )
    assert (
        one(
            db,
            "SELECT count(*) FROM events WHERE event = 'stock_portfolio_buy' "
            "AND (amount IS NULL OR json_extract_string(properties, '$.portfolio_id') IS NULL)",
        )
        == 0
    )
    assert (
        one(
            db,
            "SELECT count(*) FROM events WHERE event = 'life_exchange' "
            "AND (amount IS NOT NULL OR json_extract(properties, '$.points') IS NULL)",
        )
        == 0
    )
    received = one(db, "SELECT count(*) FROM events WHERE event = 'coupon_receive'")
    used = one(
        db,
        "SELECT count(*) FROM events WHERE event = 'P2P_invest' AND is_success "
        "AND json_extract_string(properties, '$.coupon_id') IS NOT NULL",
    )
    assert 0 < used < received


# --- determinism and arguments -----------------------------------------------------------------------------------


def fingerprint(path: Path, where: str = "true") -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return (
            rows(con, f"SELECT count(*), sum(hash(e)) FROM events e WHERE {where}")[0],
            rows(con, "SELECT count(*), sum(hash(u)) FROM users u")[0],
        )
    finally:
        con.close()


def test_same_seed_same_rows_other_seed_other_rows(tmp_path):
    small = dict(users=2_500, days=30, end=date(2026, 6, 30))
    generate(tmp_path / "a.duckdb", seed=3, **small)
    generate(tmp_path / "b.duckdb", seed=3, **small)
    generate(tmp_path / "c.duckdb", seed=4, **small)
    a, b, c = (fingerprint(tmp_path / f"{x}.duckdb") for x in "abc")
    assert a == b
    assert a[0] != c[0] and a[1] != c[1]


def test_a_batch_does_not_depend_on_the_total(tmp_path):
    """Each batch is seeded from (seed, batch index): more people leave the first batch's rows as they were."""
    generate(tmp_path / "few.duckdb", users=2_100, days=30, seed=5)
    generate(tmp_path / "many.duckdb", users=2_600, days=30, seed=5)
    first_batch = "event_id LIKE '000000%'"
    few, many = fingerprint(tmp_path / "few.duckdb", first_batch), fingerprint(tmp_path / "many.duckdb", first_batch)
    assert few[0] == many[0] and few[0][0] > 1000
    assert fingerprint(tmp_path / "few.duckdb") != fingerprint(tmp_path / "many.duckdb")


@pytest.mark.parametrize(
    "options, word",
    [
        ({"users": 0}, "users"),
        ({"users": -3}, "users"),
        ({"days": 0}, "days"),
        ({"users": 2.5}, "users"),
        ({"seed": -1}, "seed"),
        ({"end": "2026-10-31"}, "end"),
    ],
)
def test_bad_arguments_raise_and_leave_the_warehouse_alone(options, word):
    with connect("duckdb:///:memory:", read_only=False) as warehouse:
        warehouse.execute("CREATE TABLE events (x INTEGER)")
        with pytest.raises(IngestError) as err:
            generate_demo(warehouse, **options)
        assert word in str(err.value) and "\n" not in str(err.value)
        assert warehouse.query("SELECT count(*) FROM events").rows == [(0,)]


def test_tiny_run_and_memory_setting_restored(tmp_path):
    with connect("duckdb:///" + str(tmp_path / "tiny.duckdb"), read_only=False) as warehouse:
        before = warehouse.query("SELECT current_setting('memory_limit')").rows
        summary = generate_demo(warehouse, users=1, days=1, end=date(2026, 1, 1))
        assert warehouse.query("SELECT current_setting('memory_limit')").rows == before
        assert summary.users == 1 and summary.start == summary.end == date(2026, 1, 1)
        assert warehouse.query("SELECT count(*) FROM users").rows == [(1,)]
        assert summary.events == warehouse.query("SELECT count(*) FROM events").rows[0][0] > 0
        first, last = warehouse.query("SELECT min(event_time), max(event_time) FROM events").rows[0]
        assert datetime(2026, 1, 1) <= first and last < datetime(2026, 1, 2)
