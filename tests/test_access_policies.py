"""Row policies from ``metrics/access.yml`` on every kind of question, the same numbers as an administrator's ``--where``,
and the role's personal-data and export rules at the command line."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from connectors import connect
from finlens.cli import main
from finlens_common.errors import CatalogError
from semantic import Query, compile_query, compile_users, run_query
from semantic.analyses.attribution import attribution_spec, compile_attribution, compile_touch_users
from semantic.analyses.channel_quality import channel_members, channel_query, load_channel_spec
from semantic.analyses.distributions import load_distributions
from semantic.analyses.distributions_run import compile_distribution
from semantic.analyses.experiment_run import compile_condition_experiment, experiment_members
from semantic.analyses.experiments import load_experiments
from semantic.analyses.intent import load_intent
from semantic.analyses.intent_sql import intent_members
from semantic.analyses.intent_summary import compile_intent_summary
from semantic.analyses.lifecycle import load_lifecycle
from semantic.analyses.lifecycle_sql import lifecycle_members, rfm_members
from semantic.analyses.lifecycle_summary import compile_lifecycle_summary, compile_rfm_grid, compile_rfm_summary
from semantic.analyses.paths import load_paths
from semantic.analyses.paths_sql import compile_flow_users, compile_paths
from semantic.analyses.segments import compile_segment_count, segment_members
from semantic.catalog.access import load_access
from semantic.drill.lookup import compile_dimension_values, compile_user_events
from semantic.drill.members import compile_member_ids, compile_member_list
from semantic.drill.privacy import PREFIX, pseudonym
from semantic.drill.users import Drill
from tests.app_helpers import DEMO_END, make_demo

P2P_WHERE = "business_line IN ('p2p', 'platform')"
POLICY = "events.business_line IN ('p2p', 'platform')"
AS_OF = date(2026, 10, 31)
RANGE = {"start": date(2026, 10, 1), "end": DEMO_END}
SECRET = "a-deployment-secret-for-tests"


@pytest.fixture(scope="module")
def p2p(catalog):
    return catalog.for_role(load_access(catalog).roles["p2p_team"])


def every_question(catalog) -> dict[str, str]:
    """Every kind of question the app and the CLI ask, compiled for DuckDB from ``catalog``."""
    sql: dict[str, str] = {}
    for name, metric in catalog.metrics.items():
        dims = () if metric.type in ("funnel", "retention") else ("register_channel",)
        sql[f"metric {name}"] = compile_query(catalog, Query(metrics=(name,), dimensions=dims, **RANGE)).sql
    for name, drill in (
        ("registrations", Drill()),
        ("new_users", Drill()),
        ("bind_card_funnel", Drill(step=3, dropped=True)),
        ("bind_card_retention", Drill(cohort="2026-10-05", period=1, retained=True)),
    ):
        sql[f"users behind {name}"] = compile_users(catalog, Query(metrics=(name,), **RANGE), drill)[0]
    for name, metric in catalog.metrics.items():
        if metric.type in ("funnel", "retention"):
            sql[f"{name} by week"] = compile_query(catalog, Query(metrics=(name,), grain="week", **RANGE)).sql
        if metric.type == "retention":
            sql[f"{name} average"] = compile_query(catalog, Query(metrics=(name,), average=True, **RANGE)).sql
    for name, spec in load_paths(catalog).items():
        sql[f"paths {name}"] = compile_paths(catalog, spec, **RANGE)
        sql[f"paths {name} users"] = compile_flow_users(
            catalog, spec, "duckdb", step=1, source=None, target=None, **RANGE
        )[0]
    attribution = attribution_spec(catalog, conversion="bind_card", touches=["push_click", "register"], model="linear")
    sql["attribution"] = compile_attribution(catalog, attribution, **RANGE)
    sql["attribution users"] = compile_touch_users(catalog, attribution, "duckdb", touch="push_click", **RANGE)[0]
    sql["one user's events"] = compile_user_events(catalog, "u1")
    sql["filter values"] = compile_dimension_values(catalog, "platform", start=RANGE["start"], end=RANGE["end"])
    for name in catalog.segments:
        sql[f"segment {name}"] = compile_segment_count(catalog, name, AS_OF)
        sql[f"segment {name} members"] = compile_member_list(
            catalog, segment_members(catalog, name, AS_OF), AS_OF, "duckdb"
        )[0]
        sql[f"segment {name} ids"] = compile_member_ids(segment_members(catalog, name, AS_OF))
    intent = load_intent(catalog)
    sql["intent tiers"], sql["intent crosstab"] = compile_intent_summary(catalog, intent, AS_OF, "duckdb")
    sql["intent members"] = compile_member_ids(intent_members(catalog, intent, AS_OF, "duckdb", tier="strong"))
    lifecycle = load_lifecycle(catalog)
    sql["lifecycle"] = compile_lifecycle_summary(catalog, lifecycle, AS_OF, "duckdb")
    sql["rfm"], sql["rfm thresholds"] = compile_rfm_summary(catalog, lifecycle, AS_OF, "duckdb")
    sql["rfm grid"] = compile_rfm_grid(catalog, lifecycle, AS_OF, "duckdb")
    sql["lifecycle members"] = compile_member_ids(
        lifecycle_members(catalog, lifecycle, AS_OF, "duckdb", stage="holding")
    )
    sql["rfm members"] = compile_member_ids(rfm_members(catalog, lifecycle, AS_OF, "duckdb"))
    for name, experiment in load_experiments(catalog).items():
        if experiment.converted is not None:
            sql[f"experiment {name}"] = compile_condition_experiment(catalog, experiment, AS_OF)
            sql[f"experiment {name} members"] = compile_member_ids(
                experiment_members(catalog, experiment, AS_OF, "duckdb", variant="push")
            )
    channels = load_channel_spec(catalog)
    sql["channel quality"] = compile_query(catalog, channel_query(channels, **RANGE)).sql
    sql["channel members"] = compile_member_ids(channel_members(catalog, channels, channel="wechat", step=2, **RANGE))
    distributions = load_distributions(catalog)
    for name in distributions:
        sql[f"distribution {name}"] = compile_distribution(catalog, distributions, name, **RANGE)
    return sql


def unfiltered_reads(sql: str) -> list[str]:
    """Every read of the events table that is not under the policy's condition (time bounds aside)."""
    found = []
    for table in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Table):
        if table.name != "events":
            continue
        select = table.find_ancestor(exp.Select)
        assert select is not None
        # time bounds and users' first times read the whole table (MIN/MAX of the time, by user); a first event
        # is then tested against the policy in its own SELECT (``matches_filter``), as a --where would be
        values = [e.unalias() for e in select.expressions]
        only_times = any(isinstance(v, (exp.Min, exp.Max)) for v in values) and all(
            isinstance(v, (exp.Min, exp.Max)) or (isinstance(v, exp.Column) and v.name == "user_id") for v in values
        )
        where = select.args.get("where")
        only_times = only_times and (
            where is None or {c.name for c in where.find_all(exp.Column)} <= {"event_time", "user_id"}
        )
        if not only_times and POLICY not in select.sql(dialect="duckdb"):
            found.append(select.sql(dialect="duckdb")[:160])
    return found


