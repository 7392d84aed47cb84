"""The ``paths`` and ``attribution`` subcommands of ``finlens``.

``finlens paths`` prints the flows of a path analysis (a saved one by name, or
``--start EVENT``, ``--end EVENT`` or ``--after FUNNEL:STEP``): ``step, source,
target, users``. ``finlens attribution`` prints each touch's credit for the
conversions: ``touch, conversions, credit, credit_share``. JSON by default,
``--format table`` for people; ``--users`` lists the users behind one row
instead. JSON is a list of rows, as ``finlens query`` prints. Without ``--from``/``--to`` the range is the data's whole span.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from finlens.cli.common import WAREHOUSE_HELP, load_catalog_for, parse_day
from finlens.cli.output import render_rows
from finlens_common.errors import QueryError

NONE = "-"  # on the command line: a flow's missing source or target, or the unattributed row


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Add ``paths`` and ``attribution`` to the ``finlens`` subcommands."""
    paths = commands.add_parser("paths", help="flows of events inside sessions from, to or after an event")
    paths.add_argument("name", nargs="?", metavar="NAME", help="a path analysis of metrics/paths/*.yml")
    anchor = paths.add_mutually_exclusive_group()
    anchor.add_argument("--start", metavar="EVENT", help="paths from the first EVENT of each session")
    anchor.add_argument("--end", metavar="EVENT", help="paths to the first EVENT of each session")
    anchor.add_argument("--after", metavar="FUNNEL:STEP", help="paths of the users who dropped out before STEP")
    paths.add_argument("--steps", type=int, help="nodes per path, 2 to 10 (default 5)")
    paths.add_argument("--top", type=int, help="branches kept per step, the rest shown as 'other' (default 10)")
    paths.add_argument("--by-page", action="store_true", help="name page views by page and clicks by element")
    paths.add_argument(
        "--users", nargs=3, metavar=("STEP", "SOURCE", "TARGET"), help=f"the users behind one flow ({NONE}: none)"
    )
    _common(paths)

    attribution = commands.add_parser("attribution", help="credit of each touch for the conversions")
    attribution.add_argument("--conversion", required=True, metavar="METRIC_OR_EVENT", help="what converts")
    attribution.add_argument(
        "--touches",
        required=True,
        nargs="+",
        metavar="TOUCH",
        help="EVENT, a filtered count metric, or either :DIMENSION to name touches by a value (push_click:campaign_id)",
    )
    attribution.add_argument("--window", default="7d", help="how long before a conversion a touch counts (default 7d)")
    attribution.add_argument("--model", default="last", help="first, last, linear or time_decay (default last)")
    attribution.add_argument("--half-life", help="time_decay: the age at which a touch weighs half, e.g. 2d")
    attribution.add_argument("--users", metavar="TOUCH", help=f"the users behind one touch ({NONE}: no touch)")
    _common(attribution)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="first", metavar="DATE", help="first day (default: the data's first day)")
    parser.add_argument("--to", dest="last", metavar="DATE", help="last day (default: the data's last day)")
    parser.add_argument("--where", help="boolean SQL over dimension names, e.g. \"platform = 'iOS'\"")
    parser.add_argument("--limit", type=int, default=50, help="--users: at most this many (default 50)")
    parser.add_argument("--warehouse", help=WAREHOUSE_HELP)
    parser.add_argument("--format", choices=["json", "table"], default="json")


def _range(args: argparse.Namespace, catalog: Any, warehouse: Any) -> tuple[date | None, date | None]:
    first = parse_day(args.first) if args.first else None
    last = parse_day(args.last) if args.last else None
    if first is None or last is None:
        from semantic.compiler.span import time_span

        span = time_span(catalog, warehouse)
        if span is not None:
            first, last = first or span[0], last or span[1]
    if first and last and first > last:
        raise QueryError(f"the range starts ({first}) after it ends ({last})")
    return first, last


def _print(columns: list[str], rows: list[dict[str, Any]], fmt: str, footer: str) -> None:
    """JSON: the rows, as ``finlens query`` prints them; a table ends with what was asked."""
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_rows(columns, rows, "table"))
        print(footer)


def _none(text: str) -> str | None:
    return None if text == NONE else text


def cmd_paths(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from semantic.analyses.paths import DEFAULT_STEPS, DEFAULT_TOP, adhoc_path, find_path
    from semantic.analyses.paths_sql import COLUMNS, flow_users, run_paths

    catalog = load_catalog_for(args)
    if args.name and (args.start or args.end or args.after):
        raise QueryError("give a saved path analysis or --start/--end/--after, not both")
    if args.name:
        spec = find_path(catalog, args.name)
    else:
        spec = adhoc_path(
            catalog,
            start=args.start,
            end=args.end,
            after=args.after,
            steps=args.steps or DEFAULT_STEPS,
            by_page=args.by_page,
            top=args.top or DEFAULT_TOP,
        )
    with open_warehouse(args.warehouse) as warehouse:
        first, last = _range(args, catalog, warehouse)
        options = dict(start=first, end=last, where=args.where)
        if args.users:
            step, source, target = args.users
            if not step.isdigit() or len(step) > 2:
                raise QueryError(f"--users: the step must be a whole number, not {step[:20]!r}")
            listed = flow_users(
                catalog,
                spec,
                warehouse,
                step=int(step),
                source=_none(source),
                target=_none(target),
                limit=args.limit,
                **options,
            )
            _print(listed.columns, listed.rows, args.format, f"{listed.total:,} users")
            return 0
        rows = run_paths(catalog, spec, warehouse, **options)
    _print(COLUMNS, rows, args.format, f"{first} – {last}: {spec.mode} {spec.anchor}, {spec.steps} steps")
    return 0


def cmd_attribution(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from semantic.analyses.attribution import COLUMNS, attribution_spec, run_attribution, touch_users

    catalog = load_catalog_for(args)
    spec = attribution_spec(
        catalog,
        conversion=args.conversion,
        touches=list(args.touches),
        window=args.window,
        model=args.model,
        half_life=args.half_life,
    )
    with open_warehouse(args.warehouse) as warehouse:
        first, last = _range(args, catalog, warehouse)
        options = dict(start=first, end=last, where=args.where)
        if args.users:
            listed = touch_users(catalog, spec, warehouse, touch=_none(args.users), limit=args.limit, **options)
            _print(listed.columns, listed.rows, args.format, f"{listed.total:,} users")
            return 0
        rows = run_attribution(catalog, spec, warehouse, **options)
    footer = f"{first} – {last}: {spec.conversion.name}, {spec.model} model, window {args.window}"
    _print(COLUMNS, rows, args.format, footer)
    return 0


COMMANDS = {"paths": cmd_paths, "attribution": cmd_attribution}
