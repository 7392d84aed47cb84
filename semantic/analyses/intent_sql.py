"""SQL for purchase intent and purchase preference, as of a day (meaning: :mod:`semantic.analyses.intent`).

Each builder returns one sqlglot SELECT carrying its own WITH clause, usable as
a CTE body (``semantic.drill.members.hoist_ctes`` splits it) or finished with
:func:`finish`. CTE names start with ``intent_`` or ``preference_`` so the
two features and a member list combine in one statement without clashes.

Score plan (one statement): ``intent_events`` reads the window's matching rows
once and gives each the weight of its first matching rule (``CASE WHEN`` in
YAML order); ``intent_scores`` sums them per user (score > 0);
``intent_ranked`` adds ``n = COUNT(*) OVER ()`` and the position
``ROW_NUMBER() OVER (ORDER BY score DESC, user_id)``; ``intent_thresholds``
takes each tier's threshold as ``MIN(CASE WHEN position <= ceil(top * n) THEN
score END) OVER ()``, the position test written ``(position - 1) * q < n * p``
for ``top = p / q`` so it is exact integer arithmetic on every engine;
``intent_tiers`` names the first tier whose threshold the score reaches.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from sqlglot import exp

from finlens_common.errors import QueryError
from semantic.analyses.intent_spec import IntentSpec
from semantic.catalog.catalog import Catalog
from semantic.catalog.expressions import did_you_mean
from semantic.compiler import dialects
from semantic.compiler.context import (
    conjunction,
    cte,
    disjunction,
    ident,
    join,
    matches_events,
    model_context,
    with_ctes,
)

ONE = exp.Literal.number(1)
ZERO = exp.Literal.number(0)
Ctes = list[tuple[str, exp.Expr]]


def score_window(spec: IntentSpec, as_of: date) -> tuple[date, date]:
    """The score's first and last day (inclusive) as of ``as_of``."""
    return as_of - timedelta(days=spec.score.window_days - 1), as_of


def preference_window(spec: IntentSpec, as_of: date) -> tuple[date, date]:
    """The preference's first and last day (inclusive) as of ``as_of``."""
    return as_of - timedelta(days=spec.preference.window_days - 1), as_of


def threshold_column(position: int) -> str:
    """The column of ``intent_tiers`` holding the threshold of the tier at ``position`` (1-based)."""
    return f"threshold_{position}"


def as_column(expression: exp.Expr, name: str) -> exp.Expr:
    return exp.alias_(expression, name, copy=False)


def _times(expression: exp.Expr, factor: int) -> exp.Expr:
    return expression if factor == 1 else exp.Mul(this=expression, expression=exp.convert(factor))


def _within(position: exp.Expr, ranked: exp.Expr, share: Fraction) -> exp.Expr:
    """``position <= ceil(share * ranked)`` as ``(position - 1) * q < ranked * p``: exact, no division."""
    before = exp.paren(exp.Sub(this=position, expression=ONE.copy()), copy=False)
    return _times(before, share.denominator) < _times(ranked, share.numerator)