def test_every_kind_of_question_reads_events_only_through_the_policy(p2p):
    questions = every_question(p2p)
    assert len(questions) > 100
    assert {name: reads for name, sql in questions.items() if (reads := unfiltered_reads(sql))} == {}


def test_the_check_finds_a_read_without_the_policy(catalog):
    """Without the role the same questions read events directly: the check above can fail."""
    questions = every_question(catalog)
    assert all(unfiltered_reads(sql) for name, sql in questions.items() if name.startswith("metric "))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("access") / "demo.duckdb", users=1200, days=45)


def test_a_role_sees_what_an_administrator_sees_with_its_filter(catalog, p2p, demo):
    """Every catalog metric, by platform, under the p2p role equals the administrator's numbers with the filter."""
    with connect(demo) as warehouse:
        for name, metric in catalog.metrics.items():
            dims = () if metric.type == "retention" else ("platform",)
            role_rows = run_query(p2p, Query(metrics=(name,), dimensions=dims, **RANGE), warehouse).rows
            admin_rows = run_query(
                catalog, Query(metrics=(name,), dimensions=dims, where=P2P_WHERE, **RANGE), warehouse
            ).rows
            assert role_rows == admin_rows, name


def test_no_forex_row_reaches_the_role(catalog, p2p, demo):
    """The forex business line is invisible: by filter, by breakdown and in one forex user's events."""
    with connect(demo) as warehouse:
        lines = {
            r["business_line"]
            for r in run_query(
                p2p, Query(metrics=("event_count",), dimensions=("business_line",), **RANGE), warehouse
            ).rows
        }
        assert lines <= {"p2p", "platform"} and lines
        forex = run_query(
            p2p, Query(metrics=("event_count",), where="business_line = 'forex'", **RANGE), warehouse
        ).rows
        assert forex in ([], [{"event_count": 0}])
        (trader,) = warehouse.query(
            "SELECT user_id FROM events WHERE business_line = 'forex' GROUP BY 1 ORDER BY 1 LIMIT 1"
        ).rows[0]
        events = warehouse.query(compile_user_events(p2p, trader)).records()
        assert events and all(e["business_line"] in ("p2p", "platform") for e in events)
        everything = warehouse.query(compile_user_events(catalog, trader)).records()
        assert any(e["business_line"] == "forex" for e in everything)  # the user does have forex events


