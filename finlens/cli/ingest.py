"""The ``import sensors`` and ``check-tracking`` subcommands of ``finlens``.

Kept apart from ``finlens/cli.py`` so the data-access commands grow without
touching the query commands; ``cli.py`` only calls :func:`add_parsers` and merges
:data:`COMMANDS`. Exit status: 0 when every line was imported (or no tracking
violation was found), 5 when some lines were rejected (or violations were found),
otherwise the error's usual code (4 for an unreadable file, 3 for the warehouse).
"""

from __future__ import annotations

import argparse
import json
import sys

from finlens.cli.common import WAREHOUSE_HELP
from finlens.cli.output import render_rows
from finlens.cli.progress import ProgressBar

REJECTS_EXIT_CODE = 5
LOAD_MEMORY = "256MB"  # what bulk_load() caps DuckDB at; fixed at once when the import owns the file


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Add ``import`` and ``check-tracking`` to the ``finlens`` subcommands."""
    importer = commands.add_parser("import", help="import event logs (Sensors Analytics SDK logs)")
    importer.add_argument("source", choices=["sensors"], help="log format: sensors (JSON lines, plain or .gz)")
    importer.add_argument("paths", nargs="+", metavar="PATH", help="log files")
    importer.add_argument("--warehouse", help=WAREHOUSE_HELP)
    importer.add_argument("--time-zone", default="Asia/Shanghai", help="zone of event_time (default Asia/Shanghai)")
    importer.add_argument(
        "--jobs", type=int, help="parsing processes (default: 2 up to 3 CPUs, else CPUs - 1, at most 4)"
    )

    check = commands.add_parser("check-tracking", help="compare warehouse events with metrics/tracking_plan.yml")
    check.add_argument("--plan", help="tracking plan file (default: metrics/tracking_plan.yml)")
    check.add_argument("--event", help="check only this event")
    check.add_argument("--warehouse", help=WAREHOUSE_HELP)
    check.add_argument("--format", choices=["table", "json"], default="table")


def cmd_import(args: argparse.Namespace) -> int:
    from connectors import Tuning, redact, writer
    from finlens_common.errors import IngestError
    from finlens_common.settings import warehouse_url as resolve_warehouse_url
    from ingest.sensors import check_time_zone, import_sensors

    check_time_zone(args.time_zone)
    if args.jobs is not None and args.jobs < 1:
        raise IngestError(f"--jobs must be a whole number >= 1, got {args.jobs}")
    url = resolve_warehouse_url(args.warehouse)
    bar = ProgressBar("importing", unit="MB")
    # while another process reads the embedded warehouse, this import owns it and answers those reads
    with writer(url, command="finlens import", tuning=Tuning(memory_limit=LOAD_MEMORY, threads=1)) as warehouse:
        summary = import_sensors(
            warehouse,
            args.paths,
            time_zone=args.time_zone,
            jobs=args.jobs,
            progress=lambda done, total: bar.update(done // 1_000_000, total // 1_000_000),
        )
    bar.close()
    print(
        f"import: {summary.files} file(s), {summary.lines:,} lines: {summary.events:,} new events, "
        f"{summary.duplicates:,} already imported, {summary.rejected:,} rejected, {summary.profiles:,} profile records "
        f"({summary.users:,} users), {summary.identities:,} new identity bindings, {summary.reattributed:,} earlier "
        f"events re-attributed; {summary.seconds:.1f} s -> {redact(url)}"
    )
    if summary.rejected:
        reasons = ", ".join(f"{reason} ({count:,})" for reason, count in summary.reasons.most_common(5))
        print(f"rejected lines are in table import_rejects (file, line, raw, reason): {reasons}", file=sys.stderr)
        return REJECTS_EXIT_CODE
    return 0


def cmd_check_tracking(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from ingest.tracking import load_plan
    from ingest.tracking_check import check_tracking

    plan = load_plan(args.plan)
    with open_warehouse(args.warehouse) as warehouse:
        found = check_tracking(warehouse, plan, event=args.event)
    rows = [v.as_dict() for v in found]
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    elif rows:
        sys.stdout.write(render_rows(list(rows[0]), rows, "table"))
    else:
        print("ok: no tracking-plan violations")
    return REJECTS_EXIT_CODE if found else 0


COMMANDS = {"import": cmd_import, "check-tracking": cmd_check_tracking}