def score_ctes(catalog: Catalog, spec: IntentSpec, as_of: date, dialect: str) -> Ctes:
    """``intent_events`` .. ``intent_tiers`` (user_id, score, ranked_users, threshold_1.., tier)."""
    score = spec.score
    model = catalog.models[score.model]
    start, end = score_window(spec, as_of)
    ctx = model_context(catalog, model, dialect, start=start, end=end)
    event = ctx.column(model.event_column or "event")
    tests = [matches_events(event, rule.events, ctx.snippet(rule.filter)) for rule in score.rules]
    weight = exp.Case(
        ifs=[exp.If(this=test.copy(), true=exp.convert(rule.weight)) for test, rule in zip(tests, score.rules)]
    )
    rows = ctx.source(exp.select(as_column(ctx.entity, "user_id"), as_column(weight, "weight")))
    rows = rows.where(
        conjunction(
            [*ctx.range_conditions(), ctx.entity.is_(exp.null()).not_(), exp.paren(disjunction(tests), copy=False)]
        ),
        copy=False,
    )

    total = exp.Sum(this=ident("weight"))
    sums = (
        exp.select(ident("user_id"), as_column(total, "score"))
        .from_(cte("intent_events"), copy=False)
        .group_by(ident("user_id"), copy=False)
        .having(total.copy() > ZERO.copy(), copy=False)
    )

    order = exp.Order(expressions=[exp.Ordered(this=ident("score"), desc=True), exp.Ordered(this=ident("user_id"))])
    ranked = exp.select(
        ident("user_id"),
        ident("score"),
        as_column(exp.Window(this=exp.Count(this=exp.Star())), "ranked_users"),
        as_column(exp.Window(this=exp.RowNumber(), order=order), "score_position"),
    ).from_(cte("intent_scores"), copy=False)

    thresholds = [
        as_column(
            exp.Window(
                this=exp.Min(
                    this=exp.Case(
                        ifs=[
                            exp.If(
                                this=_within(ident("score_position"), ident("ranked_users"), tier.top),
                                true=ident("score"),
                            )
                        ]
                    )
                )
            ),
            threshold_column(position),
        )
        for position, tier in enumerate(score.tiers, start=1)
    ]
    with_thresholds = exp.select(ident("user_id"), ident("score"), ident("ranked_users"), *thresholds).from_(
        cte("intent_ranked"), copy=False
    )

    *upper, last = score.tiers
    tier = exp.Case(
        ifs=[
            exp.If(this=ident("score") >= ident(threshold_column(position)), true=exp.convert(t.name))
            for position, t in enumerate(upper, start=1)
        ],
        default=exp.convert(last.name),
    )
    tiers = exp.select(
        ident("user_id"),
        ident("score"),
        ident("ranked_users"),
        *(ident(threshold_column(p)) for p in range(1, len(score.tiers) + 1)),
        as_column(tier, "tier"),
    ).from_(cte("intent_thresholds"), copy=False)
    return [
        ("intent_events", rows),
        ("intent_scores", sums),
        ("intent_ranked", ranked),
        ("intent_thresholds", with_thresholds),
        ("intent_tiers", tiers),
    ]


def preference_ctes(catalog: Catalog, spec: IntentSpec, as_of: date, dialect: str) -> Ctes:
    """``preference_dwell`` (user, value, dwell) .. ``preference_types`` (user_id, value, dwell_seconds, share, preferred)."""
    preference = spec.preference
    model = catalog.models[preference.model]
    start, end = preference_window(spec, as_of)
    ctx = model_context(catalog, model, dialect, start=start, end=end)
    by, dwell = ctx.column(preference.by), ctx.column(preference.dwell)
    test = matches_events(ctx.column(model.event_column or "event"), preference.events, ctx.snippet(preference.filter))
    rows = ctx.source(
        exp.select(
            as_column(ctx.entity, "user_id"),
            as_column(by, "value"),
            as_column(exp.Sum(this=dwell.copy()), "dwell_seconds"),
        )
    )
    rows = rows.where(
        conjunction(
            [
                *ctx.range_conditions(),
                ctx.entity.is_(exp.null()).not_(),
                test,
                by.copy().is_(exp.null()).not_(),
                dwell.copy().is_(exp.null()).not_(),
            ]
        ),
        copy=False,
    ).group_by(ctx.entity.copy(), by.copy(), copy=False)

    per_user = exp.Window(this=exp.Sum(this=ident("dwell_seconds")), partition_by=[ident("user_id")])
    totals = exp.select(
        ident("user_id"), ident("value"), ident("dwell_seconds"), as_column(per_user, "user_dwell_seconds")
    ).from_(cte("preference_dwell"), copy=False)

    threshold = preference.threshold
    above = _times(ident("dwell_seconds"), threshold.denominator) > _times(
        ident("user_dwell_seconds"), threshold.numerator
    )
    types = exp.select(
        ident("user_id"),
        ident("value"),
        ident("dwell_seconds"),
        as_column(dialects.safe_divide(ident("dwell_seconds"), ident("user_dwell_seconds")), "share"),
        as_column(exp.Case(ifs=[exp.If(this=above, true=exp.true())], default=exp.false()), "preferred"),
    ).from_(cte("preference_totals"), copy=False)
    return [("preference_dwell", rows), ("preference_totals", totals), ("preference_types", types)]


