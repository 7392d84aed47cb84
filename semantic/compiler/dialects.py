"""What differs between target dialects, and nothing else.

The compiler builds one sqlglot AST and calls these helpers where engines
disagree (week starts, second differences, medians). Each quirk is a small
table entry, the way sqlglot's own dialect files only declare differences.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from finlens_common.errors import QueryError
from semantic.catalog.expressions import did_you_mean

DIALECTS = ("duckdb", "postgres", "clickhouse", "snowflake", "bigquery", "trino", "spark")

# Words that must be quoted as identifiers in at least one target dialect.
RESERVED = frozenset(
    """all and any as asc between both by case cast check column constraint create cross current date day
    default desc distinct drop else end except false fetch first from full grant group having hour in inner
    interval intersect into is join key last left level like limit minute month natural not null offset on or
    order outer over partition period position primary quarter range references right rows second select some
    table then time timestamp to true union unique user using values week when where window with year""".split()
)

SecondsBetween = Callable[[exp.Expr, exp.Expr], exp.Expr]
E = typing.TypeVar("E", bound=exp.Expr)


def _seconds_by_datediff(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    return exp.DateDiff(this=end, expression=start, unit=exp.var("SECOND"))


def _seconds_by_epoch(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    """Exact (fractional) seconds: epoch(end) - epoch(start)."""
    return exp.Sub(this=exp.TimeToUnix(this=end), expression=exp.TimeToUnix(this=start))


def _seconds_by_extract(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    """PostgreSQL: EXTRACT(EPOCH FROM end - start), exact to the microsecond."""
    return exp.Extract(this=exp.var("EPOCH"), expression=exp.paren(exp.Sub(this=end, expression=start)))


def _seconds_by_microseconds(start: exp.Expr, end: exp.Expr) -> exp.Expr:
    """ClickHouse: ``dateDiff('second')`` counts boundaries; microseconds keep fractions exact."""
    micro = exp.DateDiff(this=end, expression=start, unit=exp.var("MICROSECOND"))
    return exp.Div(this=micro, expression=exp.Literal.number(1_000_000))


def _median_continuous(expression: exp.Expr) -> exp.Expr:
    return exp.Median(this=expression)


def _median_exact_inclusive(expression: exp.Expr) -> exp.Expr:
    """ClickHouse's ``median`` is approximate; ``quantileExactInclusive`` interpolates like PERCENTILE_CONT."""
    return exp.ParameterizedAgg(
        this="quantileExactInclusive", expressions=[exp.Literal.number(0.5)], params=[expression]
    )


def _percentile_continuous(expression: exp.Expr, fraction: float) -> exp.Expr:
    return exp.PercentileCont(this=expression, expression=exp.Literal.number(fraction))


def _percentile_exact_inclusive(expression: exp.Expr, fraction: float) -> exp.Expr:
    """ClickHouse: ``quantileExactInclusive(p)`` interpolates like PERCENTILE_CONT; ``quantile`` samples."""
    return exp.ParameterizedAgg(
        this="quantileExactInclusive", expressions=[exp.Literal.number(fraction)], params=[expression]
    )


def _json_text_clickhouse(node: exp.Expr) -> exp.Expr:
    """DuckDB's ``->>`` on ClickHouse: strings unquoted, other values as JSON text, missing or null → NULL.

    ``JSONExtractString`` alone gives '' for a missing key and for numbers and booleans.
    """
    if not isinstance(node, exp.JSONExtractScalar) or not isinstance(node.expression, exp.JSONPath):
        return node
    parts = node.expression.expressions[1:]
    if not parts or not all(isinstance(p, exp.JSONPathKey) for p in parts):
        return node
    keys = [exp.Literal.string(p.this) for p in parts]

    def call(name: str) -> exp.Expr:
        return exp.Anonymous(this=name, expressions=[node.this.copy(), *(k.copy() for k in keys)])

    return exp.If(
        this=exp.EQ(this=call("JSONType"), expression=exp.Literal.string("String")),
        true=call("JSONExtractString"),
        false=exp.If(
            this=exp.EQ(this=call("JSONType"), expression=exp.Literal.string("Null")),
            true=exp.null(),
            false=call("JSONExtractRaw"),
        ),
    )


@dataclass(frozen=True)
class Quirks:
    """Per-dialect differences the compiler must respect."""

    week_unit: str = "WEEK"
    seconds_between: SecondsBetween = _seconds_by_datediff
    median: Callable[[exp.Expr], exp.Expr] = _median_continuous
    percentile: Callable[[exp.Expr, float], exp.Expr] = _percentile_continuous
    # Rewrites of source-dialect nodes whose meaning the target's translation does not keep.
    rewrite: Callable[[exp.Expr], exp.Expr] | None = None
    # Settings the statement needs (ClickHouse: LEFT JOIN misses must be NULL, not default values).
    settings: tuple[tuple[str, int], ...] = ()


QUIRKS: dict[str, Quirks] = {
    "duckdb": Quirks(seconds_between=_seconds_by_epoch),
    "postgres": Quirks(seconds_between=_seconds_by_extract),
    "clickhouse": Quirks(
        seconds_between=_seconds_by_microseconds,
        median=_median_exact_inclusive,
        percentile=_percentile_exact_inclusive,
        rewrite=_json_text_clickhouse,
        # a GROUP BY user_id over a Distributed table sharded by user_id completes on each shard
        settings=(("join_use_nulls", 1), ("optimize_distributed_group_by_sharding_key", 1)),
    ),
    # TIMESTAMP_TRUNC(x, WEEK) starts weeks on Sunday in BigQuery; ISOWEEK starts them on Monday.
    "bigquery": Quirks(week_unit="ISOWEEK"),
}


_TYPES: dict[str, exp.DataType] = {}


