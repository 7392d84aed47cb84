"""Purchase intent (score, percentile tiers) and purchase preference, worked out by hand on a small fixture.

As of 2026-03-14. Score window (14 days): 2026-03-01 00:00:00 <= time < 2026-03-15 00:00:00.
Preference window (30 days): 2026-02-13 00:00:00 <= time < 2026-03-15 00:00:00.
Rules (first match wins): 1 list view, 3 detail view, 8 invest_button click, 15 P2P_order_submit, and (test only)
2 for any click on product_detail, so an invest_button click on product_detail matches rules 3 and 5 and counts 8.

Scores (V = $AppViewScreen, W = $pageview, C = $AppClick, WC = $WebClick):
  A 30  two order submits (15 + 15); its detail views are on 02-20/02-21, before the score window
  B 23  order 15 + invest click 8
  C 23  invest WebClick 8 + order 15
  D 11  invest click on product_detail 8 (matches rules 3 and 5: counts 8, not 10) + detail view 3
  E  9  three detail views 3 + 3 + 3
  F  6  share_button click on product_detail 2 (rule 5 only) + four list views 1 each
  G  6  two detail views 3 + 3
  H  4  detail view 3 + list view 1; order submits at 02-28 23:59:59 and 03-15 00:00:00 are one second outside
  I  3  detail view at 03-01 00:00:00 (the window's first second); $AppStart weighs nothing
  J  1  list view at 03-14 23:59:59 (the window's last second); a banner click on home matches no rule
  K  -  only $AppStart and a home view: score 0, not ranked
  M  -  only detail views in February: not ranked
  (a crawler row without user_id, on product_list and product_detail, counts for nobody)

n = 10 ranked. Ordered by score desc, user id: A B C D E F G H I J.
  strong: ceil(0.2 * 10) = 2 -> T_strong = score at position 2 = B's 23; score >= 23 -> A, B, C (3 users:
          C ties B at the boundary and joins the higher tier, 30% not 20%)
  medium: ceil(0.6 * 10) = 6 -> T_medium = F's 6; 6 <= score < 23 -> D, E, F, G (G ties F: 4 users)
  weak:   the rest, H, I, J (3 users); its threshold is the lowest score, J's 1.

Preferences (dwell seconds on product_detail views by product_type; share > 0.4 preferred):
  A bond 120, stock 30          -> bond 0.8 yes, stock 0.2 no
  B bond 40, money 60           -> bond 0.4 NO (exactly 40% is not above), money 0.6 yes
  C bond NULL duration, stock 20 -> the NULL row counts nowhere: stock 20/20 = 1.0 yes
  D money 30                    -> money 1.0 yes
  E bond 45, stock 45, money 10 -> bond 0.45 yes, stock 0.45 yes (two types), money 0.1 no
  G stock 100 + 50              -> stock 1.0 yes
  H NULL product_type, 50 s     -> no rows at all
  I bond 10                     -> bond 1.0 yes
  M stock 1000 at 02-12 23:59:59 (one second before the window) left out; bond 5 at 02-13 00:00:00 -> bond 1.0 yes
Users with counted dwell: A B C D E G I M = 8. Preferred: bond A E I M = 4, stock C E G = 3, money B D = 2.
Crosstab (tier, type): strong bond A, money B, stock C; medium money D, bond E, stock E G (2), none F;
weak bond I, none H J (2); not ranked bond M.
"""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from datetime import date
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from connectors import connect
from finlens_common.errors import CatalogError, QueryError
from finlens_common.settings import DEFAULT_METRICS_ROOT as DEFAULT_ROOT
from semantic import load_catalog
from semantic.analyses.intent import intent_problems, load_intent
from semantic.analyses.intent_sql import build_intent_scores, build_preferences, finish, intent_members
from semantic.analyses.intent_summary import compile_intent_summary, intent_summary
from semantic.compiler import dialects
from semantic.compiler.results import normalise
from semantic.drill.members import member_ids, member_list
from tests.catalog_helpers import catalog_dir_with
from tests.warehouse_fixtures import load, make_warehouse

