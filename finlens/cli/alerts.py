"""``finlens alerts check|serve|history|list`` and ``finlens subscriptions send|list``.

``check`` prints one JSON object per line (``--format json``) or a table: per alert and ``by``
value, the period evaluated, value, baseline, threshold, whether it fired and why. It exits 0
whatever fired; a delivery that failed after its retries is one ``finlens: warning:`` line on
stderr and a row in the store's deliveries.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from finlens.cli.common import WAREHOUSE_HELP, load_catalog_for, parse_day
from finlens.cli.output import render_rows
from finlens_common.errors import QueryError
from finlens_common.settings import alerts_store_path, deployment_language, deployment_time_zone, public_url

COLUMNS = ["alert", "by", "period", "value", "baseline", "threshold", "fired", "status", "reason"]


def add_parsers(commands: argparse._SubParsersAction) -> None:
    alerts = commands.add_parser("alerts", help="alerts: evaluate, serve the schedules, history")
    sub = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="evaluate the alerts once and send what fired")
    check.add_argument("--at", metavar="DATETIME", help="evaluate the period that ended before this local time")
    check.add_argument("--name", action="append", default=[], help="only this alert (repeatable)")
    check.add_argument("--dry-run", action="store_true", help="evaluate only: store nothing, send nothing")
    check.add_argument("--format", choices=["table", "json"], default="table")
    check.add_argument("--language", choices=["zh", "en"], help="messages' language (default FINLENS_LANGUAGE)")
    check.add_argument("--warehouse", help=WAREHOUSE_HELP)
    serve = sub.add_parser("serve", help="run every alert and subscription on its schedule")
    serve.add_argument("--http", metavar="HOST:PORT", help="also serve chart images for chat apps here")
    serve.add_argument("--run-now", action="store_true", help="run every job once at start, then on schedule")
    serve.add_argument("--dry-run", action="store_true", help="evaluate only: store nothing, send nothing")
    serve.add_argument("--language", choices=["zh", "en"], help="messages' language (default FINLENS_LANGUAGE)")
    serve.add_argument("--warehouse", help=WAREHOUSE_HELP)
    history = sub.add_parser("history", help="evaluate every period of a range (nothing stored or sent)")
    history.add_argument("name", help="the alert")
    history.add_argument("--from", dest="start", metavar="DATE", required=True)
    history.add_argument("--to", dest="end", metavar="DATE", required=True)
    history.add_argument("--fired", action="store_true", help="only the periods that fired")
    history.add_argument("--format", choices=["table", "json"], default="table")
    history.add_argument("--warehouse", help=WAREHOUSE_HELP)
    sub.add_parser("list", help="the alerts and their channels")

    subscriptions = commands.add_parser("subscriptions", help="board digests sent on a schedule")
    sub = subscriptions.add_subparsers(dest="subscriptions_command", required=True, metavar="ACTION")
    send = sub.add_parser("send", help="send one subscription now")
    send.add_argument("name")
    send.add_argument("--at", metavar="DATETIME", help="the digest covers the days before this local time")
    send.add_argument("--dry-run", action="store_true", help="print the message; send nothing")
    send.add_argument("--warehouse", help=WAREHOUSE_HELP)
    sub.add_parser("list", help="the subscriptions")


def parse_at(text: str | None) -> datetime:
    """``--at`` as naive local time in the deployment's zone (an offset is converted); now when absent."""
    zone = ZoneInfo(deployment_time_zone())
    if text is None:
        return datetime.now(zone).replace(tzinfo=None)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise QueryError(f"--at {text[:40]!r} is not a date and time; write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    parse_day(moment.date().isoformat())
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone).replace(tzinfo=None)
    return moment


def _context(args: argparse.Namespace, warehouse):
    from finlens.alerts.runner import Context
    from finlens.alerts.store import Store
    from semantic.catalog.notifications import load_notifications

    catalog = load_catalog_for(args)
    return Context(
        catalog=catalog,
        notifications=load_notifications(catalog, args.metrics_dir),
        warehouse=warehouse,
        store=Store(alerts_store_path()),
        language=getattr(args, "language", None) or deployment_language(),
        public_url=public_url(),
    )


def _rows(evaluations) -> list[dict]:
    return [{**e.to_json(), "by": e.to_json()["by"]} for e in evaluations]


