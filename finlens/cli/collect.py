"""``finlens collect``: the real-time collector for Sensors SDKs, until SIGTERM (``ingest/collector/``).

Exit status 0 after a clean stop; 3 when the port or the warehouse cannot be used, 4 for a
bad option. The warehouse may be queried meanwhile with the same URL (``finlens query``,
the app): on an embedded warehouse the collector owns the file and answers those queries.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import socket
import sys
from pathlib import Path

from finlens.cli.common import WAREHOUSE_HELP

COMMAND_HELP = "collect Sensors SDK events over HTTP into the warehouse, live (until SIGTERM)"


def add_parsers(commands: argparse._SubParsersAction) -> None:
    collect = commands.add_parser("collect", help=COMMAND_HELP)
    collect.add_argument("--port", type=int, default=8106, help="port to listen on (default 8106)")
    collect.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)"
    )
    collect.add_argument("--warehouse", help=WAREHOUSE_HELP)
    collect.add_argument("--spool", help="folder of the durable log (default data/spool/<warehouse hash>)")
    collect.add_argument("--time-zone", default="Asia/Shanghai", help="zone of event_time (default Asia/Shanghai)")
    collect.add_argument("--project", action="append", help="Sensors project accepted (repeatable; default: default)")
    collect.add_argument("--max-body-mb", type=float, default=5, help="largest request body (default 5 MB)")
    collect.add_argument("--max-records", type=int, default=10_000, help="most records in one request (default 10,000)")
    collect.add_argument("--rate", type=int, default=100_000, help="records a second per client (default 100,000)")
    collect.add_argument(
        "--max-backlog-mb", type=float, default=1024, help="acknowledged but unloaded data before 429 (default 1 GB)"
    )


def cmd_collect(args: argparse.Namespace) -> int:
    from connectors import redact
    from finlens_common.errors import IngestError, WarehouseError
    from finlens_common.settings import PROJECT_ROOT
    from finlens_common.settings import warehouse_url as resolve_warehouse_url
    from ingest.collector import Options, Settings, serve
    from ingest.collector.payload import Bounds

    for name, value in (("--max-body-mb", args.max_body_mb), ("--max-backlog-mb", args.max_backlog_mb)):
        if not value > 0:
            raise IngestError(f"{name} must be a positive number of megabytes, got {value}")
    for name, number in (("--max-records", args.max_records), ("--rate", args.rate)):
        if number < 1:
            raise IngestError(f"{name} must be a whole number >= 1, got {number}")
    if not 0 <= args.port <= 65535:
        raise IngestError(f"--port must be between 0 and 65535, got {args.port}")
    url = resolve_warehouse_url(args.warehouse)
    digest = hashlib.blake2b(url.encode(), digest_size=6).hexdigest()
    spool = Path(args.spool) if args.spool else PROJECT_ROOT / "data" / "spool" / digest
    _check_port(args.host, args.port)
    body = int(args.max_body_mb * 1024 * 1024)
    settings = Settings(
        bounds=Bounds(
            max_body_bytes=body, max_text_bytes=max(body * 8, 32 * 1024 * 1024), max_records=args.max_records
        ),
        records_per_second=args.rate,
        max_backlog_bytes=int(args.max_backlog_mb * 1024 * 1024),
        projects=tuple(args.project or ["default"]),
    )
    logging.basicConfig(level=logging.INFO, format="finlens collect: %(message)s", stream=sys.stderr)
    print(
        f"collect: http://{args.host}:{args.port}/sa?project={settings.projects[0]} (Sensors SDKs), /events (JSON "
        f"lines), /health, /metrics -> {redact(url)}; spool {spool}",
        file=sys.stderr,
        flush=True,
    )
    try:
        serve(
            Options(url=url, spool=spool, host=args.host, port=args.port, time_zone=args.time_zone, settings=settings)
        )
    except OSError as err:
        raise WarehouseError(f"collector: {err}") from None
    return 0


def _check_port(host: str, port: int) -> None:
    """A port in use is a one-line error before anything starts."""
    from finlens_common.errors import WarehouseError

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise WarehouseError(f"collector: cannot listen on {host}:{port}: {err.strerror}") from None


COMMANDS = {"collect": cmd_collect}