AS_OF = date(2026, 3, 14)
V, W, C, WC = "$AppViewScreen", "$pageview", "$AppClick", "$WebClick"

TEST_YAML = """\
score:
  name: purchase_intent
  label: {zh: 购买意向, en: Purchase intent}
  window_days: 14
  weights:
    - {event: [$AppViewScreen, $pageview], filter: "page = 'product_list'", weight: 1}
    - {event: [$AppViewScreen, $pageview], filter: "page = 'product_detail'", weight: 3}
    - {event: [$AppClick, $WebClick], filter: "element = 'invest_button'", weight: 8}
    - {event: P2P_order_submit, weight: 15}
    - {event: [$AppClick, $WebClick], filter: "page = 'product_detail'", weight: 2}
  tiers:
    - {name: strong, top: 0.2, label: {zh: 强意向, en: Strong}}
    - {name: medium, top: 0.6, label: {zh: 中意向, en: Medium}}
    - {name: weak, top: 1.0, label: {zh: 弱意向, en: Weak}}
preference:
  window_days: 30
  threshold: 0.4
"""


def ev(user, time, event, page=None, element=None, product_type=None, duration=None):
    return {
        "user_id": user,
        "event_time": time,
        "event": event,
        "page": page,
        "element": element,
        "product_type": product_type,
        "duration": duration,
    }


def detail(user, time, product_type, duration, event=V):
    return ev(user, time, event, "product_detail", product_type=product_type, duration=duration)


EVENTS = [
    ev("A", "2026-03-05 10:00:00", "P2P_order_submit"),
    ev("A", "2026-03-10 10:00:00", "P2P_order_submit"),
    detail("A", "2026-02-20 10:00:00", "bond", 120),
    detail("A", "2026-02-21 10:00:00", "stock", 30, W),
    ev("B", "2026-03-02 08:59:00", C, "product_detail", "invest_button"),
    ev("B", "2026-03-02 09:00:00", "P2P_order_submit"),
    detail("B", "2026-02-25 10:00:00", "bond", 40),
    detail("B", "2026-02-26 10:00:00", "money", 60),
    ev("C", "2026-03-03 10:00:00", WC, "product_detail", "invest_button"),
    ev("C", "2026-03-03 10:05:00", "P2P_order_submit"),
    detail("C", "2026-02-14 10:00:00", "bond", None),
    detail("C", "2026-02-15 10:00:00", "stock", 20),
    ev("D", "2026-03-04 10:00:00", C, "product_detail", "invest_button"),
    detail("D", "2026-03-04 09:59:00", "money", 30),
    detail("E", "2026-03-06 10:00:00", "bond", 45),
    detail("E", "2026-03-07 10:00:00", "stock", 45),
    detail("E", "2026-03-08 10:00:00", "money", 10, W),
    ev("F", "2026-03-09 10:00:00", C, "product_detail", "share_button"),
    ev("F", "2026-03-09 10:01:00", V, "product_list"),
    ev("F", "2026-03-09 10:02:00", V, "product_list"),
    ev("F", "2026-03-09 10:03:00", W, "product_list"),
    ev("F", "2026-03-09 10:04:00", V, "product_list"),
    detail("G", "2026-03-11 10:00:00", "stock", 100),
    detail("G", "2026-03-11 10:05:00", "stock", 50),
    ev("H", "2026-02-28 23:59:59", "P2P_order_submit"),
    ev("H", "2026-03-15 00:00:00", "P2P_order_submit"),
    detail("H", "2026-03-12 10:00:00", None, 50),
    ev("H", "2026-03-12 10:01:00", V, "product_list"),
    detail("I", "2026-03-01 00:00:00", "bond", 10),
    ev("I", "2026-03-01 00:00:00", "$AppStart"),
    ev("J", "2026-03-14 23:59:59", W, "product_list"),
    ev("J", "2026-03-13 10:00:00", C, "home", "banner"),
    ev("K", "2026-03-05 10:00:00", "$AppStart"),
    ev("K", "2026-03-05 10:00:05", V, "home"),
    detail("M", "2026-02-12 23:59:59", "stock", 1000),
    detail("M", "2026-02-13 00:00:00", "bond", 5),
    ev(None, "2026-03-05 10:00:00", W, "product_list"),
    detail(None, "2026-03-05 10:01:00", "bond", 999, W),
]

