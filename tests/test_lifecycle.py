"""Lifecycle stages and RFM on investments, worked out by hand, on DuckDB, PostgreSQL and chdb.

As of D = 2026-03-31 (events up to 2026-03-31 23:59:59); the shipped ``metrics/marketing/lifecycle.yml``:
an investment is a ``P2P_invest`` with ``is_success``, amount ``amount``; a redemption a ``P2P_redeem``;
RFM lookback 365 days = 2025-04-01 .. 2026-03-31; high from score 3.

Stages (14 users in the users table):

  user  registered           investments by D (successful)            redemptions by D      stage
  H1    2025-01-01           01-05, 02-05, 03-05, 03-31 09:00          -                     holding
        (an invest 2026-04-01 00:00:00 of 50000 and a redeem 04-01 10:00 are after D: ignored)
  K1    2025-06-01           03-01, 03-16 12:00                        -                     holding
  W1    2025-06-01           01-20, 02-20, 03-20 09:00                 03-25                 redeemed
  S1    2025-06-01           03-01, 03-10, 03-20 10:00:00              03-20 10:00:00        holding (same instant)
  B1    2025-06-01           02-01, 03-01 08:00                        02-20 (before last)   holding
  T1    2025-06-01           02-15, 03-01 12:00 (a failed one 03-20)   -                     holding
  R1    2025-06-01           2026-01-10                                03-10                 redeemed
  X1    NULL                 03-26                                     -                     holding (never registered, invested)
  O1    2024-01-01           2025-03-31 23:59:59, 2025-04-01 00:00     2025-06-01            redeemed
  G1    2026-03-01           03-11                                     -                     holding
  N1    2026-01-10           none (one failed 02-01)                   -                     new
  N2    2026-03-31 23:00     none                                      03-31 23:30           new (a redemption alone)
  V1    NULL                 none (page views only)                    -                     visitor
  V2    2026-04-02           none by D (one on 04-03)                  -                     visitor (registered after D)
  (an anonymous P2P_invest without user_id is in no stage and no RFM)

  → visitor 2, new 2, holding 7, redeemed 3 (shares /14).
  As of 2026-04-02 instead: H1's 04-01 investment and later redemption count → redeemed; V2 registered → new:
  visitor 1, new 3, holding 6, redeemed 4.

RFM: n = 10 investing users in the lookback (O1's 2025-03-31 23:59:59 investment of 9000 is 1 s before it).
With n = 10, score = floor(5 (r - 1) / 10) + 1 = floor((r - 1) / 2) + 1: ranks 1,2 → 1; 3,4 → 2; 5,6 → 3;
7,8 → 4; 9,10 → 5; tied values share their lowest rank.

  user  recency  freq  monetary            R rank→score  F rank→score  M rank→score  group
  H1     0       4     4 x 2000 = 8000     10 → 5        10 → 5        9 → 5         important_value
  K1    15       2     2 x 2500 = 5000      6 → 3         5 → 3        7 → 4         important_value
  W1    11       3     3 x 4000 = 12000     7 → 4         8 → 4       10 → 5         important_value
  S1    11       3     3 x 500  = 1500      7 → 4         8 → 4        3 → 2         general_value
  B1    30       2     2 x 1500 = 3000      3 → 2         5 → 3        5 → 3         important_keep
  T1    30       2     2 x 750  = 1500      3 → 2         5 → 3        3 → 2         general_keep
  R1    80       1     5000                 2 → 1         1 → 1        7 → 4         important_retain
  X1     5       1     4500                 9 → 5         1 → 1        6 → 3         important_develop
  O1   364       1     700                  1 → 1         1 → 1        1 → 1         general_retain
  G1    20       1     1000                 5 → 3         1 → 1        2 → 1         general_develop

Recency is days from the last investment's date to D: 2026-01-10 → 80 (21 + 28 + 31), 2025-04-01 → 364.
R ranks recency descending (364, 80, 30, 30, 20, 15, 11, 11, 5, 0), F and M ascending; the failed 99999
investment of T1 and H1's 50000 after D would change T1's and H1's values if they counted.
Thresholds (min..max per score): R 1: 80..364 (2 users), 2: 30..30 (2), 3: 15..20 (2), 4: 11..11 (2),
5: 0..5 (2); F 1: 1..1 (4), 3: 2..2 (3), 4: 3..3 (2), 5: 4..4 (1) (no user scores 2); M 1: 700..1000,
2: 1500..1500, 3: 3000..4500, 4: 5000..5000, 5: 8000..12000 (2 users each).
important_value averages: recency (0 + 15 + 11) / 3, frequency 3, monetary 25000 / 3.
With lookback_days 1 (only D): H1 alone, 1 investment of 2000, n = 1, every score 1 → general_retain.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlglot

from connectors import connect
from finlens_common.errors import CatalogError, QueryError
from semantic.analyses.lifecycle import GROUPS, STAGES, lifecycle_problems, load_lifecycle
from semantic.analyses.lifecycle_sql import build_lifecycle, build_rfm, lifecycle_members, rfm_members, to_sql
from semantic.analyses.lifecycle_summary import (
    compile_lifecycle_summary,
    compile_rfm_summary,
    lifecycle_summary,
    rfm_summary,
    run_rows,
)
from semantic.catalog.loader import load_catalog
from semantic.compiler.dialects import DIALECTS
from semantic.drill.members import member_ids, member_list
from tests.warehouse_fixtures import load, make_warehouse

PROJECT = Path(__file__).resolve().parent.parent
D = date(2026, 3, 31)
ENGINES = ("duckdb", "postgres", "chdb")


def ev(user, time, event, amount=None, ok=None):
    return {"user_id": user, "event_time": time, "event": event, "amount": amount, "is_success": ok}


def inv(user, time, amount, ok=True):
    return ev(user, time, "P2P_invest", amount, ok)


def red(user, time):
    return ev(user, time, "P2P_redeem", 1000.0, True)


EVENTS = [
    inv("H1", "2026-01-05 10:00:00", 2000.0),
    inv("H1", "2026-02-05 10:00:00", 2000.0),
    inv("H1", "2026-03-05 10:00:00", 2000.0),
    inv("H1", "2026-03-31 09:00:00", 2000.0),
    inv("H1", "2026-04-01 00:00:00", 50000.0),
    red("H1", "2026-04-01 10:00:00"),
    inv("K1", "2026-03-01 12:00:00", 2500.0),
    inv("K1", "2026-03-16 12:00:00", 2500.0),
    inv("W1", "2026-01-20 09:00:00", 4000.0),
    inv("W1", "2026-02-20 09:00:00", 4000.0),
    inv("W1", "2026-03-20 09:00:00", 4000.0),
    red("W1", "2026-03-25 09:00:00"),
    inv("S1", "2026-03-01 10:00:00", 500.0),
    inv("S1", "2026-03-10 10:00:00", 500.0),
    inv("S1", "2026-03-20 10:00:00", 500.0),
    red("S1", "2026-03-20 10:00:00"),
    inv("B1", "2026-02-01 08:00:00", 1500.0),
    red("B1", "2026-02-20 08:00:00"),
    inv("B1", "2026-03-01 08:00:00", 1500.0),
    inv("T1", "2026-02-15 12:00:00", 750.0),
    inv("T1", "2026-03-01 12:00:00", 750.0),
    inv("T1", "2026-03-20 12:00:00", 99999.0, ok=False),
    inv("R1", "2026-01-10 12:00:00", 5000.0),
    red("R1", "2026-03-10 12:00:00"),
    inv("X1", "2026-03-26 12:00:00", 4500.0),
    inv("O1", "2025-03-31 23:59:59", 9000.0),
    inv("O1", "2025-04-01 00:00:00", 700.0),
    red("O1", "2025-06-01 12:00:00"),
    inv("G1", "2026-03-11 12:00:00", 1000.0),
    inv("N1", "2026-02-01 12:00:00", 3000.0, ok=False),
    red("N2", "2026-03-31 23:30:00"),
    ev("V1", "2026-03-30 12:00:00", "$AppViewScreen"),
    ev("V1", "2026-03-30 12:05:00", "$AppViewScreen"),
    inv("V2", "2026-04-03 12:00:00", 800.0),
    inv(None, "2026-03-15 12:00:00", 100000.0),
]
USERS = [
    {"user_id": "H1", "register_time": "2025-01-01 00:00:00"},
    {"user_id": "O1", "register_time": "2024-01-01 00:00:00"},
    *({"user_id": u, "register_time": "2025-06-01 00:00:00"} for u in ("K1", "W1", "S1", "B1", "T1", "R1")),
    {"user_id": "X1", "register_time": None},
    {"user_id": "G1", "register_time": "2026-03-01 00:00:00"},
    {"user_id": "N1", "register_time": "2026-01-10 00:00:00"},
    {"user_id": "N2", "register_time": "2026-03-31 23:00:00"},
    {"user_id": "V1", "register_time": None},
    {"user_id": "V2", "register_time": "2026-04-02 00:00:00"},
]
STAGE_OF = {
    "H1": "holding",
    "K1": "holding",
    "W1": "redeemed",
    "S1": "holding",
    "B1": "holding",
    "T1": "holding",
    "R1": "redeemed",
    "X1": "holding",
    "O1": "redeemed",
    "G1": "holding",
    "N1": "new",
    "N2": "new",
    "V1": "visitor",
    "V2": "visitor",
}
# user: (recency_days, frequency, monetary, r_score, f_score, m_score, rfm_group)
RFM = {
    "H1": (0, 4, 8000.0, 5, 5, 5, "important_value"),
    "K1": (15, 2, 5000.0, 3, 3, 4, "important_value"),
    "W1": (11, 3, 12000.0, 4, 4, 5, "important_value"),
    "S1": (11, 3, 1500.0, 4, 4, 2, "general_value"),
    "B1": (30, 2, 3000.0, 2, 3, 3, "important_keep"),
    "T1": (30, 2, 1500.0, 2, 3, 2, "general_keep"),
    "R1": (80, 1, 5000.0, 1, 1, 4, "important_retain"),
    "X1": (5, 1, 4500.0, 5, 1, 3, "important_develop"),
    "O1": (364, 1, 700.0, 1, 1, 1, "general_retain"),
    "G1": (20, 1, 1000.0, 3, 1, 1, "general_develop"),
}


def catalog_root(folder: Path, lifecycle_text: str | None = None) -> Path:
    """The shipped models, metrics and lifecycle file (or ``lifecycle_text``) in a folder of their own."""
    for name in ("models", "catalog"):
        shutil.copytree(PROJECT / "metrics" / name, folder / name)
    (folder / "marketing").mkdir()
    text = (
        lifecycle_text
        if lifecycle_text is not None
        else (PROJECT / "metrics" / "marketing" / "lifecycle.yml").read_text(encoding="utf-8")
    )
    (folder / "marketing" / "lifecycle.yml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return catalog_root(tmp_path_factory.mktemp("lifecycle_catalog"))


@pytest.fixture(scope="module")
def cat(root):
    return load_catalog(root)


@pytest.fixture(scope="module")
def spec(cat, root):
    return load_lifecycle(cat, root)


@pytest.fixture(scope="module")
def duckdb_url(tmp_path_factory):
    return make_warehouse(tmp_path_factory.mktemp("lifecycle") / "fixture.duckdb", EVENTS, USERS)


@pytest.fixture(scope="module")
def warehouses(duckdb_url, postgres_server):
    """engine → open warehouse holding the fixture."""
    chdb_dir = Path(tempfile.mkdtemp(prefix="finlens-chdb-"))
    opened = {"duckdb": connect(duckdb_url)}
    try:
        for name, url in (("postgres", postgres_server.url), ("chdb", f"chdb:///{chdb_dir}")):
            with connect(url, read_only=False) as loader:
                load(loader, EVENTS, USERS)
            opened[name] = connect(postgres_server.reader(url) if name == "postgres" else url)
        yield opened
    finally:
        for warehouse in opened.values():
            warehouse.close()
        shutil.rmtree(chdb_dir, ignore_errors=True)


def rows_of(select, warehouse):
    return run_rows(to_sql(select, warehouse.dialect), warehouse)


@pytest.mark.parametrize("engine", ENGINES)
def test_stages(engine, warehouses, cat, spec):
    warehouse = warehouses[engine]
    rows = {r["user_id"]: r for r in rows_of(build_lifecycle(cat, spec, D, warehouse.dialect), warehouse)}
    assert {u: r["stage"] for u, r in rows.items()} == STAGE_OF
    assert list(rows_of(build_lifecycle(cat, spec, D, warehouse.dialect), warehouse)[0]) == [
        "user_id",
        "stage",
        "last_invest",
        "last_redeem",
        "invest_count",
    ]
    # the same instant counts as not after: S1 holds; H1's investment and redemption after D are not seen
    assert (rows["S1"]["last_invest"], rows["S1"]["last_redeem"]) == ("2026-03-20 10:00:00", "2026-03-20 10:00:00")
    assert (rows["H1"]["last_invest"], rows["H1"]["last_redeem"], rows["H1"]["invest_count"]) == (
        "2026-03-31 09:00:00",
        None,
        4,
    )
    assert (rows["B1"]["last_invest"], rows["B1"]["last_redeem"]) == ("2026-03-01 08:00:00", "2026-02-20 08:00:00")
    assert (rows["O1"]["invest_count"], rows["O1"]["last_invest"]) == (2, "2025-04-01 00:00:00")
    assert (rows["T1"]["invest_count"], rows["N1"]["invest_count"], rows["V2"]["invest_count"]) == (2, 0, 0)
    assert (rows["N2"]["last_invest"], rows["N2"]["last_redeem"]) == (None, "2026-03-31 23:30:00")


@pytest.mark.parametrize("engine", ENGINES)
def test_stage_summary_and_a_later_day(engine, warehouses, cat, spec):
    warehouse = warehouses[engine]
    summary = lifecycle_summary(cat, spec, D, warehouse)
    assert [(r["stage"], r["users"]) for r in summary.rows] == [
        ("visitor", 2),
        ("new", 2),
        ("holding", 7),
        ("redeemed", 3),
    ]
    assert [r["share"] for r in summary.rows] == pytest.approx([2 / 14, 2 / 14, 7 / 14, 3 / 14])
    assert summary.total == 14
    later = lifecycle_summary(cat, spec, date(2026, 4, 2), warehouse)
    assert [(r["stage"], r["users"]) for r in later.rows] == [
        ("visitor", 1),
        ("new", 3),
        ("holding", 6),
        ("redeemed", 4),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_rfm_values_scores_and_groups(engine, warehouses, cat, spec):
    warehouse = warehouses[engine]
    rows = rows_of(build_rfm(cat, spec, D, warehouse.dialect), warehouse)
    assert list(rows[0]) == [
        "user_id",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_group",
    ]
    got = {
        r["user_id"]: (
            r["recency_days"],
            r["frequency"],
            r["monetary"],
            r["r_score"],
            r["f_score"],
            r["m_score"],
            r["rfm_group"],
        )
        for r in rows
    }
    assert got == RFM
    assert all(isinstance(r["recency_days"], int) and isinstance(r["r_score"], int) for r in rows)


@pytest.mark.parametrize("engine", ENGINES)
def test_rfm_summary(engine, warehouses, cat, spec):
    summary = rfm_summary(cat, spec, D, warehouses[engine])
    assert summary.start == date(2025, 4, 1) and summary.total == 10
    users = {r["rfm_group"]: r["users"] for r in summary.rows}
    assert [r["rfm_group"] for r in summary.rows] == list(GROUPS)
    assert users == {
        "important_value": 3,
        "important_develop": 1,
        "important_keep": 1,
        "important_retain": 1,
        "general_value": 1,
        "general_develop": 1,
        "general_keep": 1,
        "general_retain": 1,
    }
    value = summary.rows[0]
    assert value["share"] == pytest.approx(0.3)
    assert (value["avg_recency_days"], value["avg_frequency"], value["avg_monetary"]) == pytest.approx(
        (26 / 3, 3.0, 25000 / 3)
    )
    thresholds = [(t["measure"], t["score"], t["users"], t["min_value"], t["max_value"]) for t in summary.thresholds]
    assert thresholds == [
        ("recency_days", 1, 2, 80, 364),
        ("recency_days", 2, 2, 30, 30),
        ("recency_days", 3, 2, 15, 20),
        ("recency_days", 4, 2, 11, 11),
        ("recency_days", 5, 2, 0, 5),
        ("frequency", 1, 4, 1, 1),
        ("frequency", 3, 3, 2, 2),
        ("frequency", 4, 2, 3, 3),
        ("frequency", 5, 1, 4, 4),
        ("monetary", 1, 2, 700, 1000),
        ("monetary", 2, 2, 1500, 1500),
        ("monetary", 3, 2, 3000, 4500),
        ("monetary", 4, 2, 5000, 5000),
        ("monetary", 5, 2, 8000, 12000),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_members_by_stage_group_and_scores(engine, warehouses, cat, spec):
    warehouse = warehouses[engine]
    new = rows_of(lifecycle_members(cat, spec, D, warehouse.dialect, stage="new"), warehouse)
    assert sorted(r["user_id"] for r in new) == ["N1", "N2"]
    assert member_ids(lifecycle_members(cat, spec, D, warehouse.dialect, stage="redeemed"), warehouse) == [
        "O1",
        "R1",
        "W1",
    ]
    assert len(member_ids(lifecycle_members(cat, spec, D, warehouse.dialect), warehouse)) == 14
    assert member_ids(rfm_members(cat, spec, D, warehouse.dialect, group="important_value"), warehouse) == [
        "H1",
        "K1",
        "W1",
    ]
    assert member_ids(rfm_members(cat, spec, D, warehouse.dialect, r=2), warehouse) == ["B1", "T1"]
    assert member_ids(rfm_members(cat, spec, D, warehouse.dialect, f=1, m=1), warehouse) == ["G1", "O1"]
    assert member_ids(rfm_members(cat, spec, D, warehouse.dialect, f=2), warehouse) == []
    # the shared member list: V1's two page views on 03-30 are one visit in the 30 days ending on D
    listing = member_list(
        cat,
        lifecycle_members(cat, spec, D, warehouse.dialect, stage="visitor"),
        D,
        warehouse,
        extra=("stage", "invest_count"),
    )
    assert listing.total == 2
    assert [(r["user_id"], r["visits_30d"], r["stage"], r["invest_count"]) for r in listing.rows] == [
        ("V1", 1, "visitor", 0),
        ("V2", 0, "visitor", 0),
    ]


def test_bad_member_filters_are_one_line_errors(cat, spec):
    with pytest.raises(QueryError, match=r"unknown stage 'holdng' \(did you mean 'holding'\?\)"):
        lifecycle_members(cat, spec, D, "duckdb", stage="holdng")
    with pytest.raises(QueryError, match="unknown RFM group 'important'"):
        rfm_members(cat, spec, D, "duckdb", group="important")
    with pytest.raises(QueryError, match="the R score must be a whole number from 1 to 5, not 6"):
        rfm_members(cat, spec, D, "duckdb", r=6)
    with pytest.raises(QueryError, match="unknown dialect"):
        build_rfm(cat, spec, D, "oracle")


def test_a_one_day_lookback(tmp_path, duckdb_url):
    text = (
        (PROJECT / "metrics" / "marketing" / "lifecycle.yml")
        .read_text(encoding="utf-8")
        .replace("lookback_days: 365", "lookback_days: 1")
    )
    root = catalog_root(tmp_path, text)
    catalog = load_catalog(root)
    spec = load_lifecycle(catalog, root)
    with connect(duckdb_url) as warehouse:
        rows = rows_of(build_rfm(catalog, spec, D, "duckdb"), warehouse)
    assert rows == [
        {
            "user_id": "H1",
            "recency_days": 0,
            "frequency": 1,
            "monetary": 2000.0,
            "r_score": 1,
            "f_score": 1,
            "m_score": 1,
            "rfm_group": "general_retain",
        }
    ]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_statement_compiles_for_every_dialect(dialect, cat, spec):
    statements = [
        to_sql(build_lifecycle(cat, spec, D, dialect), dialect),
        to_sql(build_rfm(cat, spec, D, dialect), dialect),
        to_sql(lifecycle_members(cat, spec, D, dialect, stage="new"), dialect),
        to_sql(rfm_members(cat, spec, D, dialect, group="general_keep", r=1, f=3, m=5), dialect),
        compile_lifecycle_summary(cat, spec, D, dialect),
        *compile_rfm_summary(cat, spec, D, dialect),
    ]
    for sql in statements:
        assert sqlglot.parse_one(sql, read=dialect) is not None
    assert "RANK()" in statements[1].upper()
    # the filter and the dates are literals in the statement, not spliced names
    assert "'P2P_invest'" in statements[1] and "2025-04-01 00:00:00" in statements[1]


BROKEN = """\
model: events
users: {model: userz, registered: register_time}
invest: {event: P2P_invest, filter: "is_sucess", amount: amount, amout: 1}
redeem: {event: P2P_redeem, filter: "SUM(amount) > 0"}
stages:
  - {name: visitor, label: {zh: 访客, en: Visitor}}
  - {name: nwe, label: {zh: 新客, en: New}}
  - {name: holding, label: {zh: 持有, en: Holding}}
  - {name: holding, label: {zh: 持有, en: Holding}}
