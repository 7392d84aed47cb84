"""The core commands: demo data, validate, list, compile, query."""

from __future__ import annotations

import argparse
import sys

from finlens.cli.common import WAREHOUSE_HELP, add_identity, audited, load_catalog_for, parse_day
from finlens.cli.output import render_rows
from finlens.cli.progress import ProgressBar
from finlens_common.errors import CatalogError, QueryError
from semantic.catalog.formatting import column_formats


def _order_item(text: str) -> str:
    """``"pv desc"`` → ``"-pv"``; ``"pv asc"`` and ``"pv"`` → ``"pv"``."""
    words = text.split()
    if len(words) == 2 and words[1].lower() in ("asc", "desc"):
        return ("-" if words[1].lower() == "desc" else "") + words[0]
    return text.strip()


def _query_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("metrics", nargs="+", metavar="METRIC", help="metric names (a funnel or retention alone)")
    parser.add_argument("--by", action="append", default=[], metavar="DIM", help="group by a dimension (repeatable)")
    parser.add_argument("--grain", help="time bucket: hour, day, week, month, quarter, year")
    parser.add_argument("--from", dest="start", metavar="DATE", help="first day, inclusive (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last day, inclusive (YYYY-MM-DD)")
    parser.add_argument("--where", help="boolean SQL over dimension names, e.g. \"platform = 'iOS'\"")
    parser.add_argument(
        "--order-by",
        action="append",
        default=[],
        metavar="COL",
        help="order by an output column (repeatable); 'COL desc' or --order-by=-COL for descending",
    )
    parser.add_argument("--limit", type=int, help="at most this many rows")
    parser.add_argument("--segment", metavar="NAME", help="only users of this segment (computed as of --to)")
    parser.add_argument("--not-segment", metavar="NAME", help="only users outside this segment (computed as of --to)")
    parser.add_argument(
        "--average",
        action="store_true",
        help="a retention: add per period the average over its cohorts, weighted by size (cohort 'all')",
    )


def add_parsers(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="generate the demo warehouse")
    demo.add_argument("--users", type=int, help="number of users")
    demo.add_argument("--days", type=int, help="number of days, ending on --end")
    demo.add_argument("--seed", type=int, help="random seed (same seed, same data)")
    demo.add_argument("--end", help="last day of the data (YYYY-MM-DD)")
    demo.add_argument("--warehouse", help=WAREHOUSE_HELP)

    validate = commands.add_parser("validate", help="check the YAML catalog")
    validate.add_argument("path", nargs="?", help="catalog folder (default: metrics/)")

    listing = commands.add_parser("list", help="list metrics or dimensions")
    listing.add_argument("what", choices=["metrics", "dimensions"])
    listing.add_argument("--format", choices=["table", "json", "csv"], default="table")

    compile_ = commands.add_parser("compile", help="print the SQL for a query")
    _query_options(compile_)
    compile_.add_argument(
        "--dialect", required=True, help="duckdb, postgres, clickhouse, snowflake, bigquery, trino or spark"
    )
    compile_.add_argument(
        "--rollups",
        action="store_true",
        help="compile for a warehouse whose loaders keep the rollups current (the SQL names the table it reads)",
    )
    add_identity(compile_)

    query = commands.add_parser("query", help="run a query on the warehouse")
    _query_options(query)
    query.add_argument("--warehouse", help=WAREHOUSE_HELP)
    add_identity(query)
    query.add_argument("--format", choices=["table", "json", "csv"], default="table")


