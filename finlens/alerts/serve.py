"""``finlens alerts serve``: every alert and subscription on its cron schedule, and the chart images for chat apps.

APScheduler runs the clock (``CronTrigger`` in the deployment's time zone, weekdays as in crontab:
see ``semantic/catalog/cron.py``); jobs run one at a time, a run missed while the process was
busy or asleep is run once when it can (within an hour), never twice. With ``--http`` a small
Starlette app (served by uvicorn) answers ``/charts/<sha256>.png`` from the store, so DingTalk,
Feishu and Slack messages can show charts (set ``FINLENS_ALERTS_PUBLIC_URL`` to its public
address), and ``/healthz``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from finlens.alerts.runner import Context, check, send_subscription
from finlens.alerts.store import Store
from semantic.catalog.alert_specs import Subscription
from semantic.catalog.cron import cron_fields

log = logging.getLogger("finlens.alerts")
SHA = re.compile(r"^[0-9a-f]{64}$")
MISFIRE_GRACE_SECONDS = 3600


def local_now(time_zone: str) -> datetime:
    """Now as the warehouse's wall-clock time (naive, in the deployment's zone)."""
    return datetime.now(ZoneInfo(time_zone)).replace(tzinfo=None)


def trigger(schedule: str, time_zone: str) -> CronTrigger:
    return CronTrigger(**cron_fields(schedule), timezone=ZoneInfo(time_zone))


def _guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
            log.info("%s done", name)
        except Exception as err:  # noqa: BLE001 - one job's failure is logged; the schedule goes on
            log.error("%s failed: %s: %s", name, type(err).__name__, str(err).splitlines()[0] if str(err) else "")

    return run


def _check_one(context: Context, name: str, time_zone: str, dry_run: bool) -> object:
    return check(context, local_now(time_zone), [name], dry_run=dry_run)


def _send_one(context: Context, subscription: Subscription, time_zone: str, dry_run: bool) -> object:
    return send_subscription(context, subscription, local_now(time_zone), dry_run=dry_run)


def schedule_jobs(
    scheduler: BaseScheduler, context: Context, time_zone: str, *, dry_run: bool = False, run_now: bool = False
) -> list[str]:
    """Add one job per alert and subscription to ``scheduler``; returns the job ids."""
    ids = []
    start = {"next_run_time": datetime.now(ZoneInfo(time_zone))} if run_now else {}
    for alert in context.notifications.alerts.values():
        job = _guarded(f"alert {alert.name}", partial(_check_one, context, alert.name, time_zone, dry_run))
        scheduler.add_job(
            job,
            trigger(alert.schedule, time_zone),
            id=f"alert:{alert.name}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
            **start,
        )
        ids.append(f"alert:{alert.name}")
    for subscription in context.notifications.subscriptions.values():
        job = _guarded(
            f"subscription {subscription.name}", partial(_send_one, context, subscription, time_zone, dry_run)
        )
        scheduler.add_job(
            job,
            trigger(subscription.schedule, time_zone),
            id=f"subscription:{subscription.name}",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
            **start,
        )
        ids.append(f"subscription:{subscription.name}")
    return ids


def executors() -> dict[str, ThreadPoolExecutor]:
    """One worker: jobs share one warehouse connection and never overlap."""
    return {"default": ThreadPoolExecutor(1)}


def image_app(store: Store) -> Starlette:
    """``/charts/<sha256>.png`` from the store, ``/healthz``; nothing else."""

    async def chart(request: Request) -> Response:
        sha = request.path_params["sha"]
        data = store.image(sha) if SHA.match(sha) else None
        if data is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(data, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/charts/{sha}.png", chart), Route("/healthz", health)])


def start_image_server(store: Store, host: str, port: int) -> threading.Thread:
    """uvicorn serving :func:`image_app` in a daemon thread."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(image_app(store), host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="finlens-charts", daemon=True)
    thread.start()
    return thread
