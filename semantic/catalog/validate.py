"""Checks that span more than one spec: references, cycles, joins, name clashes."""

from __future__ import annotations

from dataclasses import replace

from semantic.catalog.expressions import did_you_mean
from semantic.catalog.fields import Problems
from semantic.catalog.specs import SINGLE_KINDS, DerivedMetric, Dimension, Metric, Model, RatioMetric

COMPOSABLE = ("aggregate", "session", "first_seen", "ratio", "derived")


def metric_references(metric: Metric) -> tuple[str, ...]:
    """Names of the metrics ``metric`` is computed from (empty for leaf metrics)."""
    if isinstance(metric, RatioMetric):
        return (metric.numerator, metric.denominator)
    if isinstance(metric, DerivedMetric):
        return metric.references
    return ()


def validate_catalog(
    models: dict[str, Model], dimensions: dict[str, Dimension], metrics: dict[str, Metric], problems: Problems
) -> None:
    """Note every cross-spec problem; fills each join's primary key from its target model."""
    _check_joins(models, problems)
    for name, dimension in dimensions.items():
        if name in metrics:
            problems.add(
                dimension.source.file,
                dimension.source.line,
                f"dimension {name!r} has the same name as metric {name!r} (defined at {metrics[name].source}); names must be unique",
            )
    for metric in metrics.values():
        for ref in metric_references(metric):
            target = metrics.get(ref)
            where = metric.source
            if target is None:
                problems.add(
                    where.file,
                    where.line,
                    f"metric {metric.name!r} refers to unknown metric {ref!r}{did_you_mean(ref, metrics)}",
                )
            elif target.type not in COMPOSABLE:
                problems.add(
                    where.file,
                    where.line,
                    f"metric {metric.name!r} refers to {target.type} metric {ref!r}; only {', '.join(COMPOSABLE)} metrics can be combined",
                )
        if metric.type in SINGLE_KINDS and models.get(metric.model) and models[metric.model].time_column is None:
            problems.add(
                metric.source.file, metric.source.line, f"metric {metric.name!r} needs a model with a time_column"
            )
    _check_cycles(metrics, problems)


def _check_joins(models: dict[str, Model], problems: Problems) -> None:
    for name, model in list(models.items()):
        resolved = []
        for join in model.joins:
            target = models.get(join.model)
            if target is None:
                problems.add(
                    model.source.file,
                    model.source.line,
                    f"model {name!r} joins unknown model {join.model!r}{did_you_mean(join.model, models)}",
                )
                continue
            primary_key = join.primary_key or target.primary_key
            if primary_key not in target.columns:
                problems.add(
                    model.source.file,
                    model.source.line,
                    f"model {name!r} joins {join.model!r} on {primary_key!r}, which is not a column of {join.model!r}",
                )
                continue
            if target.joins:
                problems.add(
                    model.source.file,
                    model.source.line,
                    f"model {name!r} joins {join.model!r}, which has joins of its own; only one level of joins is supported",
                )
            resolved.append(replace(join, primary_key=primary_key))
        models[name] = replace(model, joins=tuple(resolved))


def _check_cycles(metrics: dict[str, Metric], problems: Problems) -> None:
    """Report each cycle of ratio/derived references once, naming its path."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    reported: set[frozenset[str]] = set()

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        path.append(name)
        for ref in metric_references(metrics[name]):
            if ref not in metrics:
                continue
            if state.get(ref) == 1:
                cycle = path[path.index(ref) :] + [ref]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    where = metrics[ref].source
                    problems.add(
                        where.file, where.line, f"metrics refer to each other in a cycle: {' -> '.join(cycle)}"
                    )
            elif state.get(ref) is None:
                visit(ref, path)
        path.pop()
        state[name] = 2

    for name in metrics:
        if state.get(name) is None:
            visit(name, [])
