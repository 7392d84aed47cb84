"""The ``finlens`` command line: demo data, validate, list, compile, query (and the commands of ``cli_*.py``).

Every user mistake ends as one line on stderr and a non-zero exit status
(1 catalog, 2 query or usage, 3 warehouse, 4 ingest); never a traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import date
from typing import NoReturn

from finlens.cli import ingest as cli_ingest

from finlens.cli import intent as cli_intent

from finlens.cli import lifecycle as cli_lifecycle

from finlens.cli import marketing as cli_marketing_views

from finlens.cli import segments as cli_segments
from finlens_common.errors import CatalogError, FinlensError, QueryError
from finlens.cli.output import render_rows
from finlens.cli.progress import ProgressBar


def _date(text: str) -> date:
    """A day typed at the command line (YYYY-MM-DD, between 1900 and 2200), or a one-line QueryError."""
    from semantic.catalog.days import DayError, as_day

    try:
        return as_day(text)
    except DayError as err:
        raise QueryError(str(err)) from None


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
        "--order-by", action="append", default=[], metavar="COL",
        help="order by an output column (repeatable); 'COL desc' or --order-by=-COL for descending",
    )
    parser.add_argument("--limit", type=int, help="at most this many rows")
    parser.add_argument("--segment", metavar="NAME", help="only users of this segment (computed as of --to)")
    parser.add_argument("--not-segment", metavar="NAME", help="only users outside this segment (computed as of --to)")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit 2), like every other error; ``-h`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"finlens: error: {self.prog.removeprefix('finlens ').strip()}: {message.splitlines()[0]}\n"
                  if self.prog != "finlens" else f"finlens: error: {message.splitlines()[0]}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="finlens", description="Metrics-as-code behaviour analytics for financial apps.")
    parser.add_argument("--metrics-dir", help="catalog folder (default: FINLENS_METRICS or the project's metrics/)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="generate the demo warehouse")
    demo.add_argument("--users", type=int, help="number of users")
    demo.add_argument("--days", type=int, help="number of days, ending on --end")
    demo.add_argument("--seed", type=int, help="random seed (same seed, same data)")
    demo.add_argument("--end", help="last day of the data (YYYY-MM-DD)")
    demo.add_argument("--warehouse", help="warehouse URL (default: FINLENS_WAREHOUSE or data/finlens.duckdb)")

    validate = commands.add_parser("validate", help="check the YAML catalog")
    validate.add_argument("path", nargs="?", help="catalog folder (default: metrics/)")

    listing = commands.add_parser("list", help="list metrics or dimensions")
    listing.add_argument("what", choices=["metrics", "dimensions"])
    listing.add_argument("--format", choices=["table", "json", "csv"], default="table")

    compile_ = commands.add_parser("compile", help="print the SQL for a query")
    _query_options(compile_)
    compile_.add_argument("--dialect", required=True, help="duckdb, postgres, clickhouse, snowflake, bigquery, trino or spark")

    query = commands.add_parser("query", help="run a query on the warehouse")
    _query_options(query)
    query.add_argument("--warehouse", help="warehouse URL (default: FINLENS_WAREHOUSE or data/finlens.duckdb)")
    query.add_argument("--format", choices=["table", "json", "csv"], default="table")
    cli_ingest.add_parsers(commands)
    cli_segments.add_parsers(commands)
    cli_intent.add_parsers(commands)
    cli_lifecycle.add_parsers(commands)
    cli_marketing_views.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its warnings would add lines to a one-line error
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # -h, or a usage mistake already printed in one line
        return int(stop.code or 0)
    try:
        return COMMANDS[args.command](args)
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
        print(f"finlens: internal error: {type(err).__name__}: {(str(err).splitlines() or [''])[0][:300]} "
              "(set FINLENS_DEBUG=1 for the traceback)", file=sys.stderr)
        return 70


def _catalog(args: argparse.Namespace, path: str | None = None):
    from semantic import load_catalog

    return load_catalog(path or args.metrics_dir)


def _query(args: argparse.Namespace):
    from semantic import Query

    if args.segment and args.not_segment:
        raise QueryError("give --segment or --not-segment, not both")
    return Query(
        metrics=tuple(args.metrics), dimensions=tuple(args.by), grain=args.grain,
        start=_date(args.start) if args.start else None, end=_date(args.end) if args.end else None,
        where=args.where, order_by=tuple(_order_item(item) for item in args.order_by), limit=args.limit,
        segment=args.segment or args.not_segment, exclude_segment=bool(args.not_segment and not args.segment),
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from connectors import connect, redact
    from finlens_common.settings import warehouse_url as resolve_warehouse_url
    from ingest import demo

    options = {}
    for name in ("users", "days", "seed"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.end:
        options["end"] = _date(args.end)
    url = resolve_warehouse_url(args.warehouse)
    bar = ProgressBar("generating demo data", unit="users")
    with connect(url, read_only=False) as warehouse:
        summary = demo.generate_demo(warehouse, progress=bar.update, **options)
    bar.close()
    print(f"demo: {summary.users:,} users, {summary.events:,} events, {summary.start} to {summary.end}, "
          f"{summary.seconds:.1f} s -> {redact(url)}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from semantic.catalog.boards import board_problems
    from semantic.analyses.marketing_yaml import marketing_problems

    catalog = _catalog(args, args.path)
    boards, problems = board_problems(catalog, args.path or args.metrics_dir)
    problems = [*problems, *marketing_problems(catalog, args.path or args.metrics_dir)]
    if problems:
        raise CatalogError(problems)
    print(f"ok: {len(catalog.models)} models, {len(catalog.dimensions)} dimensions, {len(catalog.metrics)} metrics, "
          f"{len(boards)} boards, {len(catalog.segments)} segments; marketing files checked")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    if args.what == "metrics":
        rows = [
            {"name": m.name, "type": m.type if m.type != "aggregate" else m.aggregation, "model": m.model,
             "business_line": m.business_line, "format": m.format, "label_zh": m.label.zh, "label_en": m.label.en}
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

    print(compile_query(_catalog(args), _query(args), args.dialect).sql)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from semantic import run_query

    catalog = _catalog(args)
    query = _query(args)
    bar = ProgressBar("first start: generating demo data", unit="users")
    with open_warehouse(args.warehouse, progress=bar.update) as warehouse:
        bar.close()
        result = run_query(catalog, query, warehouse)
    sys.stdout.write(render_rows(result.columns, result.rows, args.format))
    return 0


COMMANDS = {
    "demo": cmd_demo, "validate": cmd_validate, "list": cmd_list, "compile": cmd_compile, "query": cmd_query,
    **cli_ingest.COMMANDS, **cli_segments.COMMANDS, **cli_intent.COMMANDS, **cli_lifecycle.COMMANDS,
    **cli_marketing_views.COMMANDS,
}

if __name__ == "__main__":
    raise SystemExit(main())
