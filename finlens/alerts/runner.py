"""One check: evaluate alerts at an instant, store every verdict, announce and recover incidents; send digests.

What ``finlens alerts check``, each scheduled job of ``finlens alerts serve`` and the app's
"check now" run. ``dry_run`` evaluates only: nothing is stored, nothing is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from connectors.base import Warehouse
from finlens.alerts import incidents
from finlens.alerts.compose import alert_message, by_label, metric_format, metric_label
from finlens.alerts.delivery import Result, Sender
from finlens.alerts.digest import digest_image, digest_message
from finlens.alerts.images import alert_chart
from finlens.alerts.links import image_url
from finlens.alerts.store import Store
from finlens.alerts.words import word
from finlens_common.errors import FinlensError, QueryError
from semantic.analyses.alert_eval import Evaluation, evaluate_at, evaluate_periods
from semantic.analyses.alert_periods import periods_between
from semantic.analyses.board_digest import board_digest
from semantic.catalog.alert_specs import Alert, Notifications, Subscription
from semantic.catalog.boards import load_boards
from semantic.catalog.catalog import Catalog
from semantic.compiler.filters import equals_where

CHART_PERIODS = {"day": 30, "hour": 48}
log = logging.getLogger("finlens.alerts")


@dataclass
class CheckRun:
    """What one check did: every verdict, every message and how each delivery went."""

    evaluations: list[Evaluation] = field(default_factory=list)
    notices: list[incidents.Notice] = field(default_factory=list)
    deliveries: list[Result] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What a check needs besides the alerts: the catalog, the warehouse, where to remember and how to send."""

    catalog: Catalog
    notifications: Notifications
    warehouse: Warehouse
    store: Store
    sender: Sender = field(default_factory=Sender)
    language: str = "zh"
    public_url: str | None = None


def pick(notifications: Notifications, names: list[str] | None) -> list[Alert]:
    """The alerts named (all when none), or a QueryError naming the unknown one."""
    if not names:
        return list(notifications.alerts.values())
    unknown = [n for n in names if n not in notifications.alerts]
    if unknown:
        known = ", ".join(notifications.alerts) or "none in metrics/alerts/"
        raise QueryError(f"unknown alert {unknown[0]!r}; alerts: {known}")
    return [notifications.alerts[n] for n in names]


def check(context: Context, at: datetime, names: list[str] | None = None, *, dry_run: bool = False) -> CheckRun:
    """Evaluate the alerts at ``at`` (naive local time); unless ``dry_run``, store and announce."""
    run = CheckRun()
    for alert in pick(context.notifications, names):
        try:
            evaluations = evaluate_at(context.catalog, alert, context.warehouse, at)
        except FinlensError as err:
            run.problems.append(f"alert {alert.name!r}: {err}")
            continue
        run.evaluations += evaluations
        if dry_run:
            continue
        context.store.add_evaluations(evaluations, datetime.now())
        notices = [n for e in evaluations for n in incidents.plan(context.store, alert, e)]
        run.notices += notices
        charts: dict[str, list[dict]] = {}
        if notices:
            charts = _chart_rows(context, alert, evaluations[0].period)
        for notice in notices:
            run.deliveries += deliver_notice(context, notice, charts.get(notice.evaluation.key, []))
    return run


def _chart_rows(context: Context, alert: Alert, last) -> dict[str, list[dict]]:
    """Each key's recent verdicts (value, band, fired) for its chart, computed like the check itself."""
    periods = periods_between(last.shifted(1 - CHART_PERIODS[alert.grain]), last)
    try:
        evaluations, _ = evaluate_periods(context.catalog, alert, context.warehouse, periods)
    except FinlensError as err:
        log.warning("alert %s: no chart: %s", alert.name, err)
        return {}
    rows: dict[str, list[dict]] = {}
    for e in evaluations:
        o = e.outcome
        rows.setdefault(e.key, []).append(
            {"period": e.period.start.isoformat(), "value": o.value, "low": o.low, "high": o.high, "fired": o.fired}
        )
    return rows


def deliver_notice(context: Context, notice: incidents.Notice, rows: list[dict]) -> list[Result]:
    """Render ``notice`` (chart included) and send it to its channels; record every delivery."""
    alert, evaluation, lang = notice.alert, notice.evaluation, context.language
    image = sha = None
    if rows:
        where = by_label(context.catalog, evaluation.by, lang)
        subtitle = f"{metric_label(context.catalog, alert.metric, lang)} · {word(f'grain_{alert.grain}', lang)}"
        try:
            image = alert_chart(
                rows,
                title=alert.label.get(lang) + (f" · {where}" if where else ""),
                subtitle=subtitle,
                fmt=metric_format(context.catalog, alert.metric),
                grain=alert.grain,
            )
            sha = context.store.put_image(image)
        except Exception as err:  # noqa: BLE001 - a message without its chart beats no message
            log.warning("alert %s: chart not rendered: %s", alert.name, err)
    message = alert_message(
        context.catalog,
        alert,
        evaluation,
        notice.kind,
        lang,
        opened_period=notice.opened_period,
        image=image,
        image_url=image_url(context.public_url, sha),
    )
    results = []
    for name in notice.channels:
        result = context.sender.send(context.notifications.channels[name], message)
        context.store.add_delivery(
            kind=notice.kind,
            channel=name,
            status=result.status,
            attempts=result.attempts,
            at=datetime.now(),
            incident_id=notice.incident_id,
            period=evaluation.period.bucket,
            error=result.error,
        )
        if result.error:
            log.warning("%s", result.error)
        results.append(result)
    if any(r.status == "sent" for r in results):
        incidents.delivered(context.store, notice)
    return results


def digest_range(subscription: Subscription, at: datetime) -> tuple[date, date, tuple[date, date]]:
    """The last ``days`` complete days before ``at`` and the range they are compared with."""
    end = at.date() - timedelta(days=1)
    start = end - timedelta(days=subscription.days - 1)
    if subscription.compare == "year":
        compare = (_year_before(start), _year_before(end))
    else:
        compare = (start - timedelta(days=subscription.days), start - timedelta(days=1))
    return start, end, compare


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def send_subscription(
    context: Context, subscription: Subscription, at: datetime, *, dry_run: bool = False
) -> tuple[list[Result], object]:
    """Render ``subscription``'s board for the days before ``at`` and send it; returns the results and the message."""
    boards = load_boards(context.catalog, context.catalog.root or None)
    board = boards[subscription.board]
    start, end, compare = digest_range(subscription, at)
    where = equals_where([(name, list(values)) for name, values in subscription.filters], subscription.where)
    digest = board_digest(context.catalog, board, context.warehouse, start=start, end=end, compare=compare, where=where)
    lang = subscription.language or context.language
    image = digest_image(context.catalog, digest, lang, start, end)
    sha = None if dry_run else context.store.put_image(image)
    message = digest_message(
        context.catalog, subscription, digest, lang, image=image, image_url=image_url(context.public_url, sha)
    )
    if dry_run:
        return [], message
    results = []
    for name in subscription.notify:
        result = context.sender.send(context.notifications.channels[name], message)
        context.store.add_delivery(
            kind="digest",
            channel=name,
            status=result.status,
            attempts=result.attempts,
            at=datetime.now(),
            subscription=subscription.name,
            period=f"{start}..{end}",
            error=result.error,
        )
        results.append(result)
    return results, message
