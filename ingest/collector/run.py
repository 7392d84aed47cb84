"""Running the collector: spool, loader and HTTP service in one process, stopped cleanly by SIGTERM.

uvicorn serves the Starlette app in the main thread and handles SIGTERM and SIGINT: it
stops taking connections and lets the requests in flight finish (each is answered once
its batch is durable, or refused). Then the loader loads what was acknowledged (up to
``drain_seconds``), lets the warehouse go (an embedded one goes back to its readers), and
the spool closes. Whatever was not loaded by then is loaded at the next start.
"""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from ingest.collector.loader import Loader
from ingest.collector.metrics import Metrics
from ingest.collector.service import Collector, Settings
from ingest.collector.spool import Spool
from ingest.sensors import check_time_zone

log = logging.getLogger("finlens.collector")


@dataclass(frozen=True)
class Options:
    url: str
    spool: Path
    host: str = "127.0.0.1"
    port: int = 8106
    time_zone: str = "Asia/Shanghai"
    settings: Settings = field(default_factory=Settings)
    max_connections: int = 1000
    drain_seconds: float = 30.0


def serve(options: Options) -> None:
    """Collect until SIGTERM or SIGINT."""
    check_time_zone(options.time_zone)
    metrics = Metrics()
    loader_box: list[Loader] = []
    spool = Spool(options.spool, on_durable=lambda: loader_box[0].wake.set() if loader_box else None)
    loader = Loader(options.url, spool, metrics, options.time_zone)
    loader_box.append(loader)
    collector = Collector(spool, loader, metrics, options.settings)
    loader.start()
    config = uvicorn.Config(
        collector.app(),
        host=options.host,
        port=options.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        limit_concurrency=options.max_connections,
        timeout_graceful_shutdown=30,
        h11_max_incomplete_event_size=64 * 1024,  # request line and headers; bodies are bounded by the service
    )
    # uvicorn raises the signal again once it has stopped serving; these handlers take it, so the
    # loader still drains and lets the warehouse go before the process ends.
    previous = {sig: signal.signal(sig, _drained) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        uvicorn.Server(config).run()
    finally:
        loader.stop(options.drain_seconds)
        spool.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("collector stopped")


def _drained(signum: int, frame: object) -> None:
    """A stop signal after serving ended: the drain in progress is the answer to it."""
