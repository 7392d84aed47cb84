"""Choosing the warehouse, and the embedded default filled with demo data on first use."""

from __future__ import annotations

import json

import pytest

from connectors import connect
from finlens import workspace
from finlens.cli import main
from finlens_common import settings


@pytest.fixture()
def default_file(tmp_path, monkeypatch):
    path = tmp_path / "data" / "finlens.duckdb"
    monkeypatch.setattr(settings, "DEFAULT_WAREHOUSE_FILE", path)
    monkeypatch.delenv(settings.WAREHOUSE_ENV, raising=False)
    return path


def test_choice_order(default_file, monkeypatch):
    assert settings.warehouse_url() == f"duckdb:///{default_file.as_posix()}"
    assert settings.warehouse_url().startswith("duckdb:////")  # absolute path: four slashes
    monkeypatch.setenv(settings.WAREHOUSE_ENV, "duckdb:///from_env.duckdb")
    assert settings.warehouse_url() == "duckdb:///from_env.duckdb"
    assert settings.warehouse_url("duckdb:///explicit.duckdb") == "duckdb:///explicit.duckdb"


def test_default_is_filled_once_then_reused(default_file):
    url = settings.warehouse_url()
    calls = []
    assert workspace.needs_demo(url)
    assert workspace.ensure_demo(url, progress=lambda done, total: calls.append((done, total)), users=300, days=14)
    assert default_file.exists() and calls[-1] == (300, 300)
    assert not workspace.needs_demo(url)
    assert not workspace.ensure_demo(url, users=300, days=14)


def test_other_warehouses_are_never_filled(tmp_path, default_file):
    assert not workspace.needs_demo(f"duckdb:///{tmp_path}/elsewhere.duckdb")


def test_cli_demo_then_query(tmp_path, capsys):
    url = f"duckdb:///{tmp_path}/demo.duckdb"
    assert main(["demo", "--users", "200", "--days", "10", "--warehouse", url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("demo: 200 users, ") and "2026-10-22 to 2026-10-31" in out
    assert main(["query", "uv", "--warehouse", url, "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    with connect(url) as warehouse:
        (expected,) = warehouse.query("SELECT COUNT(DISTINCT user_id) FROM events").rows[0]
    assert row["uv"] == expected and expected > 100


def test_cli_demo_rejects_bad_size(tmp_path, capsys):
    assert main(["demo", "--users", "0", "--warehouse", f"duckdb:///{tmp_path}/x.duckdb"]) == 4
    err = capsys.readouterr().err
    assert err.startswith("finlens: error: ") and err.count("\n") == 1


def test_the_first_start_builds_the_whole_default_demo_and_its_rollups_under_its_memory_cap(default_file):
    """README's first command: the default demo (40,000 people, ~2.8M events) is written by a loader that owns the
    file with a 256 MB cap; the session rollup over all of it once ran out of that memory. Built in parts now,
    every rollup must be current and answer as the events do."""
    from dataclasses import replace

    from semantic import Query, load_catalog, run_query
    from semantic.compiler.reader import ROLLUPS
    from semantic.compiler.rollup_state import current_rollups

    url = settings.warehouse_url()
    assert workspace.ensure_demo(url)  # the defaults README's first command uses
    catalog = load_catalog()
    with connect(url) as reader:
        assert current_rollups(catalog, reader) == frozenset(ROLLUPS)
        sessions = Query(metrics=("sessions", "bounce_rate", "new_users", "uv"))
        fast = run_query(catalog, sessions, reader)
        slow = run_query(replace(catalog, rollups=frozenset()), sessions, reader)
    assert "rollup_session_days" in fast.sql and "rollup_session_days" not in slow.sql
    assert fast.rows[0]["sessions"] == slow.rows[0]["sessions"] > 0
    assert fast.rows[0]["new_users"] == slow.rows[0]["new_users"] == 40_000  # every demo person has events
    assert fast.rows[0]["bounce_rate"] == pytest.approx(slow.rows[0]["bounce_rate"])