def cast(expression: exp.Expr, type_name: str) -> exp.Cast:
    """``CAST(expression AS type)`` with the type parsed once, not on every call (compile speed)."""
    data_type = _TYPES.get(type_name)
    if data_type is None:
        data_type = _TYPES[type_name] = exp.DataType.build(type_name)
    if isinstance(expression, exp.Cast) and expression.to == data_type:
        return expression
    return exp.Cast(this=expression, to=data_type.copy())


def check_dialect(dialect: str) -> str:
    """The dialect name, or a QueryError listing the supported ones."""
    name = dialect.lower()
    if name not in DIALECTS:
        raise QueryError(f"unknown dialect {dialect!r}{did_you_mean(name, DIALECTS)}; supported: {', '.join(DIALECTS)}")
    return name


def quirks(dialect: str) -> Quirks:
    return QUIRKS.get(dialect, Quirks())


def time_bucket(column: exp.Expr, grain: str, dialect: str) -> exp.Expr:
    """The start of ``column``'s ``grain`` bucket: a timestamp for hours, a date otherwise.

    Weeks are ISO weeks starting on Monday on every dialect.
    """
    if grain == "day":
        return cast(column, "date")  # the same day as truncating, and cheaper
    unit = quirks(dialect).week_unit if grain == "week" else grain.upper()
    truncated = exp.TimestampTrunc(this=column, unit=exp.var(unit))
    return truncated if grain == "hour" else cast(truncated, "date")


def add_seconds(column: exp.Expr, seconds: int) -> exp.Expr:
    """``column + INTERVAL 'n' SECOND``, which every target dialect accepts for timestamps."""
    return exp.Add(this=column, expression=exp.Interval(this=exp.Literal.string(str(seconds)), unit=exp.var("SECOND")))


def add_periods(date: exp.Expr, count: exp.Expr, period: str) -> exp.Expr:
    """``date`` plus ``count`` days, weeks or months (weeks as 7 days, which every dialect adds alike)."""
    if period == "week":
        count, period = (
            exp.Mul(
                this=exp.paren(count) if isinstance(count, exp.Binary) else count, expression=exp.Literal.number(7)
            ),
            "day",
        )
    return exp.DateAdd(this=date, expression=count, unit=exp.var(period.upper()))


def timestamp_literal(value: str) -> exp.Expr:
    """A ``CAST('YYYY-MM-DD HH:MM:SS' AS TIMESTAMP)`` literal built by sqlglot."""
    return cast(exp.convert(value), "timestamp")


def as_double(expression: exp.Expr) -> exp.Expr:
    return cast(expression, "double")


def safe_divide(numerator: exp.Expr, denominator: exp.Expr) -> exp.Expr:
    """numerator / denominator as a float, NULL when the denominator is 0 or NULL."""
    return exp.Div(this=as_double(numerator), expression=exp.Nullif(this=denominator, expression=exp.Literal.number(0)))


def median(expression: exp.Expr, dialect: str) -> exp.Expr:
    """The continuous median (PERCENTILE_CONT(0.5) semantics: halfway between the middle two)."""
    return quirks(dialect).median(expression)


def percentile(expression: exp.Expr, fraction: float, dialect: str) -> exp.Expr:
    """The continuous percentile (PERCENTILE_CONT semantics: interpolated between the two nearest values)."""
    return quirks(dialect).percentile(expression, fraction)


def adapt(statement: exp.Select, dialect: str) -> exp.Select:
    """Apply the dialect's rewrites and statement settings to a finished statement."""
    rules = quirks(dialect)
    if rules.rewrite is not None:
        # the rewrites replace inner nodes (JSON extraction) only, never the SELECT at the root
        statement = typing.cast(exp.Select, statement.transform(rules.rewrite, copy=False))
    if rules.settings:
        statement.set(
            "settings", [exp.EQ(this=exp.column(name), expression=exp.convert(value)) for name, value in rules.settings]
        )
    return statement


def quote_reserved(expression: E) -> E:
    """Quote identifiers that are reserved words in some target dialect (``day``, ``order``...).

    A plain stack over the nodes' arguments: a long funnel's tree has thousands of nodes, and sqlglot's
    general ``find_all`` walk costs several times more per node (compile speed).
    """
    stack: list[exp.Expr] = [expression]
    while stack:
        node = stack.pop()
        if type(node) is exp.Identifier:
            if not node.args.get("quoted") and node.name.lower() in RESERVED:
                node.set("quoted", True)
            continue
        for value in node.args.values():
            if isinstance(value, exp.Expr):
                stack.append(value)
            elif type(value) is list:
                stack.extend(v for v in value if isinstance(v, exp.Expr))
    return expression


FRAMES = {
    "running": exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"),
}


def window(
    function: exp.Expr,
    partition_by: exp.Expr | list[exp.Expr],
    order_by: list[exp.Expr],
    dialect: str,
    *,
    frame: str | None = None,
) -> exp.Window:
    """``function OVER (PARTITION BY .. ORDER BY .. [frame])`` over non-NULL order keys.

    ``partition_by`` is one expression or a list of them. The keys are never NULL, so each is left at the dialect's own NULL order:
    BigQuery and Spark reject an explicit NULLS clause in framed windows.

    Args:
        frame: ``"running"`` (from the partition's start to the current row), or None.
    """
    small = Dialect.get_or_raise(dialect).NULL_ORDERING == "nulls_are_small"
    ordered = []
    for key in order_by:
        ordered.append(exp.Ordered(this=key, nulls_first=small))
    return exp.Window(
        this=function,
        partition_by=list(partition_by) if isinstance(partition_by, list) else [partition_by],
        order=exp.Order(expressions=ordered),
        spec=FRAMES[frame].copy() if frame else None,
    )
