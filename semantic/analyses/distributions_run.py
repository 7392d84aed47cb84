"""Compiling and running a distribution, and the users behind one of its bars.

The YAML is read by :mod:`semantic.analyses.distributions`, the SQL built by
:mod:`semantic.analyses.distributions_sql`; here they meet a warehouse.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlglot import exp

from connectors.base import Warehouse
from finlens_common.errors import QueryError
from semantic.analyses import distributions_sql as sql
from semantic.analyses.distributions import Distribution, DistributionSpec
from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import did_you_mean
from semantic.compiler.results import normalise

# --- compiling and running ---------------------------------------------------------------------------------------


def find(specs: dict[str, DistributionSpec], name: str) -> DistributionSpec:
    """The distribution ``name``, or a QueryError with a did-you-mean."""
    spec = specs.get(name)
    if spec is None:
        raise QueryError(f"unknown distribution {name!r}{did_you_mean(name, specs)}; declared: {', '.join(specs)}")
    return spec


def _spec(specs: dict[str, DistributionSpec], name: str, kind: str) -> DistributionSpec:
    spec = find(specs, name)
    if spec.kind != kind:
        raise QueryError(f"distribution {name!r} is of type {spec.kind}, not {kind}")
    return spec


def compile_distribution(
    catalog: Catalog,
    specs: dict[str, DistributionSpec],
    name: str,
    dialect: str = "duckdb",
    *,
    start: date | None,
    end: date | None,
    where: str | None = None,
) -> str:
    """The one SQL statement answering distribution ``name`` on ``dialect``."""
    spec = find(specs, name)
    dims = tuple(catalog.dimensions[d] for d in (*spec.by, *([spec.dimension] if spec.dimension else ())))
    ctx = sql.events_context(catalog, dialect, start=start, end=end, where=where, dimensions=dims)
    if spec.kind == "buckets":
        select = sql.bucket_counts(ctx, sql.bucket_ctes(ctx, spec.edges, spec.events, spec.filter, spec.amount))
    elif spec.kind == "share":
        select = sql.share_counts(sql.latest_value_ctes(ctx, dims[0]))
    else:
        select = sql.error_cells(ctx, dims, spec.events or (), spec.filter)
    return sql.finish(select, ctx.dialect)


def _run(
    catalog: Catalog,
    specs: dict[str, DistributionSpec],
    name: str,
    kind: str,
    warehouse: Warehouse,
    start: date | None,
    end: date | None,
    where: str | None,
) -> tuple[DistributionSpec, str, list[tuple]]:
    spec = _spec(specs, name, kind)
    text = compile_distribution(catalog, specs, name, warehouse.dialect, start=start, end=end, where=where)
    return spec, text, [tuple(normalise(v) for v in row) for row in warehouse.query(text).rows]


def bucket_distribution(
    catalog: Catalog,
    spec: dict[str, DistributionSpec],
    name: str,
    warehouse: Warehouse,
    *,
    start: date | None,
    end: date | None,
    where: str | None = None,
) -> Distribution:
    """Users per bucket of their total (every bucket listed, empty ones with 0), with shares."""
    found, text, raw = _run(catalog, spec, name, "buckets", warehouse, start, end, where)
    return buckets_from_counts(found, {int(bucket): int(users) for bucket, users in raw}, text)


def buckets_from_counts(spec: DistributionSpec, counts: dict[int, int], text: str) -> Distribution:
    """Rows for every bucket from the users per bucket index (0: below the first edge)."""
    counted = sum(users for bucket, users in counts.items() if bucket > 0)
    rows = []
    for k, (label, lower) in enumerate(zip(spec.bucket_labels(), spec.edges), start=1):
        users = counts.get(k, 0)
        upper = spec.edges[k] if k < len(spec.edges) else None
        rows.append(
            {
                "bucket": label,
                "lower": lower,
                "upper": upper,
                "users": users,
                "share": users / counted if counted else None,
            }
        )
    return Distribution(
        name=spec.name,
        kind="buckets",
        columns=["bucket", "lower", "upper", "users", "share"],
        rows=rows,
        counted=counted,
        below=counts.get(0, 0),
        sql=text,
    )


def share_distribution(
    catalog: Catalog,
    spec: dict[str, DistributionSpec],
    name: str,
    warehouse: Warehouse,
    *,
    start: date | None,
    end: date | None,
    where: str | None = None,
) -> Distribution:
    """Users by the value of their latest event with one; largest share first (ties by value)."""
    found, text, raw = _run(catalog, spec, name, "share", warehouse, start, end, where)
    counted = sum(int(users) for _, users in raw)
    column = found.dimension or "value"
    rows = [{column: value, "users": int(users), "share": int(users) / counted} for value, users in raw]
    rows.sort(key=lambda r: (-r["users"], str(r[column])))
    return Distribution(
        name=found.name,
        kind="share",
        columns=[column, "users", "share"],
        rows=rows,
        counted=counted,
        below=None,
        sql=text,
    )


def error_distribution(
    catalog: Catalog,
    spec: dict[str, DistributionSpec],
    name: str,
    warehouse: Warehouse,
    *,
    start: date | None,
    end: date | None,
    where: str | None = None,
) -> Distribution:
    """Error events, users affected, page views and error rate per cell; most errors first."""
    found, text, raw = _run(catalog, spec, name, "errors", warehouse, start, end, where)
    columns = [*found.by, "errors", "users", "page_views", "error_rate"]
    rows = [dict(zip(columns, row)) for row in raw]
    rows.sort(key=lambda r: (-r["errors"], *((r[d] is None, str(r[d])) for d in found.by)))
    return Distribution(
        name=found.name,
        kind="errors",
        columns=columns,
        rows=rows,
        counted=sum(r["errors"] for r in rows),
        below=None,
        sql=text,
    )


RUNNERS = {"buckets": bucket_distribution, "share": share_distribution, "errors": error_distribution}


def distribution(
    catalog: Catalog,
    spec: dict[str, DistributionSpec],
    name: str,
    warehouse: Warehouse,
    *,
    start: date | None,
    end: date | None,
    where: str | None = None,
) -> Distribution:
    """Any declared distribution, by its kind."""
    return RUNNERS[find(spec, name).kind](catalog, spec, name, warehouse, start=start, end=end, where=where)


# --- drill-down --------------------------------------------------------------------------------------------------


def bucket_members(
    catalog: Catalog,
    spec: dict[str, DistributionSpec],
    name: str,
    bucket: str | int,
    *,
    start: date | None,
    end: date | None,
    dialect: str = "duckdb",
    where: str | None = None,
) -> exp.Select:
    """A members SELECT (``user_id``, ``value`` = their total) of one bucket, by label or 1-based index."""
    found = _spec(spec, name, "buckets")
    labels = found.bucket_labels()
    if isinstance(bucket, int) and not isinstance(bucket, bool):
        if not 1 <= bucket <= len(labels):
            raise QueryError(f"distribution {name!r} has buckets 1 to {len(labels)}, not {bucket}")
        index = bucket
    elif bucket in labels:
        index = labels.index(bucket) + 1
    else:
        raise QueryError(
            f"distribution {name!r} has no bucket {bucket!r}{did_you_mean(str(bucket), labels)}; buckets: {', '.join(labels)}"
        )
    ctx = sql.events_context(catalog, dialect, start=start, end=end, where=where)
    return sql.bucket_member_select(sql.bucket_ctes(ctx, found.edges, found.events, found.filter, found.amount), index)


def share_members(
    catalog: Catalog,
    spec: dict[str, DistributionSpec],
    name: str,
    value: Any,
    *,
    start: date | None,
    end: date | None,
    dialect: str = "duckdb",
    where: str | None = None,
) -> exp.Select:
    """A members SELECT (``user_id``, ``value``) of the users whose latest value is ``value``."""
    found = _spec(spec, name, "share")
    dimension = catalog.dimensions[found.dimension or ""]
    ctx = sql.events_context(catalog, dialect, start=start, end=end, where=where, dimensions=(dimension,))
    return sql.share_member_select(sql.latest_value_ctes(ctx, dimension), value)