rfm:
  lookback_days: 0
  high_from: 6
  groups:
    - {name: important_value, label: {zh: 重要价值客户, en: Important value}}
extra: 1
"""


def test_every_yaml_mistake_is_reported_with_file_and_line(tmp_path):
    root = catalog_root(tmp_path, BROKEN)
    catalog = load_catalog(root)
    spec, problems = lifecycle_problems(catalog, root)
    assert spec is None
    lines = {(p.line, p.message) for p in problems}
    assert all(p.file.endswith("marketing/lifecycle.yml") for p in problems)
    expected = [
        (15, "unknown key 'extra'"),
        (2, "unknown model 'userz' (did you mean 'users'?)"),
        (3, "unknown key 'amout' (did you mean 'amount'?)"),
        (3, "unknown column 'is_sucess' (did you mean 'is_success'?)"),
        (4, "may not contain an aggregate"),
        (7, "unknown stage 'nwe' (did you mean 'new'?)"),
        (9, "stage 'holding' is listed twice"),
        (5, "missing 'new', 'redeemed'"),
        (11, "'lookback_days' must be a whole number >= 1, not 0"),
        (12, "'high_from' must be a score from 1 to 5, not 6"),
        (13, "missing 'important_develop'"),
    ]
    for line, text in expected:
        assert any(found_line == line and text in message for found_line, message in lines), (line, text, sorted(lines))
    with pytest.raises(CatalogError) as caught:
        load_lifecycle(catalog, root)
    assert all(":" in line and "Traceback" not in line for line in str(caught.value).splitlines())


def test_missing_keys_and_a_missing_file(tmp_path):
    root = catalog_root(tmp_path, "model: events\ninvest: {filter: is_success}\n")
    catalog = load_catalog(root)
    _, problems = lifecycle_problems(catalog, root)
    messages = [str(p) for p in problems]
    assert any(":2: lifecycle invest: missing required key 'event'" in m for m in messages)
    assert any(":2: lifecycle invest: missing required key 'amount'" in m for m in messages)
    assert any(":1: lifecycle: missing required key 'redeem'" in m for m in messages)
    assert any(":1: lifecycle: missing required key 'stages'" in m for m in messages)
    (root / "marketing" / "lifecycle.yml").unlink()
    assert lifecycle_problems(catalog, root) == (None, [])
    with pytest.raises(CatalogError, match="lifecycle file not found"):
        load_lifecycle(catalog, root)


@pytest.mark.parametrize(
    ("users", "message"),
    [
        (
            "{model: events}",
            "model 'events' must hold one row per user (its primary_key is 'event_id', not the entity 'user_id')",
        ),
        ("{registered: register_tim}", "model 'users' has no column 'register_tim' (did you mean 'register_time'?)"),
    ],
)
def test_the_users_model_and_its_registration_column_are_checked(tmp_path, users, message):
    shipped = (PROJECT / "metrics" / "marketing" / "lifecycle.yml").read_text(encoding="utf-8")
    root = catalog_root(
        tmp_path, shipped.replace("users: {model: users, registered: register_time}", f"users: {users}")
    )
    _, problems = lifecycle_problems(load_catalog(root), root)
    assert [(p.line, p.message) for p in problems] == [(5, f"lifecycle users: {message}")]


def test_the_shipped_file_is_valid(cat, spec):
    assert [s.name for s in spec.stages] == list(STAGES) and [g.name for g in spec.groups] == list(GROUPS)
    assert (spec.lookback_days, spec.high_from, spec.invest.events, spec.redeem.events) == (
        365,
        3,
        ("P2P_invest",),
        ("P2P_redeem",),
    )
    assert spec.group_label("important_value", "zh") == "重要价值客户"


# --- the definitions, written again in plain Python, on generated demo data ---------------------------------


def by_definition(events, users, as_of: date, lookback: int, high: int):
    """Stages and RFM rows straight from the module docstring's words, one user at a time."""
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
    start = datetime.combine(as_of - timedelta(days=lookback - 1), datetime.min.time())
    last_invest, last_redeem, lookback_rows = {}, {}, {}
    for user, time, event, ok, amount in events:
        if user is None or time >= end:
            continue
        if event == "P2P_invest" and ok:
            last_invest[user] = max(last_invest.get(user, time), time)
            if time >= start:
                lookback_rows.setdefault(user, []).append((time, amount or 0.0))
        elif event == "P2P_redeem":
            last_redeem[user] = max(last_redeem.get(user, time), time)
    stages = {}
    for user, registered in users:
        if user in last_invest:
            stages[user] = "redeemed" if last_redeem.get(user, datetime.min) > last_invest[user] else "holding"
        else:
            stages[user] = "new" if registered is not None and registered < end else "visitor"
    values = {
        u: ((as_of - max(t for t, _ in rows).date()).days, len(rows), sum(a for _, a in rows))
        for u, rows in lookback_rows.items()
    }
    n = len(values)

    def scores(position: int, descending: bool) -> dict[str, int]:
        ordered = sorted((v[position] for v in values.values()), reverse=descending)
        lowest_rank = {}
        for rank, value in enumerate(ordered, start=1):
            lowest_rank.setdefault(value, rank)
        return {u: 5 * (lowest_rank[v[position]] - 1) // n + 1 for u, v in values.items()}

    r, f, m = scores(0, True), scores(1, False), scores(2, False)
    names = {highs: name for name, highs in GROUPS.items()}
    rfm = {u: (*values[u], r[u], f[u], m[u], names[(r[u] >= high, f[u] >= high, m[u] >= high)]) for u in values}
    return stages, rfm


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A generated demo (2,000 users, 120 days) in DuckDB (the engines agree on the hand-built fixture above)."""
    from ingest.demo import generate_demo

    url = f"duckdb:///{tmp_path_factory.mktemp('lifecycle_demo')}/demo.duckdb"
    with connect(url, read_only=False) as loader:
        generate_demo(loader, users=2000, days=120, seed=5, end=date(2026, 10, 31))
    with connect(url) as warehouse:
        yield warehouse


@pytest.mark.parametrize("as_of", [date(2026, 10, 31), date(2026, 9, 30)])
def test_generated_data_follows_the_definitions(as_of, demo, cat, spec):
    """Every user's stage and RFM row equal the plain-Python reading of the definitions (ties included)."""
    warehouse = demo
    events = warehouse.query(
        "SELECT user_id, event_time, event, is_success, amount FROM events WHERE event IN ('P2P_invest', 'P2P_redeem')"
    ).rows
    users = warehouse.query("SELECT user_id, register_time FROM users").rows
    stages, rfm = by_definition(events, users, as_of, spec.lookback_days, spec.high_from)
    assert len(rfm) > 20 and set(stages.values()) == set(STAGES)
    got_stages = {
        r["user_id"]: r["stage"] for r in rows_of(build_lifecycle(cat, spec, as_of, warehouse.dialect), warehouse)
    }
    assert got_stages == stages
    got_rfm = {
        r["user_id"]: (
            r["recency_days"],
            r["frequency"],
            r["monetary"],
            r["r_score"],
            r["f_score"],
            r["m_score"],
            r["rfm_group"],
        )
        for r in rows_of(build_rfm(cat, spec, as_of, warehouse.dialect), warehouse)
    }
    assert got_rfm == rfm