SCORES = {"A": 30, "B": 23, "C": 23, "D": 11, "E": 9, "F": 6, "G": 6, "H": 4, "I": 3, "J": 1}
TIERS = {
    "A": "strong",
    "B": "strong",
    "C": "strong",
    "D": "medium",
    "E": "medium",
    "F": "medium",
    "G": "medium",
    "H": "weak",
    "I": "weak",
    "J": "weak",
}
PREFERENCES = {  # (user, type): (dwell, share, preferred)
    ("A", "bond"): (120, 0.8, True),
    ("A", "stock"): (30, 0.2, False),
    ("B", "bond"): (40, 0.4, False),
    ("B", "money"): (60, 0.6, True),
    ("C", "stock"): (20, 1.0, True),
    ("D", "money"): (30, 1.0, True),
    ("E", "bond"): (45, 0.45, True),
    ("E", "stock"): (45, 0.45, True),
    ("E", "money"): (10, 0.1, False),
    ("G", "stock"): (150, 1.0, True),
    ("I", "bond"): (10, 1.0, True),
    ("M", "bond"): (5, 1.0, True),
}
CROSSTAB = {
    ("strong", "bond"): 1,
    ("strong", "money"): 1,
    ("strong", "stock"): 1,
    ("medium", "money"): 1,
    ("medium", "bond"): 1,
    ("medium", "stock"): 2,
    ("medium", None): 1,
    ("weak", "bond"): 1,
    ("weak", None): 2,
    (None, "bond"): 1,
}
ENGINES = ("duckdb", "postgres", "chdb")


def write_root(base: Path, intent_yaml: str) -> Path:
    """A catalog folder: the shipped models, no metrics, and ``intent_yaml`` as marketing/intent.yml."""
    root = catalog_dir_with(base, "metrics: []\n")
    (root / "marketing").mkdir(exist_ok=True)
    (root / "marketing" / "intent.yml").write_text(textwrap.dedent(intent_yaml), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_root(tmp_path_factory.mktemp("intent_root"), TEST_YAML)


@pytest.fixture(scope="module")
def cat(root):
    return load_catalog(root)


@pytest.fixture(scope="module")
def spec(cat):
    return load_intent(cat)


@pytest.fixture(scope="module")
def duckdb_url(tmp_path_factory):
    return make_warehouse(tmp_path_factory.mktemp("intent") / "fixture.duckdb", EVENTS)


def open_engine(name: str, duckdb_url: str, request) -> tuple:
    """(warehouse, cleanup) for ``name``, loaded with EVENTS."""
    if name == "duckdb":
        warehouse = connect(duckdb_url)
        return warehouse, lambda: None
    if name == "postgres":
        server = request.getfixturevalue("postgres_server")
        with connect(server.url, read_only=False) as admin:
            admin.execute("DROP DATABASE IF EXISTS intent_fixture")
            admin.execute("CREATE DATABASE intent_fixture")
        url = server.url.rsplit("/", 1)[0] + "/intent_fixture"
        with connect(url, read_only=False) as loader:
            load(loader, EVENTS, [])
        warehouse = connect(server.reader(url))
        return warehouse, lambda: None
    folder = Path(tempfile.mkdtemp(prefix="finlens-intent-chdb-"))
    warehouse = connect(f"chdb:///{folder}", read_only=False)
    load(warehouse, EVENTS, [])
    return warehouse, lambda: shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, duckdb_url):
    opened, cleanup = open_engine(request.param, duckdb_url, request)
    try:
        yield opened
    finally:
        opened.close()
        cleanup()


