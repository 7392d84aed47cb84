"""Golden SQL per dialect: one file per (dialect, case) under tests/golden/<dialect>/<case>.sql.

A change to generated SQL shows up as a diff here; regenerate deliberately with
``FINLENS_UPDATE_GOLDEN=1 pytest tests/test_golden_sql.py`` and review the diff.
The numbers themselves are pinned by the execution tests, not by these files.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from semantic import Query, compile_query
from semantic.compiler.compile import build_ast
from semantic.compiler.dialects import DIALECTS
from semantic.compiler.query import resolve

GOLDEN = Path(__file__).parent / "golden"
MARCH = dict(start=date(2026, 3, 1), end=date(2026, 3, 31))
CASES = {
    "pv_uv_by_platform_daily": Query(metrics=("pv", "uv"), dimensions=("platform",), grain="day", **MARCH),
    "ratio_derived_joined_filter": Query(
        metrics=("error_rate", "net_deposit", "bind_card_users"),
        dimensions=("register_channel",),
        grain="week",
        where="platform IN ('iOS', 'Android') AND NOT gender = 'F'",
        **MARCH,
    ),
    "session_metrics_with_new_users": Query(
        metrics=("sessions", "bounce_rate", "avg_session_duration", "avg_visit_depth", "new_users", "pv"),
        grain="month",
    ),
    "invest_funnel_by_platform": Query(metrics=("invest_funnel",), dimensions=("platform",), **MARCH),
    "bind_card_retention": Query(metrics=("bind_card_retention",), **MARCH),
    "hourly_top_pages": Query(
        metrics=("pv",), dimensions=("page",), grain="hour", order_by=("-pv",), limit=10, **MARCH
    ),
}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_sql(catalog, case, dialect):
    sql = compile_query(catalog, CASES[case], dialect).sql + "\n"
    path = GOLDEN / dialect / f"{case}.sql"
    if os.environ.get("FINLENS_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with FINLENS_UPDATE_GOLDEN=1"
    assert sql == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_sql_uses_only_supported_constructs(catalog, case, dialect):
    """sqlglot raises instead of warning when a construct has no translation, and the output parses back."""
    ast = build_ast(catalog, resolve(catalog, CASES[case]), dialect)
    sql = ast.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    statements = sqlglot.parse(sql, read=dialect)
    assert len(statements) == 1


def test_user_values_are_literals_not_sql(catalog):
    """A quote in a filter value stays inside a string literal on every dialect."""
    query = Query(metrics=("pv",), where="page = 'x'' OR 1=1 --'")
    for dialect in DIALECTS:
        sql = compile_query(catalog, query, dialect, pretty=False).sql
        (statement,) = sqlglot.parse(sql, read=dialect)
        literals = [lit.this for lit in statement.find_all(sqlglot.exp.Literal) if lit.is_string]
        assert "x' OR 1=1 --" in literals
