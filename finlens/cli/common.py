"""What every command shares: one-line usage errors, days, the catalog, the warehouse option.

Kept apart from the command modules so each of them imports this and nothing
of the others (no cycles), and the parser in ``__init__`` imports them all.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import NoReturn

from finlens_common.errors import QueryError

WAREHOUSE_HELP = "warehouse URL (default: FINLENS_WAREHOUSE or data/finlens.duckdb)"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit 2), like every other error; ``-h`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            2,
            f"finlens: error: {self.prog.removeprefix('finlens ').strip()}: {message.splitlines()[0]}\n"
            if self.prog != "finlens"
            else f"finlens: error: {message.splitlines()[0]}\n",
        )


def parse_day(text: str) -> date:
    """A day typed at the command line (YYYY-MM-DD, between 1900 and 2200), or a one-line QueryError."""
    from semantic.catalog.days import DayError, as_day

    try:
        return as_day(text)
    except DayError as err:
        raise QueryError(str(err)) from None


def load_catalog_for(args: argparse.Namespace, path: str | None = None):
    """The catalog under ``path``, ``--metrics-dir`` or the default folder."""
    from semantic.catalog.loader import load_catalog

    return load_catalog(path or getattr(args, "metrics_dir", None))


def add_as_of(parser: argparse.ArgumentParser) -> None:
    """``--as-of`` and ``--warehouse``, shared by the marketing commands."""
    parser.add_argument(
        "--as-of", metavar="DATE", help="compute as of the end of this day (default: the last day with events)"
    )
    parser.add_argument("--warehouse", help=WAREHOUSE_HELP)


def as_of_day(args: argparse.Namespace, catalog, warehouse) -> date:
    """``--as-of`` or the last day with events."""
    from semantic.compiler.span import default_as_of

    return parse_day(args.as_of) if args.as_of else default_as_of(catalog, warehouse)