def rows(select: exp.Select, warehouse) -> list[tuple]:
    return [tuple(normalise(v) for v in row) for row in warehouse.query(finish(select, warehouse.dialect)).rows]


def test_scores_and_tiers(cat, spec, warehouse):
    got = rows(build_intent_scores(cat, spec, AS_OF, warehouse.dialect), warehouse)
    assert {user: score for user, score, _ in got} == SCORES
    assert {user: tier for user, _, tier in got} == TIERS
    assert len(got) == 10


def test_preferences(cat, spec, warehouse):
    got = rows(build_preferences(cat, spec, AS_OF, warehouse.dialect), warehouse)
    found = {(user, value): (dwell, share, preferred) for user, value, dwell, share, preferred in got}
    assert set(found) == set(PREFERENCES)
    for key, (dwell, share, preferred) in PREFERENCES.items():
        assert found[key][0] == pytest.approx(dwell), key
        assert found[key][1] == pytest.approx(share), key
        assert found[key][2] is preferred, key


def test_summary(cat, spec, warehouse):
    summary = intent_summary(cat, spec, AS_OF, warehouse)
    assert summary.ranked_users == 10 and summary.dwell_users == 8
    assert summary.score_window == (date(2026, 3, 1), AS_OF)
    assert summary.preference_window == (date(2026, 2, 13), AS_OF)
    got = [(t.name, t.users, t.share, t.min_score, t.max_score, t.threshold) for t in summary.tiers]
    assert got == [("strong", 3, 0.3, 23, 30, 23), ("medium", 4, 0.4, 6, 11, 6), ("weak", 3, 0.3, 1, 4, 1)]
    assert [(p.value, p.users, p.share) for p in summary.preferences] == [
        ("bond", 4, 0.5),
        ("stock", 3, 3 / 8),
        ("money", 2, 0.25),
    ]
    assert {(c.tier, c.value): c.users for c in summary.crosstab} == CROSSTAB
    assert len(summary.sql) == 2 and all("intent_tiers" in sql for sql in summary.sql)


def test_summary_before_any_data(cat, spec, warehouse):
    """As of 2026-01-31 nothing is in either window: no ranked users, every tier empty, no threshold."""
    summary = intent_summary(cat, spec, date(2026, 1, 31), warehouse)
    assert (summary.ranked_users, summary.dwell_users, summary.preferences, summary.crosstab) == (0, 0, (), ())
    assert [(t.users, t.share, t.threshold) for t in summary.tiers] == [(0, None, None)] * 3


@pytest.mark.parametrize(
    ("tier", "prefers", "expected"),
    [
        (None, None, {u: (SCORES[u], TIERS[u]) for u in SCORES}),
        ("strong", None, {"A": (30, "strong"), "B": (23, "strong"), "C": (23, "strong")}),
        ("medium", "stock", {"E": (9, "medium"), "G": (6, "medium")}),
        ("strong", "bond", {"A": (30, "strong")}),
        ("weak", "money", {}),
        (None, "bond", {"A": (30, "strong"), "E": (9, "medium"), "I": (3, "weak"), "M": (None, None)}),
    ],
)
def test_members(cat, spec, warehouse, tier, prefers, expected):
    got = rows(intent_members(cat, spec, AS_OF, warehouse.dialect, tier=tier, prefers=prefers), warehouse)
    assert {user: (score, name) for user, score, name in got} == expected
    assert member_ids(
        intent_members(cat, spec, AS_OF, warehouse.dialect, tier=tier, prefers=prefers), warehouse
    ) == sorted(expected)