def test_cli_as_identity(capsys, demo, monkeypatch):
    monkeypatch.setenv("FINLENS_PSEUDONYM_SECRET", SECRET)
    assert (
        main(
            [
                "query",
                "uv",
                "--warehouse",
                demo,
                "--format",
                "json",
                "--as",
                "bob@bank.example",
                "--groups",
                "P2P",
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-31",
            ]
        )
        == 0
    )
    (role_row,) = json.loads(capsys.readouterr().out)
    assert (
        main(
            [
                "query",
                "uv",
                "--warehouse",
                demo,
                "--format",
                "json",
                "--where",
                P2P_WHERE,
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-31",
            ]
        )
        == 0
    )
    (admin_row,) = json.loads(capsys.readouterr().out)
    with connect(demo) as warehouse:
        (hand,) = warehouse.query(
            "SELECT COUNT(DISTINCT user_id) FROM events WHERE business_line IN ('p2p', 'platform') "
            "AND event_time >= '2026-10-01' AND event_time < '2026-11-01'"
        ).rows[0]
    assert role_row["uv"] == admin_row["uv"] == hand
    assert main(["compile", "uv", "--dialect", "postgres", "--as", "bob", "--groups", "p2p"]) == 0
    assert POLICY in capsys.readouterr().out.replace('"', "")
    assert main(["query", "uv", "--warehouse", demo, "--as", "nobody@bank.example"]) == 2
    assert "has no role" in capsys.readouterr().err


def test_cli_pseudonyms_and_exports(capsys, demo, monkeypatch, catalog):
    monkeypatch.setenv("FINLENS_PSEUDONYM_SECRET", SECRET)
    args = ["segment", "card_no_invest_30d", "--warehouse", demo, "--as-of", "2026-10-31"]
    assert main([*args, "--users", "--limit", "0"]) == 0
    real = {m["user_id"] for m in json.loads(capsys.readouterr().out)["members"]}
    assert main([*args, "--users", "--limit", "0", "--as", "bob", "--groups", "p2p"]) == 0
    shown = {m["user_id"] for m in json.loads(capsys.readouterr().out)["members"]}
    assert main([*args, "--users", "--limit", "0", "--as", "bob", "--groups", "p2p"]) == 0
    again = {m["user_id"] for m in json.loads(capsys.readouterr().out)["members"]}
    # the role sees p2p and platform events only, so it may see fewer members; every one is a stable pseudonym
    assert shown == again and shown and not (shown & real)
    assert all(s.startswith(PREFIX) for s in shown)
    assert {pseudonym(r, SECRET) for r in real} >= shown
    assert main([*args, "--ids", "--as", "bob", "--groups", "p2p"]) == 2
    assert "may not export user ids" in capsys.readouterr().err
    assert main([*args, "--ids", "--as", "carol", "--groups", "marketing"]) == 0  # marketing exports, as pseudonyms
    exported = capsys.readouterr().out.splitlines()
    assert exported[0] == "user_id" and set(exported[1:]) == {pseudonym(r, SECRET) for r in real}
    monkeypatch.delenv("FINLENS_PSEUDONYM_SECRET")
    assert main([*args, "--users", "--as", "bob", "--groups", "p2p"]) == 2
    assert "set FINLENS_PSEUDONYM_SECRET" in capsys.readouterr().err


