"""The ``audit`` command: read, verify and prune the audit trail (README, Who sees what)."""

from __future__ import annotations

import argparse
import sys

from finlens import audit
from finlens.cli.common import parse_day
from finlens.cli.output import render_rows

COLUMNS = ["id", "at", "identity", "role", "source", "action", "rows", "sql_hash", "detail"]


def add_parsers(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("audit", help="who asked what and exported what (the audit trail)")
    parser.add_argument("--since", metavar="DATE", help="from this day on (UTC)")
    parser.add_argument("--who", metavar="IDENTITY", help="one identity's entries")
    parser.add_argument("--verify", action="store_true", help="check that no row was changed or removed")
    parser.add_argument("--prune-before", metavar="DATE", help="remove rows older than this day (recorded)")
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")


def cmd_audit(args: argparse.Namespace) -> int:
    if args.prune_before:
        removed = audit.prune(parse_day(args.prune_before), audit.cli_identity())
        print(f"audit: {removed:,} rows before {args.prune_before} removed (the removal is recorded)")
        return 0
    if args.verify:
        print(f"audit: {audit.verify():,} rows, chain intact")
        return 0
    rows = audit.entries(since=parse_day(args.since) if args.since else None, who=args.who)
    sys.stdout.write(render_rows(COLUMNS, rows, args.format))
    return 0


COMMANDS = {"audit": cmd_audit}