def test_member_list_carries_score_and_tier(cat, spec, warehouse):
    members = intent_members(cat, spec, AS_OF, warehouse.dialect, tier="medium")
    listing = member_list(cat, members, AS_OF, warehouse, extra=("score", "tier"), limit=2)
    assert listing.total == 4 and len(listing.rows) == 2
    assert all((row["score"], row["tier"]) == (SCORES[row["user_id"]], "medium") for row in listing.rows)
    # latest visit first: G (03-11 10:05), then F (03-09 10:04)
    assert [row["user_id"] for row in listing.rows] == ["G", "F"]


@pytest.mark.parametrize(
    ("n", "top", "within"), [(100, "0.07", 7), (35, "0.6", 21), (10, "0.2", 2), (7, "0.3", 3), (1, "0.2", 1)]
)
def test_the_position_test_is_exact(warehouse, n, top, within):
    """position <= ceil(top * n) in integers: 0.07 * 100 is 7.000000000000001 in doubles (ClickHouse's CEIL says 8).

    Positions are the fixture's rows numbered 1..38; the count is of positions <= min(n, 38) inside the top share.
    """
    from fractions import Fraction

    from semantic.analyses.intent_sql import _within

    position = exp.column("position")
    ranked = exp.select(
        exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[exp.column("event_id")])), "position")
    )
    ranked = ranked.from_("events")
    counted = (
        exp.select(exp.Count(this=exp.Star()))
        .from_(ranked.subquery("r"))
        .where(exp.and_(position <= exp.convert(n), _within(position.copy(), exp.convert(n), Fraction(top))))
    )
    assert len(EVENTS) >= within
    assert normalise(warehouse.query(counted.sql(dialect=warehouse.dialect)).rows[0][0]) == within


def test_unknown_tier_is_a_query_error(cat, spec):
    with pytest.raises(
        QueryError, match=r"unknown tier 'strnog' \(did you mean 'strong'\?\); one of strong, medium, weak"
    ):
        intent_members(cat, spec, AS_OF, "duckdb", tier="strnog")


def test_a_later_as_of_moves_both_windows(cat, spec, duckdb_url):
    """As of 03-15: the score window is 03-02..03-15, so H's 03-15 00:00:00 order (15) counts and I's 03-01 view
    does not; B's 03-02 events stay. Ranked: A30 B23 C23 H19 D11 E9 F6 G6 J1 = 9 (I drops out, score 0).
    ceil(1.8) = 2 -> T_strong 23: A B C; ceil(5.4) = 6 -> position 6 is E (9): medium = 9 <= s < 23: H D E;
    weak: F G J."""
    with connect(duckdb_url) as warehouse:
        got = rows(build_intent_scores(cat, spec, date(2026, 3, 15), "duckdb"), warehouse)
    assert {u: (s, t) for u, s, t in got} == {
        "A": (30, "strong"),
        "B": (23, "strong"),
        "C": (23, "strong"),
        "H": (19, "medium"),
        "D": (11, "medium"),
        "E": (9, "medium"),
        "F": (6, "weak"),
        "G": (6, "weak"),
        "J": (1, "weak"),
    }


@pytest.mark.parametrize("dialect", dialects.DIALECTS)
def test_sql_compiles_for_every_dialect(cat, spec, dialect):
    statements = [
        finish(build_intent_scores(cat, spec, AS_OF, dialect), dialect),
        finish(build_preferences(cat, spec, AS_OF, dialect), dialect),
        finish(intent_members(cat, spec, AS_OF, dialect, tier="strong", prefers="bond"), dialect),
        finish(intent_members(cat, spec, AS_OF, dialect, prefers="bond"), dialect),
        *compile_intent_summary(cat, spec, AS_OF, dialect),
    ]
    for sql in statements:
        assert sql.lstrip().upper().startswith("WITH")
        assert sqlglot.parse_one(sql, read=dialect) is not None  # the engine's own grammar reads it back
    assert all("'2026-03-01 00:00:00'" in sql for sql in statements if "intent_events" in sql)
    assert all("'2026-02-13 00:00:00'" in sql for sql in statements if "preference_dwell" in sql)
    # the score statement reads every window boundary exactly once and ranks in one pass
    assert statements[0].count("ROW_NUMBER()") == 1 and "'2026-03-15 00:00:00'" in statements[0]


