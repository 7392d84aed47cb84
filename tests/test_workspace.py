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
