"""The collector's HTTP side (Starlette): SDK batches in, acknowledged once durable; health and metrics.

``POST /sa?project=P`` (and ``/sa.gif``, GET too, as the web SDK sends) takes the Sensors
form fields; ``POST /events`` takes JSON lines. A request is refused whole with one line
of text: 413 past a size bound (body, decompressed data, records), 429 past the client's
rate or when the loader is too far behind (with ``Retry-After``), 400 when it cannot be
read, 404 for another project. Otherwise its lines are written to the spool and the answer,
200, comes once they are on disk. The same batch sent again (a client retrying after a
lost answer) is acknowledged without being stored twice: its id is a hash of its lines,
recent ids are remembered, and the loader skips events already stored anyway.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ingest.collector.admission import Admission
from ingest.collector.loader import Loader
from ingest.collector.metrics import Metrics
from ingest.collector.payload import BadPayload, Bounds, TooLarge, json_lines, sensors_form
from ingest.collector.spool import Spool, encode

log = logging.getLogger("finlens.collector")
RECENT_BATCHES = 100_000


@dataclass(frozen=True)
class Settings:
    bounds: Bounds = Bounds()
    records_per_second: int = 100_000  # per client address
    max_backlog_bytes: int = 1024 * 1024 * 1024
    projects: tuple[str, ...] = ("default",)


class _Refused(Exception):
    def __init__(self, status: int, reason: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.reason, self.retry_after = status, reason, retry_after


class Collector:
    """The service's state: where batches go, what is counted, what is allowed."""

    def __init__(self, spool: Spool, loader: Loader, metrics: Metrics, settings: Settings):
        self.spool, self.loader, self.metrics, self.settings = spool, loader, metrics, settings
        self.admission = Admission(settings.records_per_second, settings.max_backlog_bytes)
        self.recent: OrderedDict[str, None] = OrderedDict()

    def app(self) -> Starlette:
        routes = [
            Route("/sa", self.sensors, methods=["GET", "POST"]),
            Route("/sa.gif", self.sensors, methods=["GET", "POST"]),
            Route("/events", self.lines, methods=["POST"]),
            Route("/health", self.health, methods=["GET"]),
            Route("/metrics", self.prometheus, methods=["GET"]),
        ]
        return Starlette(routes=routes)

    async def sensors(self, request: Request) -> Response:
        return await self._take(request, "sa")

    async def lines(self, request: Request) -> Response:
        return await self._take(request, "events")

    async def _take(self, request: Request, endpoint: str) -> Response:
        began = time.perf_counter()
        try:
            project = request.query_params.get("project") or "default"
            if project not in self.settings.projects:
                raise _Refused(
                    404,
                    "project",
                    f"unknown project {project[:60]!r}; this collector takes {', '.join(self.settings.projects)}",
                )
            body = await self._body(request)
            bounds = self.settings.bounds
            try:
                if endpoint == "sa":
                    query = request.url.query if request.method == "GET" else ""
                    lines = await run_in_threadpool(sensors_form, body, query, bounds)
                else:
                    encoding = request.headers.get("content-encoding", "")
                    lines = await run_in_threadpool(json_lines, body, encoding, bounds)
            except TooLarge as err:
                raise _Refused(413, "too_large", str(err)) from None
            except BadPayload as err:
                raise _Refused(400, "unreadable", str(err)) from None
            client = request.client.host if request.client else "unknown"
            refusal = self.admission.refuse(client, len(lines), self.spool.backlog_bytes())
            if refusal is not None:
                raise _Refused(429, "rate" if "records a second" in refusal[0] else "backlog", refusal[0], refusal[1])
            batch = hashlib.blake2b(b"\n".join(lines), digest_size=16).hexdigest()
            answer = {"status": "ok", "records": len(lines), "batch": batch}
            if lines and batch in self.recent:
                self.metrics.duplicate_batches.inc()
                answer["status"] = "duplicate"
            elif lines:
                try:
                    await run_in_threadpool(self.spool.append, encode(batch, time.time(), project, lines))
                except OSError as err:
                    raise _Refused(503, "spool", f"the collector cannot write its spool: {err}", 5) from None
                self._remember(batch)
                self.metrics.accepted.inc(len(lines))
                self.loader.acknowledged(len(lines))
            self.metrics.ack_seconds.observe(time.perf_counter() - began)
            self.metrics.requests.labels(endpoint, "200").inc()
            return JSONResponse(answer)
        except _Refused as refused:
            self.metrics.refused.labels(refused.reason).inc()
            self.metrics.requests.labels(endpoint, str(refused.status)).inc()
            headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
            return PlainTextResponse(str(refused) + "\n", status_code=refused.status, headers=headers)

    async def _body(self, request: Request) -> bytes:
        """The body, refused (413) as soon as it passes the bound, whatever Content-Length claimed."""
        limit = self.settings.bounds.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _Refused(413, "too_large", f"request body of {int(declared):,} bytes exceeds {limit:,} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _Refused(413, "too_large", f"request body exceeds {limit:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _remember(self, batch: str) -> None:
        self.recent[batch] = None
        if len(self.recent) > RECENT_BATCHES:
            self.recent.popitem(last=False)

    async def health(self, request: Request) -> Response:
        healthy = self.spool.writable
        state = {
            "status": "ok" if healthy else "failing",
            "warehouse": "connected" if self.loader.connected else "retrying",
            "last_error": self.loader.last_error,
            "queued_bytes": self.spool.backlog_bytes(),
        }
        return Response(json.dumps(state), status_code=200 if healthy else 503, media_type="application/json")

    async def prometheus(self, request: Request) -> Response:
        self.metrics.queued_bytes.set(self.spool.backlog_bytes())
        return Response(self.metrics.text(), media_type="text/plain; version=0.0.4")
