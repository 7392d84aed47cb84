"""The one place where a model's rows are read: every statement the compiler builds takes a model's table from here.

Whatever must hold for every read of a model is applied here, once, so that no
SQL builder, drill-down or analysis can forget it: a role's row filter
(``metrics/access.yml``) wraps the table as ``(SELECT * FROM table WHERE
filter) AS model``, so every later condition, join or window sees only the
rows the role may see. ``tests/test_layout.py`` fails when another module of
``semantic/`` names a table itself, and ``tests/test_access_policies.py`` when
a kind of question is compiled without the filter.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import SOURCE_DIALECT
from semantic.catalog.specs import Model


def model_rows(catalog: Catalog, model: Model, *, first_times_only: bool = False) -> exp.Expr:
    """The FROM item reading ``model``, aliased by the model's name (the alias every snippet is qualified with).

    Args:
        first_times_only: the read finds each user's first event in the whole table, and the caller tests the
            role's condition (:func:`role_condition`) on that first event, as it tests a ``--where``: "first
            ever" means first in the whole table under any role, so a user who first came through another
            business line is not new to this one. Nothing of a hidden row leaves the statement.
    """
    table = exp.to_table(model.table, dialect=SOURCE_DIALECT)
    condition = catalog.role.rows.get(model.name) if catalog.role is not None and not first_times_only else None
    if condition is not None:
        aliased = exp.alias_(table, model.name, table=True, copy=False)
        allowed = exp.select(exp.Star()).from_(aliased, copy=False).where(condition.copy(), copy=False)
        return allowed.subquery(model.name, copy=False)
    return exp.alias_(table, model.name, table=True, copy=False) if table.name != model.name or table.db else table


def role_condition(catalog: Catalog, model: Model) -> exp.Expr | None:
    """The condition the catalog's role puts on ``model``'s rows (qualified by the model's name), or None."""
    condition = catalog.role.rows.get(model.name) if catalog.role is not None else None
    return condition.copy() if condition is not None else None


def time_bounds(model: Model, *, first: bool = True, last_alias: str | None = None) -> exp.Select:
    """``SELECT [MIN(time),] MAX(time)`` over the model's whole table: how far the data reaches, not rows of it.

    Every role may know how fresh the data is (the sidebar's range, a retention period not yet elapsed), so the
    bounds come from the whole table; that also keeps a role's numbers equal to an administrator's with the
    role's filter as a ``--where``.
    """
    time = exp.column(model.time_column or "", table=model.name)
    table = exp.to_table(model.table, dialect=SOURCE_DIALECT)
    source = exp.alias_(table, model.name, table=True, copy=False) if table.name != model.name or table.db else table
    last: exp.Expr = exp.Max(this=time)
    if last_alias:
        last = exp.alias_(last, last_alias, copy=False)
    columns = [exp.Min(this=time.copy()), last] if first else [last]
    return exp.select(*columns).from_(source, copy=False)


# The exact rollups the loaders maintain (semantic/compiler/rollup_build.py) and the table saying which are current.
SESSION_ROLLUP = "rollup_session_days"
FIRST_SEEN_ROLLUP = "rollup_first_seen"
USER_DAYS_ROLLUP = "rollup_user_days"
ACTIVE_DAYS_ROLLUP = "rollup_active_days"
ROLLUPS = (SESSION_ROLLUP, FIRST_SEEN_ROLLUP, USER_DAYS_ROLLUP, ACTIVE_DAYS_ROLLUP)
ROLLUP_STATE_TABLE = "rollup_state"
# A rollup_state row (name, count) holding the events model's row count when the rollups were last made current
# (DuckDB and ClickHouse, where counting is free): a different count means another writer changed the events.
STATE_ROWS_KEY = "events_rows"
COUNTED_DIALECTS = ("duckdb", "clickhouse")
ROLLUP_STAGE_TABLE = "rollup_users_stage"
ROLLUP_SPAN_STAGE_TABLE = "rollup_spans_stage"  # user_id, span_start, span_end: the times a refresh recomputes


def rollup_rows(catalog: Catalog, name: str, model: Model, *, filtered: bool = False) -> exp.Expr:
    """The FROM item reading rollup ``name``, aliased by ``model``'s name so the model's snippets apply to it.

    Only the compiler's rollup rule (``semantic/compiler/rollups.py``) calls this: for sessions only without a row
    policy; otherwise only when the role's condition reads columns the rollup keeps per row, where it is applied
    here as on the model (``rollup_user_days``, ``rollup_active_days``) or tested on the first event (``rollup_first_seen``).
    """
    table = exp.alias_(exp.to_table(name), model.name, table=True, copy=False)
    condition = catalog.role.rows.get(model.name) if catalog.role is not None and filtered else None
    if condition is None:
        return table
    return exp.select(exp.Star()).from_(table, copy=False).where(condition.copy(), copy=False).subquery(model.name)


def rollup_table(name: str) -> exp.Table:
    """A rollup's (or its state's or stage's) table, for the loaders that maintain them."""
    return exp.to_table(name)


def rollup_stage_users() -> exp.Select:
    """``SELECT user_id FROM`` the loader's stage of users whose rollup rows are being recomputed."""
    return exp.select("user_id").from_(exp.to_table(ROLLUP_STAGE_TABLE), copy=False)


def rollup_span_test(user: exp.Expr, time: exp.Expr, *, upper: bool = True) -> exp.Exists:
    """``EXISTS`` a staged span of ``user`` with ``span_start <= time (< span_end)``: rows a span refresh replaces."""
    span = "rollup_span"
    inside = [exp.column("user_id", table=span).eq(user.copy()), time.copy() >= exp.column("span_start", table=span)]
    if upper:
        inside.append(time.copy() < exp.column("span_end", table=span))
    stage = exp.alias_(exp.to_table(ROLLUP_SPAN_STAGE_TABLE), span, table=True, copy=False)
    return exp.Exists(this=exp.select(exp.Literal.number(1)).from_(stage, copy=False).where(*inside, copy=False))


def row_count_select(model: Model) -> exp.Select:
    """``SELECT COUNT(*) FROM`` the model's table (metadata only on DuckDB and ClickHouse)."""
    return exp.select(exp.Count(this=exp.Star())).from_(exp.to_table(model.table), copy=False)


def rollup_state_select() -> exp.Select:
    """``SELECT name, fingerprint FROM rollup_state``: the rollups a loader built and keeps current."""
    return exp.select("name", "fingerprint").from_(exp.to_table(ROLLUP_STATE_TABLE), copy=False)
