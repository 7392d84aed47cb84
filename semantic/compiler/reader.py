"""The one place where a model's rows are read: every statement the compiler builds takes a model's table from here.

Whatever must hold for every read of a model (a role's row policy, an exact
rollup standing in for the raw table) is applied here, once, so that no SQL
builder, drill-down or analysis can forget it. ``tests/test_layout.py``
fails when another module of ``semantic/`` names a table itself.
"""

from __future__ import annotations

from sqlglot import exp

from semantic.catalog.expressions import SOURCE_DIALECT
from semantic.catalog.specs import Model


def model_rows(model: Model) -> exp.Expr:
    """The FROM item reading ``model``: its table, aliased by the model's name (the alias every snippet is qualified with)."""
    table = exp.to_table(model.table, dialect=SOURCE_DIALECT)
    return exp.alias_(table, model.name, table=True, copy=False) if table.name != model.name or table.db else table
