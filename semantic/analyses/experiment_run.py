"""Running an experiment: users and conversions per variant in one statement, then the statistics.

A funnel or ratio experiment is the metric grouped by the variant dimension (the
compiler's own statement). A condition experiment groups the users holding a
variant by it and counts those for whom the condition holds, as of the
experiment's last day (see :mod:`semantic.analyses.experiments`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from connectors.base import Warehouse
from finlens_common.errors import QueryError
from semantic.analyses.experiment_stats import Comparison, compare, rate
from semantic.analyses.experiments import Experiment
from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import qualify
from semantic.catalog.specs import FunnelMetric, RatioMetric
from semantic.compiler import dialects
from semantic.compiler.context import conjunction, flag, with_ctes
from semantic.compiler.query import Query
from semantic.compiler.results import normalise, run_query
from semantic.compiler.segment import USERS_MODEL, segment_frame
from semantic.compiler.span import default_as_of


@dataclass(frozen=True)
class VariantOutcome:
    """One variant: its users, how many converted, the rate, and (except for the control) the comparison."""

    variant: str
    users: int
    converted: int
    rate: float | None
    is_control: bool
    comparison: Comparison | None


@dataclass(frozen=True)
class ExperimentResult:
    experiment: Experiment
    start: date | None
    end: date | None
    variants: list[VariantOutcome]
    unassigned_users: int  # users counted with no variant value (left out of the comparison)
    sql: str

    @property
    def control(self) -> VariantOutcome | None:
        return next((v for v in self.variants if v.is_control), None)


def _variant_expression(catalog: Catalog, experiment: Experiment) -> exp.Expr:
    dimension = catalog.dimensions[experiment.variant]
    return qualify(dimension.expr, dimension.model)


def experiment_frame(catalog: Catalog, experiment: Experiment, as_of: date, dialect: str):
    """The users table with the conversion test (and the population test, if any) compiled for ``as_of``."""
    assert experiment.converted is not None
    conditions = [experiment.converted, *([experiment.population] if experiment.population is not None else [])]
    frame = segment_frame(catalog, conditions, as_of, dialect, name=experiment.name)
    variant = _variant_expression(catalog, experiment)
    population = conjunction([variant.copy().is_(exp.null()).not_(), *frame.tests[1:]])
    return frame, variant, population


def compile_condition_experiment(catalog: Catalog, experiment: Experiment, as_of: date, dialect: str = "duckdb") -> str:
    """SQL: per variant value (NULL = unassigned), the users and how many of them converted."""
    frame, variant, _ = experiment_frame(catalog, experiment, as_of, dialect)
    where = conjunction(frame.tests[1:])  # the population, if any; unassigned users form the NULL group
    select = frame.select.select(
        exp.alias_(variant, "variant", copy=False),
        exp.alias_(exp.Count(this=exp.Star()), "users", copy=False),
        exp.alias_(exp.Sum(this=flag(frame.tests[0])), "converted", copy=False),
        copy=False,
    )
    if where is not None:
        select = select.where(where, copy=False)
    select = select.group_by(exp.Literal.number(1), copy=False).order_by(exp.Literal.number(1), copy=False)
    statement = with_ctes(select, frame.ctes) if frame.ctes else select
    statement = dialects.quote_reserved(dialects.adapt(statement, dialect))
    return statement.sql(dialect=dialect, pretty=True)


def experiment_members(
    catalog: Catalog, experiment: Experiment, as_of: date, dialect: str, *, variant: str, converted: bool | None = None
) -> exp.Select:
    """``SELECT user_id`` of a condition experiment's users of ``variant`` (only converted or not, if given)."""
    if experiment.converted is None:
        raise QueryError(
            f"experiment {experiment.name!r} counts a metric's users: open them from the metric's users page"
        )
    frame, variant_expr, population = experiment_frame(catalog, experiment, as_of, dialect)
    users = catalog.models[USERS_MODEL]
    tests = [population, variant_expr.copy().eq(exp.convert(variant))]
    if converted is not None:
        tests.append(frame.tests[0] if converted else exp.not_(exp.paren(frame.tests[0], copy=False)))
    select = frame.select.select(
        exp.alias_(exp.column(users.entity, table=users.name), "user_id", copy=False), copy=False
    )
    select = select.where(conjunction(tests), copy=False)
    return with_ctes(select, frame.ctes) if frame.ctes else select


def run_experiment(
    catalog: Catalog,
    experiment: Experiment,
    warehouse: Warehouse,
    *,
    start: date | None = None,
    end: date | None = None,
) -> ExperimentResult:
    """Users and conversions per variant, each compared with the control (``start``/``end`` override the YAML)."""
    start = start or experiment.start
    end = end or experiment.end
    if experiment.converted is not None:
        as_of = end or default_as_of(catalog, warehouse)
        sql = compile_condition_experiment(catalog, experiment, as_of, warehouse.dialect)
        counts = [(normalise(v), int(n or 0), int(x or 0)) for v, n, x in warehouse.query(sql).rows]
        end = as_of
    else:
        counts, sql = _metric_counts(catalog, experiment, warehouse, start, end)
    assigned = [(str(v), n, x) for v, n, x in counts if v is not None]
    unassigned = sum(n for v, n, _ in counts if v is None)
    control = next(((n, x) for v, n, x in assigned if v == experiment.control), None)
    if control is None:
        seen = ", ".join(v for v, _, _ in assigned) or "none"
        raise QueryError(
            f"experiment {experiment.name!r}: no users in control variant {experiment.control!r} (variants found: {seen})"
        )
    outcomes = []
    for variant, users, converted in assigned:
        is_control = variant == experiment.control
        comparison = (
            None if is_control else compare((control[1], control[0]), (converted, users), experiment.confidence)
        )
        outcomes.append(VariantOutcome(variant, users, converted, rate(converted, users), is_control, comparison))
    outcomes.sort(key=lambda o: (not o.is_control, o.variant))
    return ExperimentResult(experiment, start, end, outcomes, unassigned, sql)


def _metric_counts(
    catalog: Catalog, experiment: Experiment, warehouse: Warehouse, start: date | None, end: date | None
):
    """(variant, users, converted) from the metric grouped by the variant."""
    metric = catalog.metrics[experiment.metric or ""]
    if isinstance(metric, FunnelMetric):
        result = run_query(
            catalog, Query(metrics=(metric.name,), dimensions=(experiment.variant,), start=start, end=end), warehouse
        )
        last = len(metric.steps)
        by_variant: dict = {}
        for row in result.rows:
            entry = by_variant.setdefault(row[experiment.variant], [0, 0])
            if row["step"] == 1:
                entry[0] = row["users"]
            if row["step"] == last:
                entry[1] = row["users"]
        return [(v, n, x) for v, (n, x) in by_variant.items()], result.sql
    assert isinstance(metric, RatioMetric)
    names = (metric.denominator, metric.numerator)
    result = run_query(catalog, Query(metrics=names, dimensions=(experiment.variant,), start=start, end=end), warehouse)
    return [
        (row[experiment.variant], int(row[names[0]] or 0), int(row[names[1]] or 0)) for row in result.rows
    ], result.sql
