"""The ``finlens`` command line: one module per command group, one parser, one way to fail.

Every user mistake ends as one line on stderr and a non-zero exit status
(1 catalog, 2 query or usage, 3 warehouse, 4 ingest); never a traceback.
The commands live in ``core`` (demo, validate, list, compile, query),
``ingest``, ``collect``, ``segments``, ``intent``, ``lifecycle``, ``marketing``, ``alerts``, ``audit`` and ``analysis`` (paths, attribution).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from finlens.cli import alerts, analysis, collect, core, ingest, intent, lifecycle, marketing, segments
from finlens.cli import audit as audit_command
from finlens.cli.common import OneLineParser, record_command
from finlens_common.errors import FinlensError

GROUPS = (core, ingest, collect, segments, intent, lifecycle, marketing, alerts, audit_command, analysis)
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    name: command for group in GROUPS for name, command in group.COMMANDS.items()
}


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="finlens", description="Metrics-as-code behaviour analytics for financial apps.")
    parser.add_argument("--metrics-dir", help="catalog folder (default: FINLENS_METRICS or the project's metrics/)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its warnings would add lines to a one-line error
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # -h, or a usage mistake already printed in one line
        return int(stop.code or 0)
    try:
        code = COMMANDS[args.command](args)
        record_command(args, code)
        return code
    except FinlensError as err:
        print(f"finlens: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("finlens: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # a bug, not the person's mistake: one line, the traceback with FINLENS_DEBUG=1
        if os.environ.get("FINLENS_DEBUG"):
            raise
        print(
            f"finlens: internal error: {type(err).__name__}: {(str(err).splitlines() or [''])[0][:300]} "
            "(set FINLENS_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 70


if __name__ == "__main__":
    raise SystemExit(main())
