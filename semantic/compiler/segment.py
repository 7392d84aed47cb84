"""SQL for segments: one statement listing the ids of the users a condition tree selects, as of a day.

Plan (one scan of the events table whatever the number of behaviour conditions):

1. ``segment_behaviour``: the events up to the end of "as of" that match any behaviour
   condition, grouped by user, with one count (and one sum or average) per condition, each
   restricted to its own events, filter and window by ``CASE WHEN``.
2. one CTE per computed label the tree uses (intent tier, preferred type, lifecycle stage,
   RFM group), built by that feature's own module.
3. the users table, LEFT JOINed to those, filtered by the tree. Every leaf is wrapped so it is
   true or false, never NULL, so ``NOT`` is the exact complement within the users table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlglot import exp

from finlens_common.errors import QueryError
from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import did_you_mean, qualify, replace_columns
from semantic.catalog.segment_specs import (
    EVENTS_MODEL,
    USERS_MODEL,
    AllOf,
    AnyOf,
    Condition,
    EventCondition,
    FeatureCondition,
    Not,
    Segment,
    SegmentCycle,
    UserCondition,
    expand,
)
from semantic.compiler import dialects
from semantic.compiler.context import (
    SEGMENT_MEMBERS,
    conjunction,
    cte,
    disjunction,
    hoist_ctes,
    join,
    matches_events,
    model_context,
    when,
    with_ctes,
)
from semantic.compiler.reader import model_rows

BEHAVIOUR = "segment_behaviour"
ZERO = exp.Literal.number(0)
FALSE = exp.false()


@dataclass(frozen=True)
class Feature:
    """A computed per-user label a segment can test: how to build it and which column holds the label."""

    cte: str
    column: str
    build: Callable[[Catalog, date, str], exp.Select]
    names: Callable[[Catalog], tuple[str, ...]] | None = None  # the label's possible values, for messages
    # ``prefers``: a user may hold several labels, so the test is membership in the rows that have it.
    multi: exp.Expr | None = None


_FEATURES: dict[str, Feature] = {}


def register_feature(name: str, feature: Feature) -> None:
    """Make a computed label testable in segments (``intent: strong``).

    The compiler knows no label itself: the analyses register theirs when imported
    (``semantic.analyses.features``), the way a plugin would add one.
    """
    _FEATURES[name] = feature


def features() -> dict[str, Feature]:
    """The registered computed labels by name."""
    return _FEATURES


def build_segment(catalog: Catalog, segment: Segment, as_of: date, dialect: str) -> exp.Select:
    """``SELECT user_id`` of the members of ``segment`` as of the end of ``as_of`` (may carry a WITH clause)."""
    frame = segment_frame(catalog, [segment.condition], as_of, dialect, name=segment.name)
    users = catalog.models[USERS_MODEL]
    entity = exp.column(users.entity, table=users.name)
    select = frame.select.select(exp.alias_(entity, "user_id", copy=False), copy=False).where(
        frame.tests[0], copy=False
    )
    return with_ctes(select, frame.ctes) if frame.ctes else select


@dataclass
class SegmentFrame:
    """The users table joined to what the conditions need, one boolean per condition, and the CTEs to put first.

    ``select`` has no projection yet: a segment selects ``user_id`` where its test holds; an
    experiment groups by its variant and counts the users whose test holds.
    """

    select: exp.Select
    tests: list[exp.Expr]
    ctes: list[tuple[str, exp.Expr]]


def segment_frame(
    catalog: Catalog, conditions: list[Condition], as_of: date, dialect: str, *, name: str = "segment"
) -> SegmentFrame:
    """Compile ``conditions`` (named segments expanded) against the users table, sharing one behaviour scan."""
    try:
        trees = [expand(condition, catalog.segments, (name,)) for condition in conditions]
    except SegmentCycle as err:
        raise QueryError(str(err)) from None
    users = catalog.models[USERS_MODEL]
    builder = _TreeBuilder(catalog, as_of, dialect)
    tests = [builder.sql(tree) for tree in trees]
    entity = exp.column(users.entity, table=users.name)
    select = exp.Select().from_(model_rows(catalog, users), copy=False)
    ctes: list[tuple[str, exp.Expr]] = []
    behaviour = builder.behaviour()
    if behaviour is not None:
        ctes.append((BEHAVIOUR, behaviour))
        join(select, cte(BEHAVIOUR), entity.copy().eq(exp.column("user_id", table=BEHAVIOUR)), side="LEFT")
    for feature_name in builder.used_features:
        feature = features()[feature_name]
        inner, body = hoist_ctes(feature.build(catalog, as_of, dialect))
        ctes.extend(inner)
        ctes.append((feature.cte, body))
        if feature.multi is None:
            join(select, cte(feature.cte), entity.copy().eq(exp.column("user_id", table=feature.cte)), side="LEFT")
    return SegmentFrame(select=select, tests=tests, ctes=ctes)


class _TreeBuilder:
    """Turns a condition tree into a WHERE expression, collecting behaviour columns and features on the way."""

    def __init__(self, catalog: Catalog, as_of: date, dialect: str) -> None:
        self.catalog = catalog
        self.as_of = as_of
        self.dialect = dialect
        self.users = catalog.models[USERS_MODEL]
        self.events_ctx = model_context(catalog, catalog.models[EVENTS_MODEL], dialect, end=as_of)
        self.measures: list[tuple[str, exp.Expr]] = []
        self.matches: list[exp.Expr] = []
        self.used_features: list[str] = []
        self.starts: list[date | None] = []

    def sql(self, condition: Condition) -> exp.Expr:
        if isinstance(condition, AllOf):
            return exp.and_(*(exp.paren(self.sql(c), copy=False) for c in condition.items), copy=False)
        if isinstance(condition, AnyOf):
            return exp.or_(*(exp.paren(self.sql(c), copy=False) for c in condition.items), copy=False)
        if isinstance(condition, Not):
            return exp.not_(exp.paren(self.sql(condition.item), copy=False), copy=False)
        if isinstance(condition, UserCondition):
            return _known(self._user(condition))
        if isinstance(condition, EventCondition):
            return self._event(condition)
        assert isinstance(condition, FeatureCondition), condition
        return self._feature(condition)

    # --- users -----------------------------------------------------------------------------------------
    def _user(self, condition: UserCondition) -> exp.Expr:
        dimension = self.catalog.dimensions.get(condition.attribute)
        if dimension is not None and dimension.model == self.users.name:
            column = qualify(dimension.expr, self.users.name)
            kind = dimension.type
        else:
            column = exp.column(condition.attribute, table=self.users.name)
            kind = self.users.columns.get(condition.attribute, "")
        column = column if isinstance(column, exp.Column) else exp.paren(column, copy=False)
        operator, values = condition.operator, condition.values
        if operator == "is_null":
            test = column.is_(exp.null())
            return test if values[0] else exp.not_(test)
        if kind.lower() in ("timestamp", "date", "time") and values and isinstance(values[0], date):
            return _day_test(column, operator, values)
        literals = [exp.convert(v) for v in values]
        return _compare(column, operator, literals)

    # --- behaviour -------------------------------------------------------------------------------------
    def _event(self, condition: EventCondition) -> exp.Expr:
        ctx = self.events_ctx
        index = len(self.matches) + 1
        first, last = condition.window.bounds(self.as_of)
        test = matches_events(
            ctx.column(ctx.model.event_column or "event"), condition.events, self._event_filter(condition.filter)
        )
        window: list[exp.Expr] = []  # the behaviour scan already ends with "as of"
        if first is not None:
            window.append(ctx.time_column >= dialects.timestamp_literal(f"{first} 00:00:00"))
        if last < self.as_of:
            window.append(ctx.time_column < dialects.timestamp_literal(f"{last + timedelta(days=1)} 00:00:00"))
        self.starts.append(first)
        match = exp.and_(exp.paren(test, copy=False), *window, copy=False)
        self.matches.append(match)
        count = exp.column(f"c{index}", table=BEHAVIOUR)
        self.measures.append(
            (f"c{index}", exp.Sum(this=exp.Case(ifs=[exp.If(this=match, true=exp.Literal.number(1))], default=ZERO)))
        )
        done = exp.Coalesce(this=count, expressions=[ZERO])
        if condition.negated:
            return done.eq(ZERO)
        tests: list[exp.Expr] = []
        if condition.at_least > 0:
            tests.append(done >= exp.convert(condition.at_least))
        if condition.at_most is not None:
            tests.append(done.copy() <= exp.convert(condition.at_most))
        if condition.measure is not None:
            measure = condition.measure
            function = exp.Sum if measure.function == "sum" else exp.Avg
            value = function(this=when(match.copy(), ctx.column(measure.column)))
            self.measures.append((f"m{index}", value))
            literals = [exp.convert(v) for v in measure.values]
            tests.append(_known(_compare(exp.column(f"m{index}", table=BEHAVIOUR), measure.operator, literals)))
        return conjunction(tests) or exp.true()

    def _event_filter(self, expression: exp.Expr | None) -> exp.Expr | None:
        """A condition's filter with dimension names replaced by their expressions, columns qualified."""
        if expression is None:
            return None
        ctx = self.events_ctx
        dims = self.catalog.dimensions

        def resolve(col: exp.Column) -> exp.Expr:
            dim = dims.get(col.name)
            if dim is not None and dim.model == ctx.model.name:
                value = ctx.dimension(dim)
                return value if isinstance(value, exp.Column) else exp.paren(value, copy=False)
            return ctx.column(col.name)

        return replace_columns(expression, resolve)

    def behaviour(self) -> exp.Select | None:
        """The per-user counts and measures of every behaviour condition, in one scan."""
        if not self.measures:
            return None
        ctx = self.events_ctx
        select = exp.select(
            exp.alias_(ctx.entity, "user_id", copy=False),
            *(exp.alias_(value, name, copy=False) for name, value in self.measures),
        )
        pruning = disjunction([m.copy() for m in self.matches])
        known = [start for start in self.starts if start is not None]
        earliest = min(known) if len(known) == len(self.starts) else None
        scan = model_context(self.catalog, ctx.model, self.dialect, start=earliest, end=self.as_of)
        where = conjunction(
            [ctx.entity.is_(exp.null()).not_(), *scan.range_conditions(), exp.paren(pruning, copy=False)]
        )
        return ctx.source(select).where(where, copy=False).group_by(ctx.entity.copy(), copy=False)

    # --- computed labels -------------------------------------------------------------------------------
    def _feature(self, condition: FeatureCondition) -> exp.Expr:
        registry = features()
        feature = registry[condition.feature]
        if feature.names is not None:
            known = feature.names(self.catalog)
            for value in condition.values:
                if value not in known:
                    raise QueryError(
                        f"{condition.feature}: unknown value {value!r}{did_you_mean(value, known)}; one of {', '.join(known)}"
                    )
        if condition.feature not in self.used_features:
            self.used_features.append(condition.feature)
        literals = [exp.convert(v) for v in condition.values]
        if feature.multi is not None:
            rows = (
                exp.select("user_id")
                .from_(cte(feature.cte), copy=False)
                .where(
                    exp.and_(_compare(exp.column(feature.column), "in", literals), feature.multi.copy(), copy=False),
                    copy=False,
                )
            )
            entity = exp.column(self.users.entity, table=self.users.name)
            return _known(exp.In(this=entity, query=exp.paren(rows, copy=False)))
        return _known(_compare(exp.column(feature.column, table=feature.cte), "in", literals))