def _print(rows: list[dict], fmt: str) -> None:
    if fmt == "json":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        shown = [{**r, "by": ", ".join(f"{k}={v}" for k, v in r["by"].items())} for r in rows]
        sys.stdout.write(render_rows(COLUMNS, shown, "table"))


def cmd_alerts(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse

    if args.alerts_command == "list":
        from semantic.catalog.notifications import load_notifications

        catalog = load_catalog_for(args)
        notifications = load_notifications(catalog, args.metrics_dir)
        rows = [
            {
                "name": a.name,
                "metric": a.metric.text,
                "by": ",".join(a.by),
                "grain": a.grain,
                "condition": a.condition.kind,
                "schedule": a.schedule,
                "notify": ",".join(a.notify),
            }
            for a in notifications.alerts.values()
        ]
        sys.stdout.write(
            render_rows(["name", "metric", "by", "grain", "condition", "schedule", "notify"], rows, "table")
        )
        return 0
    with open_warehouse(args.warehouse) as warehouse:
        context = _context(args, warehouse)
        if args.alerts_command == "check":
            from finlens.alerts.runner import check

            run = check(context, parse_at(args.at), args.name or None, dry_run=args.dry_run)
            _print(_rows(run.evaluations), args.format)
            for problem in run.problems:
                print(f"finlens: error: {problem}", file=sys.stderr)
            for result in run.deliveries:
                if result.error:
                    print(f"finlens: warning: {result.error}", file=sys.stderr)
            return 2 if run.problems and not run.evaluations else 0
        if args.alerts_command == "history":
            from finlens.alerts.runner import pick
            from semantic.analyses.alert_eval import evaluate_range

            (alert,) = pick(context.notifications, [args.name])
            evaluations = evaluate_range(context.catalog, alert, warehouse, parse_day(args.start), parse_day(args.end))
            _print(_rows([e for e in evaluations if e.fired or not args.fired]), args.format)
            return 0
        return _serve(args, context)


def _serve(args: argparse.Namespace, context) -> int:
    from apscheduler.schedulers.blocking import BlockingScheduler

    from finlens.alerts.serve import executors, schedule_jobs, start_image_server

    zone = deployment_time_zone()
    if args.http:
        host, _, port = args.http.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise QueryError(f"--http {args.http[:60]!r} is not HOST:PORT")
        start_image_server(context.store, host, int(port))
    scheduler = BlockingScheduler(timezone=ZoneInfo(zone), executors=executors())
    jobs = schedule_jobs(scheduler, context, zone, dry_run=args.dry_run, run_now=args.run_now)
    print(
        f"serving {len(context.notifications.alerts)} alerts and {len(context.notifications.subscriptions)} "
        f"subscriptions ({zone}){f'; charts on http://{args.http}' if args.http else ''}",
        flush=True,
    )
    if not jobs:
        return 0
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


def cmd_subscriptions(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse

    if args.subscriptions_command == "list":
        from semantic.catalog.notifications import load_notifications

        notifications = load_notifications(load_catalog_for(args), args.metrics_dir)
        rows = [
            {"name": s.name, "board": s.board, "days": s.days, "schedule": s.schedule, "notify": ",".join(s.notify)}
            for s in notifications.subscriptions.values()
        ]
        sys.stdout.write(render_rows(["name", "board", "days", "schedule", "notify"], rows, "table"))
        return 0
    from finlens.alerts.runner import send_subscription

    with open_warehouse(args.warehouse) as warehouse:
        context = _context(args, warehouse)
        subscription = context.notifications.subscriptions.get(args.name)
        if subscription is None:
            known = ", ".join(context.notifications.subscriptions) or "none in metrics/subscriptions/"
            raise QueryError(f"unknown subscription {args.name!r}; subscriptions: {known}")
        results, message = send_subscription(context, subscription, parse_at(args.at), dry_run=args.dry_run)
        if args.dry_run:
            print(message.plain())  # type: ignore[attr-defined]
        for result in results:
            print(f"{result.channel}: {result.status}" + (f" ({result.error})" if result.error else ""))
    return 0


COMMANDS = {"alerts": cmd_alerts, "subscriptions": cmd_subscriptions}