def test_access_mistakes_are_file_line_messages(tmp_path, catalog):
    from tests.security.test_yaml_paths import catalog_copy

    root = catalog_copy(tmp_path)
    (root / "access.yml").write_text(
        "roles:\n"
        '  p2p: {rows: {events: "business_line IN (SELECT 1)"}, pii: maybe}\n'
        '  x: {rows: {nosuch: "a = 1"}}\n'
        "members: {alice@bank.example: p2q}\n"
        "default_role: ghost\n"
    )
    from semantic.catalog.access import access_problems

    _, problems = access_problems(catalog, root)
    assert [str(p).split("access.yml:")[1] for p in problems] == [
        "2: role 'p2p': rows: events may not contain a subquery",
        "2: role 'p2p': 'pii' must be true or false",
        "3: role 'x': rows: unknown model 'nosuch'",
        "4: access: members: 'alice@bank.example' → 'p2q' is not a role (did you mean 'p2p'?)",
        "5: access: default_role 'ghost' is not a role",
    ]
    with pytest.raises(CatalogError):
        load_access(catalog, root)


@pytest.mark.parametrize("dialect", ["clickhouse", "duckdb"])
@pytest.mark.parametrize("rollups", [False, True])
def test_native_plans_and_rollups_read_under_the_policy(p2p, dialect, rollups):
    """ClickHouse's array plans and the rollup tables are query paths of their own: each read of events or of a
    rollup carries the policy, or the question falls back to events (a rollup never answers around it)."""
    from dataclasses import replace

    from semantic.compiler.reader import ROLLUPS

    catalog = replace(p2p, rollups=frozenset(ROLLUPS)) if rollups else p2p
    unfiltered = []
    for name, metric in catalog.metrics.items():
        dims = () if metric.type in ("funnel", "retention") else ("platform",)
        sql = compile_query(catalog, Query(metrics=(name,), dimensions=dims, **RANGE), dialect).sql
        for table in sqlglot.parse_one(sql, read=dialect).find_all(exp.Table):
            if table.name != "events" and not table.name.startswith("rollup_"):
                continue
            select = table.find_ancestor(exp.Select)
            assert select is not None
            times_only = any(isinstance(v.unalias(), (exp.Min, exp.Max)) for v in select.expressions)
            if not times_only and "business_line IN ('p2p', 'platform')" not in select.sql(dialect=dialect):
                unfiltered.append((name, table.name))
    assert unfiltered == []


def test_sessions_with_equal_roles_share_one_scoped_catalog_and_other_policies_do_not(catalog):
    """Compiled questions are kept per catalog object: a catalog per session would recompile every page per visitor."""
    from dataclasses import replace

    from sqlglot import exp

    from finlens.app.signin import _scoped_once
    from semantic.catalog.access_specs import ADMIN

    again = replace(ADMIN)  # an equal role, another object (each run resolves the viewer afresh)
    assert again is not ADMIN and _scoped_once(catalog, again) is _scoped_once(catalog, ADMIN)
    narrowed = replace(ADMIN, rows={"events": exp.condition("business_line = 'p2p'")})
    assert _scoped_once(catalog, narrowed) is not _scoped_once(catalog, ADMIN)
    assert _scoped_once(catalog, narrowed).role == narrowed