def _last(ctes: Ctes, columns: tuple[str, ...]) -> exp.Select:
    """``WITH <all but the last> SELECT columns FROM <the last CTE>``."""
    name = ctes[-1][0]
    return with_ctes(exp.select(*(ident(c) for c in columns)).from_(cte(name), copy=False), ctes)


def build_intent_scores(catalog: Catalog, spec: IntentSpec, as_of: date, dialect: str) -> exp.Select:
    """One row per ranked user (score > 0 in the window): ``user_id, score, tier``."""
    return _last(score_ctes(catalog, spec, as_of, dialects.check_dialect(dialect)), ("user_id", "score", "tier"))


def build_preferences(catalog: Catalog, spec: IntentSpec, as_of: date, dialect: str) -> exp.Select:
    """One row per user and type with counted dwell: ``user_id, value, dwell_seconds, share, preferred``."""
    return _last(
        preference_ctes(catalog, spec, as_of, dialects.check_dialect(dialect)),
        ("user_id", "value", "dwell_seconds", "share", "preferred"),
    )


def check_tier(spec: IntentSpec, tier: str | None) -> None:
    names = [t.name for t in spec.score.tiers]
    if tier is not None and tier not in names:
        raise QueryError(f"unknown tier {tier!r}{did_you_mean(tier, names)}; one of {', '.join(names)}")


def intent_members(
    catalog: Catalog,
    spec: IntentSpec,
    as_of: date,
    dialect: str,
    *,
    tier: str | None = None,
    prefers: str | None = None,
) -> exp.Select:
    """``user_id, score, tier`` of the users in ``tier`` AND preferring ``prefers`` (either may be None).

    Without ``tier`` and ``prefers``: every ranked user. With ``tier``: ranked users of that tier, narrowed to
    those preferring ``prefers`` when given. With ``prefers`` alone: every user preferring it, ranked or not
    (score and tier NULL for users with no score in the score window).
    """
    dialect = dialects.check_dialect(dialect)
    check_tier(spec, tier)
    ctes = score_ctes(catalog, spec, as_of, dialect)
    scores = "t"
    columns = [exp.column("score", table=scores), exp.column("tier", table=scores)]
    if prefers is None:
        select = exp.select(exp.column("user_id", table=scores), *columns).from_(
            cte("intent_tiers", scores), copy=False
        )
    else:
        ctes += preference_ctes(catalog, spec, as_of, dialect)
        ctes.append(
            (
                "intent_preferers",
                exp.select(ident("user_id"))
                .from_(cte("preference_types"), copy=False)
                .where(
                    exp.and_(ident("value").eq(exp.convert(str(prefers))), ident("preferred"), copy=False), copy=False
                ),
            )
        )
        pair = exp.column("user_id", table="p").eq(exp.column("user_id", table=scores))
        select = exp.select(exp.column("user_id", table="p"), *columns).from_(cte("intent_preferers", "p"), copy=False)
        select = join(select, cte("intent_tiers", scores), pair, side=None if tier is not None else "LEFT")
    if tier is not None:
        select = select.where(exp.column("tier", table=scores).eq(exp.convert(tier)), copy=False)
    return with_ctes(select, ctes)


def finish(select: exp.Select, dialect: str) -> str:
    """The statement's SQL text in ``dialect`` (dialect rewrites, settings, reserved words quoted)."""
    dialect = dialects.check_dialect(dialect)
    return dialects.quote_reserved(dialects.adapt(select, dialect)).sql(dialect=dialect, pretty=True)