def test_shipped_intent_file_loads(cat):
    spec, problems = intent_problems(cat, DEFAULT_ROOT)
    assert problems == [] and spec is not None
    assert [(r.events, r.weight) for r in spec.score.rules] == [
        (("$AppViewScreen", "$pageview"), 1),
        (("$AppViewScreen", "$pageview"), 3),
        (("$AppClick", "$WebClick"), 8),
        (("P2P_order_submit",), 15),
    ]
    assert [(t.name, float(t.top), t.label.en) for t in spec.score.tiers] == [
        ("strong", 0.2, "Strong"),
        ("medium", 0.6, "Medium"),
        ("weak", 1.0, "Weak"),
    ]
    assert spec.score.window_days == 14 and spec.preference.window_days == 30
    assert (spec.preference.dwell, spec.preference.by, float(spec.preference.threshold)) == (
        "duration",
        "product_type",
        0.4,
    )


BAD = """\
score:
  name: purchase_intent
  label: {zh: 购买意向, en: Purchase intent}
  window_dayz: 14
  weights:
    - {event: [$AppViewScreen, $pageview], filter: "pgae = 'product_list'", weight: 1}
    - {event: $AppClick, filter: "element = ", weight: 8}
    - {event: P2P_order_submit, weight: -15}
    - {event: P2P_invest, weight: "high"}
    - {event: P2P_invest, filter: "COUNT(*) > 1", weight: 2}
  tiers:
    - {name: strong, top: 0.6, label: {zh: 强, en: Strong}}
    - {name: medium, top: 0.2, label: {zh: 中, en: Medium}}
    - {name: weak, top: 0.9, label: {zh: 弱, en: Weak}}
preference:
  dwell: duraton
  by: product_type
  threshold: 1.5
  colour: red
"""


def test_every_mistake_is_reported_at_its_line(cat, tmp_path):
    root = write_root(tmp_path, BAD)
    spec, problems = intent_problems(cat, root)
    assert spec is None
    text = "\n".join(str(p) for p in problems)
    file = "marketing/intent.yml"
    expected = [
        f"{file}:4: intent score 'purchase_intent': unknown key 'window_dayz' (did you mean 'window_days'?)",
        f"{file}:6: intent score 'purchase_intent' weight 1: filter: unknown column 'pgae' (did you mean 'page'?)",
        f"{file}:7: intent score 'purchase_intent' weight 2: filter is not valid SQL",
        f"{file}:8: intent score 'purchase_intent' weight 3: 'weight' must be a positive number, not -15",
        f"{file}:9: intent score 'purchase_intent' weight 4: 'weight' must be a positive number, not 'high'",
        f"{file}:10: intent score 'purchase_intent' weight 5: filter may not contain an aggregate",
        f"{file}:13: intent score 'purchase_intent' tier 2: 'top' must be above the previous tier's (0.6)",
        f"{file}:16: intent preference: dwell: unknown column 'duraton' (did you mean 'duration'?)",
        f"{file}:18: intent preference: 'threshold' must be a number in (0, 1), not 1.5",
        f"{file}:19: intent preference: unknown key 'colour'",
    ]
    for line in expected:
        assert any(str(p).startswith(line) or line in str(p) for p in problems), f"missing: {line}\n{text}"
    assert all(Path(p.file).as_posix().endswith(file) for p in problems)
    with pytest.raises(CatalogError):
        load_intent(cat, root)


