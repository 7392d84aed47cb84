"""Running the real collector for the tests: ``finlens collect`` as its own process on a free loopback port.

The Sensors Python SDK's consumers send to it exactly as they would to a Sensors server.
Waiting helpers poll a condition with a generous deadline (a wait, never a timing assertion).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import sensorsanalytics

ROOT = Path(__file__).resolve().parent.parent
FINLENS = str(Path(sys.executable).parent / "finlens")  # the installed command, as people run it
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], T], what: str, timeout: float = 60.0) -> T:
    """``condition()``'s first truthy value, polled; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what}")
        time.sleep(0.1)


@dataclass
class Collector:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sa_url(self) -> str:
        return f"{self.base}/sa?project=default"

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict]:
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as err:
            return err.code, err.read(), {k.lower(): v for k, v in err.headers.items()}

    def metric(self, name: str) -> float:
        """A metric's value from /metrics (labelled series summed)."""
        _, text = self.get("/metrics")
        total = 0.0
        for line in text.decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def loaded(self) -> float:
        return self.metric("finlens_collector_records_accepted_total") - self.metric("finlens_collector_queued_records")

    def drained(self) -> bool:
        """Every acknowledged record is in the warehouse (nothing queued, nothing lagging)."""
        return (
            self.metric("finlens_collector_queued_bytes") == 0 and self.metric("finlens_collector_queued_records") == 0
        )


def start_collector(url: str, spool: Path, *extra: str, port: int | None = None, connected: bool = True) -> Collector:
    port = port or free_port()
    log = spool.parent / f"collector-{port}.log"
    env = {**os.environ, "FINLENS_DEBUG": "1"}
    process = subprocess.Popen(
        [FINLENS, "collect", "--port", str(port), "--warehouse", url, "--spool", str(spool), *extra],
        cwd=ROOT,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )
    collector = Collector(process, port, log)

    def healthy() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the collector exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            status, body = collector.get("/health")
        except OSError:
            return False
        return status == 200 and (json.loads(body)["warehouse"] == "connected" or not connected)

    wait_for(healthy, "the collector to serve" + (" and hold the warehouse" if connected else ""))
    return collector


def stop(collector: Collector) -> int:
    """SIGTERM, and the exit status once it has drained and let the warehouse go."""
    collector.process.send_signal(signal.SIGTERM)
    return collector.process.wait(timeout=90)


def kill9(collector: Collector) -> None:
    collector.process.send_signal(signal.SIGKILL)
    collector.process.wait(timeout=30)


@contextmanager
def running_collector(url: str, spool: Path, *extra: str, connected: bool = True) -> Iterator[Collector]:
    collector = start_collector(url, spool, *extra, connected=connected)
    try:
        yield collector
    finally:
        if collector.process.poll() is None:
            assert stop(collector) == 0, collector.log.read_text()[-2000:]


@contextmanager
def sdk(consumer) -> Iterator[sensorsanalytics.SensorsAnalytics]:
    """The real SDK around ``consumer``; flushed and closed after (its logger detached for the next test)."""
    analytics = sensorsanalytics.SensorsAnalytics(consumer)
    try:
        yield analytics
        analytics.flush()
    finally:
        analytics.close()
        logger = logging.getLogger("SensorsAnalyticsLogger")
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
