"""The audit trail: every query and export of the CLI recorded with who, when, the SQL's hash and the rows;
append-only, verifiable, kept across processes, prunable on purpose only."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from datetime import date

import pytest

from finlens import audit
from finlens.cli import main
from semantic import Query, compile_query, load_catalog
from tests.app_helpers import make_demo

SECRET = "a-deployment-secret-for-tests"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("audit") / "demo.duckdb", users=300, days=20)


def test_queries_and_exports_are_recorded(capsys, demo, audit_trail, monkeypatch):
    monkeypatch.setenv("FINLENS_PSEUDONYM_SECRET", SECRET)
    args = ["--warehouse", demo, "--from", "2026-10-20", "--to", "2026-10-31", "--format", "json"]
    assert main(["query", "uv", *args, "--as", "bob@bank.example", "--groups", "p2p"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert (
        main(
            [
                "segment",
                "card_no_invest_30d",
                "--ids",
                "--warehouse",
                demo,
                "--as-of",
                "2026-10-31",
                "--as",
                "carol@bank.example",
                "--groups",
                "marketing",
            ]
        )
        == 0
    )
    exported = capsys.readouterr().out.splitlines()[1:]
    assert (
        main(
            [
                "segment",
                "card_no_invest_30d",
                "--ids",
                "--warehouse",
                demo,
                "--as-of",
                "2026-10-31",
                "--as",
                "bob@bank.example",
                "--groups",
                "p2p",
            ]
        )
        == 2
    )  # refused: not recorded as an export
    capsys.readouterr()
    trail = audit.entries(path=audit_trail)
    assert [(e["identity"], e["role"], e["source"], e["action"]) for e in trail] == [
        ("bob@bank.example", "p2p_team", "cli:query", "query"),
        ("carol@bank.example", "marketing", "cli:segment", "export"),
    ]
    query_sql = compile_query(
        load_catalog().for_role(_role("p2p_team")),
        Query(metrics=("uv",), start=date(2026, 10, 20), end=date(2026, 10, 31)),
    ).sql
    assert trail[0]["sql_hash"] == hashlib.sha256(query_sql.encode()).hexdigest() and trail[0]["rows"] == len(rows)
    assert trail[1]["rows"] == len(exported) > 0 and trail[1]["detail"] == "--ids"
    assert all(e["at"].startswith(str(date.today().year)) for e in trail)


def _role(name):
    from semantic.catalog.access import load_access

    return load_access(load_catalog()).roles[name]


def test_the_trail_survives_processes_and_detects_tampering(tmp_path, demo):
    path = tmp_path / "trail.sqlite"
    env_run = [sys.executable, "-c", "from finlens.cli import main; raise SystemExit(main())"]
    for metric in ("pv", "uv"):
        done = subprocess.run(
            [*env_run, "query", metric, "--warehouse", demo],
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "FINLENS_AUDIT": str(path)},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    assert [e["detail"] for e in audit.entries(path=path)] == ["pv", "uv"]
    assert audit.verify(path) == 2
    with sqlite3.connect(path) as conn:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit SET identity = 'someone else'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM audit")
        conn.execute("DROP TRIGGER audit_no_update")  # someone with the file in hand
        conn.execute("UPDATE audit SET rows = 999 WHERE id = 1")
    with pytest.raises(audit.AuditError, match="row 1 was changed"):
        audit.verify(path)


def test_pruning_is_recorded_and_the_rest_still_verifies(tmp_path):
    path = tmp_path / "trail.sqlite"
    for day in ("2026-01-01", "2026-02-01", "2026-03-01"):
        audit.record(
            audit.Entry(identity="a", role="admin", source="cli:query", action="query", at=f"{day}T00:00:00+00:00"),
            path,
        )
    assert audit.prune(date(2026, 2, 15), "os:ops", path) == 2
    kept = audit.entries(path=path)
    assert [(e["at"][:10], e["action"]) for e in kept][0] == ("2026-03-01", "query")
    assert kept[-1]["action"] == "pruned" and kept[-1]["rows"] == 2
    assert audit.verify(path) == 2
    assert [e["identity"] for e in audit.entries(who="os:ops", path=path)] == ["os:ops"]
    assert [e["at"][:10] for e in audit.entries(since=date(2026, 3, 1), path=path)][0] == "2026-03-01"


def test_cli_reads_and_verifies(capsys, audit_trail):
    audit.record(
        audit.Entry(
            identity="alice@bank.example", role="admin", source="app:sequence", action="sequence", detail="user u1"
        ),
        audit_trail,
    )
    assert main(["audit", "--who", "alice@bank.example", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["action"], row["detail"]) == ("sequence", "user u1")
    assert main(["audit", "--verify"]) == 0 and "1 rows, chain intact" in capsys.readouterr().out
