"""Benchmark ``finlens collect``: SDK-format batches at the collector on 127.0.0.1 for a bounded time.

    python bench/collector.py [--seconds 60] [--offered 20000] [--batch 100] [--clients 8] [--warehouse URL] [--keep DIR]

Starts the collector on a fresh DuckDB file (or ``--warehouse``), then for ``--seconds``:
``--clients`` threads post batches the way the Python SDK's BatchConsumer does (``data_list``,
gzip, base64, a form), at ``--offered`` events a second (open loop), or each as soon as the previous
one is acknowledged (closed loop, the default); batches are encoded before the clock starts, so the
clients cost little CPU. Every 2 s a probe sends one event
and polls the warehouse through ``connectors.connect`` (as ``finlens query`` and the app do, here
through the collector that owns the file) until it is there: the time from acknowledgement to
visible. Reports events/s acknowledged and loaded, p50/p99 acknowledgement latency, the
visibility times and the collector's peak RSS, with the load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors import connect  # noqa: E402

EVENTS = ["$AppViewScreen", "$AppClick", "login", "deposit", "P2P_invest", "forex_trade", "stock_trade"]
BASE_MS = 1_795_000_000_000


def record(n: int, rng: random.Random) -> str:
    """One record as the Python SDK writes it (its key order and lib properties)."""
    event = rng.choice(EVENTS)
    properties = {
        "$lib": rng.choice(["iOS", "Android", "js"]),
        "$lib_version": "1.11.0",
        "$os": "iOS",
        "$model": "iPhone15,2",
        "$app_version": "5.3.0",
        "$screen_name": rng.choice(["home", "product_list", "product_detail"]),
        "amount": round(rng.random() * 5000, 2),
        "is_success": True,
        "seq": n,
    }
    lib = {"$lib": "python", "$lib_version": "1.11.0", "$lib_method": "code", "$lib_detail": "##bench##x.py##1"}
    data = {"type": "track", "time": BASE_MS + n, "distinct_id": f"u{n % 50_000}", "properties": properties}
    return json.dumps({**data, "lib": lib, "event": event}, separators=(",", ":"))


def encode(records: list[str]) -> bytes:
    payload = base64.b64encode(gzip.compress(("[" + ",".join(records) + "]").encode(), compresslevel=6))
    return urllib.parse.urlencode({"data_list": payload, "gzip": 1}).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def metric(port: int, name: str) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    connection.close()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + " "))


def post(connection: http.client.HTTPConnection, body: bytes) -> int:
    """POST a batch on a kept-alive connection (opened again if the collector closed it)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    for attempt in (1, 2):
        try:
            connection.request("POST", "/sa?project=default", body, headers)
            response = connection.getresponse()
            response.read()
            return response.status
        except (ConnectionError, http.client.HTTPException):
            connection.close()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=int, default=40_000, help="events a second the payloads are prepared for")
    parser.add_argument(
        "--offered",
        type=int,
        default=0,
        help="send at this many events a second (open loop); 0: as fast as acknowledged",
    )
    parser.add_argument("--warehouse")
    parser.add_argument("--keep", help="folder for the warehouse and spool (default: a temporary one, deleted)")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="finlens-collector-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = args.warehouse or f"duckdb:///{(folder / 'bench.duckdb').as_posix()}"

    rng = random.Random(7)
    total = int(args.rate * args.seconds)
    print(f"encoding {total:,} events in batches of {args.batch} ...", flush=True)
    payloads = [
        encode([record(n, rng) for n in range(i, min(i + args.batch, total))]) for i in range(0, total, args.batch)
    ]

    port = free_port()
    collector = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "finlens"),
            "collect",
            "--port",
            str(port),
            "--warehouse",
            url,
            "--spool",
            str(folder / "spool"),
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if metric(port, "finlens_collector_load_errors_total") == 0:
                    break
            except OSError:
                time.sleep(0.2)
        load_before = os.getloadavg()
        latencies: list[float] = []
        acked = [0]
        lock = threading.Lock()
        queue = iter(range(len(payloads)))
        stop_at = time.monotonic() + args.seconds
        visible: list[float] = []

        def client() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            while time.monotonic() < stop_at:
                with lock:
                    index = next(queue, None)
                if index is None:
                    return
                if args.offered:  # batch i leaves at its slot of the offered rate
                    delay = started + index * args.batch / args.offered - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                began = time.perf_counter()
                status = post(connection, payloads[index])
                spent = time.perf_counter() - began
                with lock:
                    if status == 200:
                        latencies.append(spent)
                        acked[0] += args.batch
                    else:
                        time.sleep(0.05)

        def probe() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            reader = connect(url)
            k = 0
            while time.monotonic() < stop_at - 3:
                k += 1
                marker = f"probe-{k}"
                body = encode(
                    [
                        json.dumps(
                            {
                                "type": "track",
                                "event": "probe",
                                "time": BASE_MS,
                                "distinct_id": marker,
                                "properties": {},
                            }
                        )
                    ]
                )
                post(connection, body)
                acknowledged = time.perf_counter()
                sql = f"SELECT count(*) FROM events WHERE distinct_id = '{marker}'"
                while reader.query(sql).rows[0][0] == 0:
                    time.sleep(0.02)
                visible.append(time.perf_counter() - acknowledged)
                time.sleep(2)
            reader.close()

        started = time.monotonic()
        stop_at = started + args.seconds
        stored_before = metric(port, "finlens_collector_events_stored_total")
        threads = [threading.Thread(target=client) for _ in range(args.clients)] + [threading.Thread(target=probe)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        stored = metric(port, "finlens_collector_events_stored_total") - stored_before
        lag = metric(port, "finlens_collector_lag_seconds")
        drain_began = time.monotonic()
        while metric(port, "finlens_collector_queued_bytes") > 0:
            time.sleep(0.2)
        drain = time.monotonic() - drain_began
        with open(f"/proc/{collector.pid}/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
        load_after = os.getloadavg()
    finally:
        collector.send_signal(signal.SIGTERM)
        collector.wait(timeout=120)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    latencies.sort()
    print(f"{elapsed:.1f} s, {args.clients} clients, batches of {args.batch}:")
    print(f"  acknowledged {acked[0]:,} events = {acked[0] / elapsed:,.0f} events/s")
    print(
        f"  loaded       {stored:,.0f} events = {stored / elapsed:,.0f} events/s (lag at the end {lag:.1f} s, drained in {drain:.1f} s)"
    )
    print(
        f"  ack latency  p50 {1000 * latencies[len(latencies) // 2]:.1f} ms, "
        f"p99 {1000 * latencies[int(len(latencies) * 0.99)]:.1f} ms, max {1000 * latencies[-1]:.1f} ms"
    )
    if visible:
        print(
            f"  ack → visible in a query: median {statistics.median(visible):.2f} s, max {max(visible):.2f} s "
            f"({len(visible)} probes)"
        )
    print(f"  collector peak RSS {peak:.0f} MB; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")


if __name__ == "__main__":
    main()
