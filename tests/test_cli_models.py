"""The command line of the analysis models: JSON keyed by the documented columns, users behind a row, one-line errors.

The numbers are the hand-worked ones of ``tests/test_paths.py``, ``test_attribution.py`` and
``test_semantics_funnel_trends.py``, on a DuckDB file; here the commands must print them.
"""

from __future__ import annotations

import json

import pytest

from finlens.cli import main
from tests import test_attribution, test_paths, test_semantics_funnel_trends
from tests.warehouse_fixtures import make_warehouse


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def urls(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_models")
    return {
        "paths": make_warehouse(folder / "paths.duckdb", test_paths.EVENTS),
        "attribution": make_warehouse(folder / "attribution.duckdb", test_attribution.EVENTS),
        "funnel": make_warehouse(folder / "funnel.duckdb", test_semantics_funnel_trends.EVENTS),
    }


def test_paths_json(capsys, urls):
    code, out, err = run(
        capsys,
        "paths",
        "--start",
        "bind_card",
        "--steps",
        "4",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-03",
        "--warehouse",
        urls["paths"],
    )
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert all(list(r) == ["step", "source", "target", "users"] for r in rows)
    assert rows[0] == {"step": 1, "source": "bind_card", "target": "$AppClick", "users": 2}
    assert {"step": 2, "source": "$AppEnd", "target": None, "users": 1} in rows


def test_paths_users_behind_a_flow_and_the_table(capsys, urls):
    code, out, _ = run(
        capsys,
        "paths",
        "--start",
        "bind_card",
        "--steps",
        "4",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-03",
        "--users",
        "2",
        "$AppEnd",
        "-",
        "--warehouse",
        urls["paths"],
    )
    assert code == 0 and json.loads(out) == [{"user_id": "P4", "paths": 2}]
    code, out, _ = run(
        capsys,
        "paths",
        "--after",
        "bind_card_funnel:3",
        "--steps",
        "3",
        "--from",
        "2026-03-04",
        "--to",
        "2026-03-04",
        "--format",
        "table",
        "--warehouse",
        urls["paths"],
    )
    assert code == 0 and "realname_auth" in out and "(2 rows)" in out


def test_attribution_json(capsys, urls):
    code, out, err = run(
        capsys,
        "attribution",
        "--conversion",
        "invest_users",
        "--touches",
        "push_click:campaign_id",
        "$AppViewScreen:utm_campaign",
        "--window",
        "7d",
        "--model",
        "time_decay",
        "--half-life",
        "2d",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-07",
        "--warehouse",
        urls["attribution"],
    )
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert all(list(r) == ["touch", "conversions", "credit", "credit_share"] for r in rows)
    credit = {r["touch"]: r["credit"] for r in rows}
    assert credit["push_click:c1"] == pytest.approx(2.7) and credit[None] == 2
    code, out, _ = run(
        capsys,
        "attribution",
        "--conversion",
        "invest_users",
        "--touches",
        "push_click:campaign_id",
        "$AppViewScreen:utm_campaign",
        "--model",
        "last",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-07",
        "--users",
        "push_click:c1",
        "--warehouse",
        urls["attribution"],
    )
    assert code == 0 and [r["user_id"] for r in json.loads(out)] == ["A6", "A4"]


def test_funnel_trend_and_retention_average(capsys, urls):
    code, out, _ = run(
        capsys,
        "query",
        "bind_card_funnel",
        "--grain",
        "week",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-15",
        "--warehouse",
        urls["funnel"],
        "--format",
        "json",
    )
    rows = json.loads(out)
    assert code == 0 and list(rows[0])[:7] == [
        "week",
        "step",
        "step_name",
        "users",
        "conversion_from_previous",
        "conversion_from_first",
        "median_seconds_to_convert",
    ]
    assert [(r["week"], r["users"]) for r in rows if r["step"] == 3] == [("2026-03-02", 3), ("2026-03-09", 0)]
    assert rows[2]["seconds_to_convert_p90"] == pytest.approx(478800)
    code, out, _ = run(
        capsys,
        "query",
        "bind_card_retention",
        "--average",
        "--grain",
        "week",
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-15",
        "--warehouse",
        urls["funnel"],
        "--format",
        "json",
    )
    assert code == 0 and {r["cohort"] for r in json.loads(out)} >= {"all"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["paths", "--start", "a", "--after", "bind_card_funnel:2"], "not allowed with argument"),
        (["paths"], "give exactly one of --start EVENT, --end EVENT or --after FUNNEL:STEP"),
        (["paths", "nosuch"], "unknown path analysis 'nosuch'"),
        (["paths", "--start", "a", "--steps", "20"], "steps must be from 2 to 10"),
        (["attribution", "--conversion", "invest_users", "--touches", "x", "--model", "u"], "--model must be one of"),
        (["query", "pv", "--average"], "the average over cohorts is for retentions, not aggregate metrics"),
        (["query", "app_stickiness", "--grain", "day"], "a stickiness takes the grain week, month"),
    ],
)
def test_one_line_errors(capsys, urls, args, message):
    code, out, err = run(capsys, *args, "--warehouse", urls["paths"])
    assert code == 2 and out == "" and message in err and err.count("\n") == 1