def test_tier_order_and_last_top(cat, tmp_path):
    root = write_root(tmp_path, TEST_YAML.replace("top: 1.0", "top: 0.9").replace("top: 0.6", "top: 0.33333"))
    _, problems = intent_problems(cat, root)
    text = "\n".join(str(p) for p in problems)
    assert (
        "intent.yml:13: intent score 'purchase_intent' tier 2: 'top' must have at most 4 decimals, not 0.33333" in text
    )
    assert "the last tier's 'top' must be 1.0" not in text  # reported once the tiers themselves are right
    root = write_root(tmp_path / "again", TEST_YAML.replace("top: 1.0", "top: 0.9"))
    _, problems = intent_problems(cat, root)
    assert [str(p).split("intent.yml:")[1] for p in problems] == [
        "11: intent score 'purchase_intent': the last tier's 'top' must be 1.0 (every ranked user has a tier), not 0.9"
    ]


def test_yaml_syntax_error_and_missing_file(cat, tmp_path):
    root = write_root(tmp_path, "score:\n  name: x\n  weights: [\n")
    _, problems = intent_problems(cat, root)
    assert len(problems) == 1 and "intent.yml:" in str(problems[0]) and "YAML syntax error" in str(problems[0])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert intent_problems(cat, empty) == (None, [])
    with pytest.raises(CatalogError, match="intent file not found"):
        load_intent(cat, empty)


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    import argparse

    from finlens.cli import intent as cli_intent

    parser = argparse.ArgumentParser()
    cli_intent.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = cli_intent.COMMANDS[args.command](args)
    return code, capsys.readouterr().out


def test_cli_summary_users_and_csv(root, duckdb_url, monkeypatch, capsys):
    import json

    monkeypatch.setenv("FINLENS_METRICS", str(root))
    code, out = run_cli(["score", "--as-of", "2026-03-14", "--warehouse", duckdb_url], capsys)
    summary = json.loads(out)
    assert code == 0 and summary["ranked_users"] == 10 and summary["dwell_users"] == 8
    assert [(t["name"], t["users"], t["threshold"]) for t in summary["tiers"]] == [
        ("strong", 3, 23),
        ("medium", 4, 6),
        ("weak", 3, 1),
    ]
    assert {(c["tier"], c["value"]): c["users"] for c in summary["crosstab"]} == CROSSTAB

    code, out = run_cli(
        ["score", "--as-of", "2026-03-14", "--tier", "medium", "--prefers", "stock", "--warehouse", duckdb_url], capsys
    )
    listing = json.loads(out)
    assert listing["total"] == 2 and [(u["user_id"], u["score"], u["tier"]) for u in listing["users"]] == [
        ("G", 6, "medium"),
        ("E", 9, "medium"),
    ]

    code, out = run_cli(
        ["score", "--as-of", "2026-03-14", "--prefers", "bond", "--csv", "--warehouse", duckdb_url], capsys
    )
    assert out == "user_id\nA\nE\nI\nM\n"

    # the default as-of is the last day with events: 03-15 (H's order at midnight), see the test above
    code, out = run_cli(["score", "--tier", "weak", "--csv", "--warehouse", duckdb_url], capsys)
    assert out == "user_id\nF\nG\nJ\n"

    code, out = run_cli(["score", "--as-of", "2026-03-14", "--format", "table", "--warehouse", duckdb_url], capsys)
    assert "strong" in out and "(no score)" in out and "10 users with a score" in out


def test_cli_bad_input(root, duckdb_url, monkeypatch, capsys):
    monkeypatch.setenv("FINLENS_METRICS", str(root))
    with pytest.raises(QueryError, match="unknown tier 'hot'"):
        run_cli(["score", "--tier", "hot", "--warehouse", duckdb_url], capsys)
    with pytest.raises(QueryError, match="bad date '2026-13-01'"):
        run_cli(["score", "--as-of", "2026-13-01", "--warehouse", duckdb_url], capsys)