def _query(args: argparse.Namespace, catalog):
    """The question the options ask; a funnel's rows always carry its time-to-convert percentiles."""
    from semantic import Query

    if args.segment and args.not_segment:
        raise QueryError("give --segment or --not-segment, not both")
    funnel = any(getattr(catalog.metrics.get(name), "type", None) == "funnel" for name in args.metrics)
    return Query(
        metrics=tuple(args.metrics),
        dimensions=tuple(args.by),
        grain=args.grain,
        start=parse_day(args.start) if args.start else None,
        end=parse_day(args.end) if args.end else None,
        where=args.where,
        order_by=tuple(_order_item(item) for item in args.order_by),
        limit=args.limit,
        segment=args.segment or args.not_segment,
        exclude_segment=bool(args.not_segment and not args.segment),
        time_to_convert=funnel,
        average=args.average,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from connectors import Tuning, redact, writer
    from finlens_common.settings import warehouse_url as resolve_warehouse_url
    from ingest import demo

    options = {}
    for name in ("users", "days", "seed"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.end:
        options["end"] = parse_day(args.end)
    url = resolve_warehouse_url(args.warehouse)
    bar = ProgressBar("generating demo data", unit="users")
    with writer(url, command="finlens demo", tuning=Tuning(memory_limit="256MB")) as warehouse:
        summary = demo.generate_demo(warehouse, progress=bar.update, **options)
    bar.close()
    print(
        f"demo: {summary.users:,} users, {summary.events:,} events, {summary.start} to {summary.end}, "
        f"{summary.seconds:.1f} s -> {redact(url)}"
    )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from semantic.analyses.validation import marketing_problems
    from semantic.catalog.access import access_problems
    from semantic.catalog.boards import board_problems
    from semantic.catalog.notifications import notification_problems as alert_problems

    catalog = load_catalog_for(args, args.path)
    root = args.path or args.metrics_dir
    boards, problems = board_problems(catalog, root)
    access, access_found = access_problems(catalog, root)
    notifications, notification_found = alert_problems(catalog, root)
    problems = [*problems, *marketing_problems(catalog, root), *access_found, *notification_found]
    if problems:
        raise CatalogError(problems)
    roles = f"{len(access.roles)} roles" if access is not None else "no access.yml (everyone is an administrator)"
    print(
        f"ok: {len(catalog.models)} models, {len(catalog.dimensions)} dimensions, {len(catalog.metrics)} metrics, "
        f"{len(boards)} boards, {len(catalog.segments)} segments, {len(notifications.alerts)} alerts, "
        f"{len(notifications.subscriptions)} subscriptions, {roles}; marketing files checked"
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    catalog = load_catalog_for(args)
    if args.what == "metrics":
        rows = [
            {
                "name": m.name,
                "type": m.type if m.type != "aggregate" else m.aggregation,
                "model": m.model,
                "business_line": m.business_line,
                "format": m.format,
                "label_zh": m.label.zh,
                "label_en": m.label.en,
            }
            for m in catalog.metrics.values()
        ]
    else:
        rows = [
            {"name": d.name, "model": d.model, "type": d.type, "label_zh": d.label.zh, "label_en": d.label.en}
            for d in catalog.dimensions.values()
        ]
    columns = list(rows[0]) if rows else ["name"]
    sys.stdout.write(render_rows(columns, rows, args.format))
    return 0


def cmd_compile(args: argparse.Namespace) -> int:
    from semantic import compile_query

    catalog = load_catalog_for(args)
    if args.rollups:
        from dataclasses import replace

        from semantic.compiler.reader import ROLLUPS

        catalog = replace(catalog, rollups=frozenset(ROLLUPS))
    print(compile_query(catalog, _query(args, catalog), args.dialect).sql)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from semantic import run_query

    catalog = load_catalog_for(args)
    query = _query(args, catalog)
    bar = ProgressBar("first start: generating demo data", unit="users")
    with open_warehouse(args.warehouse, progress=bar.update) as warehouse:
        bar.close()
        result = run_query(catalog, query, warehouse)
    audited(args, "query", sql=result.sql, rows=len(result.rows), detail=" ".join(args.metrics))
    formats = column_formats(result.columns, {name: metric.format for name, metric in catalog.metrics.items()})
    sys.stdout.write(render_rows(result.columns, result.rows, args.format, formats))
    return 0


COMMANDS = {"demo": cmd_demo, "validate": cmd_validate, "list": cmd_list, "compile": cmd_compile, "query": cmd_query}
