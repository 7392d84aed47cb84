"""Lifecycle and RFM through the command line and the page, on the hand-built fixture of test_lifecycle.py.

The numbers asserted here are the ones worked out by hand in that module's docstring.
"""

from __future__ import annotations

import argparse
import json

import pytest

from finlens_common.errors import QueryError
from tests.test_lifecycle import PROJECT, duckdb_url, root  # noqa: F401 - the fixtures, shared

# --- command line -------------------------------------------------------------------------------------------


def run_cli(argv, capsys, monkeypatch, root, url):
    from finlens.cli import lifecycle as cli_lifecycle

    monkeypatch.setenv("FINLENS_METRICS", str(root))
    parser = argparse.ArgumentParser()
    parser.add_argument("--metrics-dir")
    commands = parser.add_subparsers(dest="command")
    cli_lifecycle.add_parsers(commands)
    args = parser.parse_args([*argv, "--warehouse", url])
    code = cli_lifecycle.COMMANDS[args.command](args)
    return code, capsys.readouterr().out


def test_cli_lifecycle_json(capsys, monkeypatch, root, duckdb_url):
    code, out = run_cli(["lifecycle", "--as-of", "2026-03-31"], capsys, monkeypatch, root, duckdb_url)
    assert code == 0
    data = json.loads(out)
    assert data["as_of"] == "2026-03-31" and data["total"] == 14
    assert [(r["stage"], r["users"]) for r in data["stages"]] == [
        ("visitor", 2),
        ("new", 2),
        ("holding", 7),
        ("redeemed", 3),
    ]
    assert data["stages"][2]["label_en"] == "Existing (holding)"


def test_cli_lifecycle_defaults_to_the_last_day_with_events(capsys, monkeypatch, root, duckdb_url):
    # the last event is V2's investment on 2026-04-03: it counts (V2 holds), and H1 has redeemed
    code, out = run_cli(["lifecycle"], capsys, monkeypatch, root, duckdb_url)
    data = json.loads(out)
    assert code == 0
    assert data["as_of"] == "2026-04-03"
    assert [(r["stage"], r["users"]) for r in data["stages"]] == [
        ("visitor", 1),
        ("new", 2),
        ("holding", 7),
        ("redeemed", 4),
    ]


def test_cli_stage_users_and_csv(capsys, monkeypatch, root, duckdb_url):
    code, out = run_cli(
        ["lifecycle", "--as-of", "2026-03-31", "--stage", "redeemed", "--users"], capsys, monkeypatch, root, duckdb_url
    )
    data = json.loads(out)
    assert code == 0
    assert data["total"] == 3 and sorted(r["user_id"] for r in data["users"]) == ["O1", "R1", "W1"]
    assert {r["user_id"]: r["last_redeem"] for r in data["users"]}["W1"] == "2026-03-25 09:00:00"
    _, out = run_cli(
        ["lifecycle", "--as-of", "2026-03-31", "--stage", "new", "--csv"], capsys, monkeypatch, root, duckdb_url
    )
    assert out == "user_id\nN1\nN2\n"


def test_cli_rfm(capsys, monkeypatch, root, duckdb_url):
    code, out = run_cli(["rfm", "--as-of", "2026-03-31"], capsys, monkeypatch, root, duckdb_url)
    data = json.loads(out)
    assert (
        code == 0
        and data["total"] == 10
        and data["lookback"] == {"start": "2025-04-01", "end": "2026-03-31", "days": 365}
    )
    assert {g["rfm_group"]: g["users"] for g in data["groups"]}["important_value"] == 3
    assert {(t["measure"], t["score"]): t["max_value"] for t in data["thresholds"]}[("monetary", 5)] == 12000
    _, table = run_cli(["rfm", "--as-of", "2026-03-31", "--format", "table"], capsys, monkeypatch, root, duckdb_url)
    assert "important_value" in table and "(8 rows)" in table
    code, out = run_cli(
        ["rfm", "--as-of", "2026-03-31", "--group", "important_value", "--users"], capsys, monkeypatch, root, duckdb_url
    )
    data = json.loads(out)
    assert {r["user_id"]: (r["r_score"], r["f_score"], r["m_score"]) for r in data["users"]} == {
        "H1": (5, 5, 5),
        "K1": (3, 3, 4),
        "W1": (4, 4, 5),
    }
    _, out = run_cli(
        ["rfm", "--as-of", "2026-03-31", "--group", "general_keep", "--csv"], capsys, monkeypatch, root, duckdb_url
    )
    assert out == "user_id\nT1\n"


def test_cli_bad_input_raises_query_errors(capsys, monkeypatch, root, duckdb_url):
    with pytest.raises(QueryError, match="unknown RFM group"):
        run_cli(["rfm", "--group", "vip"], capsys, monkeypatch, root, duckdb_url)
    with pytest.raises(QueryError, match="bad date"):
        run_cli(["lifecycle", "--as-of", "31/03/2026"], capsys, monkeypatch, root, duckdb_url)


# --- the page -----------------------------------------------------------------------------------------------


def test_the_page_shows_the_semantic_layer_numbers(monkeypatch, root, duckdb_url):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FINLENS_WAREHOUSE", duckdb_url)
    monkeypatch.setenv("FINLENS_METRICS", str(root))
    at = AppTest.from_file(str(PROJECT / "finlens" / "pages" / "lifecycle.py"), default_timeout=120)
    at.query_params["as_of"] = "2026-03-31"
    at.run()
    assert [e.value for e in at.exception] + [e.value for e in at.error] == []
    metrics = {m.label: m.value for m in at.metric}
    assert (
        metrics["Visitor"],
        metrics["New (never invested)"],
        metrics["Existing (holding)"],
        metrics["Existing (redeemed)"],
    ) == ("2", "2", "7", "3")
    table = at.dataframe[0].value
    assert dict(zip(table["group"], table["users"])) == {
        "important_value": 3,
        "important_develop": 1,
        "important_keep": 1,
        "important_retain": 1,
        "general_value": 1,
        "general_develop": 1,
        "general_keep": 1,
        "general_retain": 1,
    }
    # pick a stage: its members are listed, with a CSV of their ids
    at.selectbox(key="lifecycle_pick").set_value("stage:redeemed").run()
    assert [e.value for e in at.exception] + [e.value for e in at.error] == []
    members = at.dataframe[-1].value
    assert sorted(members["user_id"]) == ["O1", "R1", "W1"]
    assert at.get("download_button")
    # the stage labels come from the YAML, in the chosen language
    zh = AppTest.from_file(str(PROJECT / "finlens" / "pages" / "lifecycle.py"), default_timeout=120)
    zh.query_params["as_of"] = "2026-03-31"
    zh.query_params["lang"] = ["zh"]
    zh.run()
    assert {m.label: m.value for m in zh.metric}["老客（持有中）"] == "7"
