"""Golden SQL of the analysis models per dialect (tests/golden/<dialect>/<case>.sql), as tests/test_golden_sql.py.

Regenerate deliberately with ``FINLENS_UPDATE_GOLDEN=1 pytest tests/test_golden_models.py`` and review the diff;
the numbers are pinned by the hand-worked and oracle tests, not by these files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from semantic import Query, compile_query
from semantic.analyses.attribution import attribution_spec, compile_attribution
from semantic.analyses.paths import adhoc_path, load_paths
from semantic.analyses.paths_sql import compile_paths
from semantic.compiler.dialects import DIALECTS

GOLDEN = Path(__file__).parent / "golden"
MARCH = dict(start=date(2026, 3, 1), end=date(2026, 3, 31))
QUERIES = {
    "bind_card_funnel_weekly_time_to_convert": Query(
        metrics=("bind_card_funnel",), grain="week", dimensions=("platform",), time_to_convert=True, **MARCH
    ),
    "bind_card_retention_weekly_average": Query(metrics=("bind_card_retention",), grain="week", average=True, **MARCH),
    "bind_card_retention_unbounded": Query(metrics=("bind_card_retention_unbounded",), **MARCH),
    "register_to_card_interval_by_day": Query(
        metrics=("register_to_card_interval",), grain="day", dimensions=("register_channel",), **MARCH
    ),
    "invest_ltv_monthly": Query(metrics=("invest_ltv",), grain="month", dimensions=("platform",), **MARCH),
    "app_stickiness_by_platform": Query(metrics=("app_stickiness",), dimensions=("platform",), **MARCH),
}


def _analyses(catalog) -> dict[str, Callable[[str], str]]:
    attribution = attribution_spec(
        catalog,
        conversion="invest_users",
        touches=["push_click:campaign_id", "$AppViewScreen:utm_campaign"],
        window="7d",
        model="time_decay",
        half_life="2d",
    )
    return {
        "paths_after_card_failure": lambda d: compile_paths(
            catalog, load_paths(catalog)["after_card_failure"], d, **MARCH
        ),
        "paths_after_funnel_drop": lambda d: compile_paths(
            catalog, adhoc_path(catalog, after="bind_card_funnel:3", steps=4), d, **MARCH
        ),
        "attribution_time_decay": lambda d: compile_attribution(
            catalog, attribution, d, **MARCH, where="platform = 'iOS'"
        ),
    }


CASES = sorted([*QUERIES, "paths_after_card_failure", "paths_after_funnel_drop", "attribution_time_decay"])


def compiled(catalog, case: str, dialect: str) -> str:
    if case in QUERIES:
        return compile_query(catalog, QUERIES[case], dialect).sql
    return _analyses(catalog)[case](dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", CASES)
def test_golden_sql(catalog, case, dialect):
    sql = compiled(catalog, case, dialect) + "\n"
    path = GOLDEN / dialect / f"{case}.sql"
    if os.environ.get("FINLENS_UPDATE_GOLDEN"):
        path.write_text(sql, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with FINLENS_UPDATE_GOLDEN=1"
    assert sql == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("case", CASES)
def test_sql_uses_only_supported_constructs(catalog, case, dialect):
    """Printed again with unsupported constructs raising, and parsed back as one statement."""
    sql = compiled(catalog, case, dialect)
    tree = sqlglot.parse_one(sql, read=dialect)
    tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    assert len(sqlglot.parse(sql, read=dialect)) == 1
