"""The ``channels`` and ``distribution`` subcommands of ``finlens``.

``finlens channels`` prints channel quality (every channel's funnel steps,
conversions, overall conversion, quadrant and strategy, plus the medians);
``finlens distribution NAME`` prints one distribution declared in
``metrics/marketing/distributions.yml``. JSON by default; ``--format table``
for people. Without ``--start``/``--end`` the range is the data's whole span.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from finlens.cli.common import WAREHOUSE_HELP, add_identity, load_catalog_for, parse_day
from finlens.cli.output import render_rows

SHIPPED_DISTRIBUTIONS = "events, amount, app_version, platform, device_model, province, errors"


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Add ``channels`` and ``distribution`` to the ``finlens`` subcommands."""
    channels = commands.add_parser("channels", help="channel quality: funnel per channel, conversion quadrants")
    _range_options(channels)
    distribution = commands.add_parser(
        "distribution", help="users by events, amount, app version, platform...; page errors"
    )
    distribution.add_argument(
        "name", metavar="NAME", help=f"a distribution of metrics/marketing/distributions.yml ({SHIPPED_DISTRIBUTIONS})"
    )
    _range_options(distribution)


def _range_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--start", "--from", dest="start", metavar="DATE", help="first day, inclusive (default: the data's first day)"
    )
    parser.add_argument(
        "--end", "--to", dest="end", metavar="DATE", help="last day, inclusive (default: the data's last day)"
    )
    parser.add_argument("--where", help="boolean SQL over dimension names, e.g. \"platform = 'iOS'\"")
    parser.add_argument("--warehouse", help=WAREHOUSE_HELP)
    add_identity(parser)
    parser.add_argument("--format", choices=["json", "table"], default="json")


def _span(args: argparse.Namespace, catalog: Any, warehouse: Any) -> tuple[date | None, date | None]:
    """The asked range; missing ends from the data's span."""
    start = parse_day(args.start) if args.start else None
    end = parse_day(args.end) if args.end else None
    if start is None or end is None:
        from semantic.compiler.span import time_span

        span = time_span(catalog, warehouse)
        if span is not None:
            start, end = start or span[0], end or span[1]
    return start, end


def _write(document: dict[str, Any], columns: list[str], rows: list[dict[str, Any]], fmt: str, footer: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    sys.stdout.write(render_rows(columns, rows, "table"))
    print(footer)


def cmd_channels(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from semantic.analyses.channel_quality import channel_quality, load_channel_spec

    catalog = load_catalog_for(args)
    spec = load_channel_spec(catalog)
    with open_warehouse(args.warehouse) as warehouse:
        start, end = _span(args, catalog, warehouse)
        result = channel_quality(catalog, spec, warehouse, start=start, end=end, where=args.where)
    rows = result.as_rows()
    document = {
        "start": str(start) if start else None,
        "end": str(end) if end else None,
        "funnel": spec.funnel,
        "dimension": spec.dimension,
        "median_traffic": result.median_traffic,
        "median_conversion": result.median_conversion,
        "channels": rows,
    }
    columns = list(rows[0]) if rows else ["channel"]
    footer = (
        f"{start} – {end}: median traffic {result.median_traffic}, median overall conversion {result.median_conversion}"
    )
    _write(document, columns, rows, args.format, footer)
    return 0


def cmd_distribution(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from semantic.analyses.distributions import load_distributions
    from semantic.analyses.distributions_run import distribution, find

    catalog = load_catalog_for(args)
    specs = load_distributions(catalog)
    spec = find(specs, args.name)
    with open_warehouse(args.warehouse) as warehouse:
        start, end = _span(args, catalog, warehouse)
        result = distribution(catalog, specs, spec.name, warehouse, start=start, end=end, where=args.where)
    document: dict[str, Any] = {
        "name": spec.name,
        "type": spec.kind,
        "start": str(start) if start else None,
        "end": str(end) if end else None,
        "counted": result.counted,
    }
    if result.below is not None:
        document["below"] = result.below
    document["rows"] = result.rows
    what = "error events" if spec.kind == "errors" else "users"
    footer = f"{start} – {end}: {result.counted:,} {what} counted" + (
        f", {result.below:,} below the first edge" if result.below else ""
    )
    _write(document, result.columns, result.rows, args.format, footer)
    return 0


COMMANDS = {"channels": cmd_channels, "distribution": cmd_distribution}