def _known(test: exp.Expr) -> exp.Expr:
    """``COALESCE(test, FALSE)``: a leaf on a NULL value is false, so NOT stays the complement."""
    return exp.Coalesce(this=exp.paren(test, copy=False), expressions=[FALSE.copy()])


COMPARE: dict[str, Callable[[exp.Expr, exp.Expr], exp.Expr]] = {
    "eq": lambda a, b: exp.EQ(this=a, expression=b),
    "ne": lambda a, b: exp.NEQ(this=a, expression=b),
    "gt": lambda a, b: exp.GT(this=a, expression=b),
    "gte": lambda a, b: exp.GTE(this=a, expression=b),
    "lt": lambda a, b: exp.LT(this=a, expression=b),
    "lte": lambda a, b: exp.LTE(this=a, expression=b),
}


def _compare(column: exp.Expr, operator: str, literals: list[exp.Expr]) -> exp.Expr:
    if operator in COMPARE:
        return COMPARE[operator](column, literals[0])
    if operator in ("in", "not_in"):
        test = exp.In(this=column, expressions=literals)
        return exp.not_(test) if operator == "not_in" else test
    assert operator == "between", operator
    return exp.Between(this=column, low=literals[0], high=literals[1])


def _day_test(column: exp.Expr, operator: str, days: tuple[Any, ...]) -> exp.Expr:
    """Comparisons of a timestamp with whole days: ``lte 2026-01-31`` includes all of January 31st."""

    def start(day: date) -> exp.Expr:
        return dialects.timestamp_literal(f"{day} 00:00:00")

    def within(day: date) -> exp.Expr:
        return exp.and_(column.copy() >= start(day), column.copy() < start(day + timedelta(days=1)), copy=False)

    one = timedelta(days=1)
    if operator == "eq":
        return within(days[0])
    if operator == "ne":
        return exp.not_(exp.paren(within(days[0])))
    if operator == "gte":
        return column >= start(days[0])
    if operator == "gt":
        return column >= start(days[0] + one)
    if operator == "lt":
        return column < start(days[0])
    if operator == "lte":
        return column < start(days[0] + one)
    if operator == "between":
        return exp.and_(column >= start(days[0]), column.copy() < start(days[1] + one), copy=False)
    test = exp.or_(*(exp.paren(within(d)) for d in days), copy=False)
    return exp.not_(exp.paren(test)) if operator == "not_in" else test


def with_segment(statement: exp.Select, catalog: Catalog, resolved, dialect: str) -> exp.Select:
    """Put the members of ``resolved``'s segment (as of its last day) in front of ``statement`` as CTEs.

    The builders' row filter (``SqlContext.user_filter``) tests ``entity IN (SELECT user_id FROM segment_members)``.
    """
    segment = resolved.segment
    if segment is None:
        return statement
    inner, body = hoist_ctes(build_segment(catalog, segment, resolved.query.end, dialect))
    existing = statement.args.get("with_")
    ctes = [
        *inner,
        (SEGMENT_MEMBERS, body),
        *((node.alias, node.this) for node in (existing.expressions if existing else [])),
    ]
    return with_ctes(statement, ctes)
