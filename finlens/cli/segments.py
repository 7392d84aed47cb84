"""The ``segment`` and ``experiment`` subcommands: who to act on, and whether acting worked.

JSON by default so the output feeds scripts; ``segment --ids`` prints the
``user_id`` CSV a push system imports. Segments are computed as of ``--as-of``
(default: the last day with events).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from finlens.cli.common import (
    WAREHOUSE_HELP,
    add_as_of,
    add_identity,
    as_of_day,
    export_ids,
    list_members,
    load_catalog_for,
    parse_day,
)
from finlens.cli.output import render_rows


def add_parsers(commands: argparse._SubParsersAction) -> None:
    segment = commands.add_parser("segment", help="count, list or export the users of a segment (metrics/segments)")
    segment.add_argument("name", nargs="?", help="segment name from metrics/segments/*.yml")
    segment.add_argument("--list", action="store_true", help="list the segments")
    segment.add_argument(
        "--define", metavar="FILE", help="a condition in YAML or JSON instead of a name ('-' reads stdin)"
    )
    segment.add_argument(
        "--users", action="store_true", help="also list members: id, last visit, visits in 30 days, last province"
    )
    segment.add_argument(
        "--limit", type=int, default=100, help="members listed with --users (default 100; 0 lists all)"
    )
    segment.add_argument("--ids", action="store_true", help="print every member's user_id as CSV (for push systems)")
    segment.add_argument("--sql", metavar="DIALECT", help="print the SQL listing the members for DIALECT and stop")
    segment.add_argument("--format", choices=["json", "table"], default="json")
    add_as_of(segment)
    add_identity(segment)

    experiment = commands.add_parser(
        "experiment", help="compare the variants of a test (metrics/marketing/experiments.yml)"
    )
    experiment.add_argument("name", nargs="?", help="experiment name")
    experiment.add_argument("--list", action="store_true", help="list the experiments")
    experiment.add_argument("--from", dest="start", metavar="DATE", help="first day (default: the experiment's start)")
    experiment.add_argument(
        "--to",
        dest="end",
        metavar="DATE",
        help="last day (default: the experiment's end, else the last day with events)",
    )
    experiment.add_argument("--warehouse", help=WAREHOUSE_HELP)
    add_identity(experiment)
    experiment.add_argument("--format", choices=["json", "table"], default="json")


def _segment(args: argparse.Namespace, catalog):
    from finlens_common.errors import QueryError
    from semantic.analyses.segments import find_segment, parse_segment_text

    if args.define:
        text = _read_stdin() if args.define == "-" else _read(args.define)
        return parse_segment_text(catalog, text, file=args.define)
    if not args.name:
        raise QueryError("name a segment (`finlens segment --list` shows them) or give --define FILE")
    return find_segment(catalog, args.name)


def _read_stdin() -> str:
    from finlens_common.errors import QueryError
    from semantic.catalog.yaml_lines import MAX_BYTES

    text = sys.stdin.read(MAX_BYTES + 1)
    if len(text) > MAX_BYTES:
        raise QueryError(f"-:1: the segment on standard input is longer than {MAX_BYTES:,} characters")
    return text


def _read(path: str) -> str:
    from finlens_common.errors import QueryError
    from semantic.catalog.yaml_lines import YamlProblem, read_yaml_text

    try:
        return read_yaml_text(Path(path))
    except YamlProblem as err:
        raise QueryError(f"{path}:{err.line}: {err.message}") from None


def cmd_segment(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from semantic.analyses.segments import segment_count, segment_members
    from semantic.drill.members import compile_member_list

    catalog = load_catalog_for(args)
    if args.list:
        rows = [
            {
                "name": s.name,
                "label_zh": s.label.zh,
                "label_en": s.label.en,
                "description": s.description,
                "source": str(s.source),
            }
            for s in catalog.segments.values()
        ]
        sys.stdout.write(render_rows(["name", "label_zh", "label_en", "description", "source"], rows, args.format))
        return 0
    segment = _segment(args, catalog)
    if args.sql:
        if not args.as_of:
            from finlens_common.errors import QueryError

            raise QueryError("--sql needs --as-of (the SQL is written for one day)")
        members = segment_members(catalog, segment, parse_day(args.as_of), args.sql)
        print(compile_member_list(catalog, members, parse_day(args.as_of), args.sql, limit=None)[0])
        return 0
    with open_warehouse(args.warehouse) as warehouse:
        as_of = as_of_day(args, catalog, warehouse)
        members = segment_members(catalog, segment, as_of, warehouse.dialect)
        if args.ids:
            sys.stdout.write(export_ids(args, catalog, members, warehouse, "--ids"))
            return 0
        summary = {
            "segment": segment.name,
            "label": segment.label.en,
            "as_of": as_of.isoformat(),
            "users": segment_count(catalog, segment, as_of, warehouse),
        }
        if args.users:
            listing = list_members(catalog, members, as_of, warehouse, limit=args.limit or None)
            summary["members"] = listing.rows
    if args.format == "json":
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(f"{summary['segment']} as of {summary['as_of']}: {summary['users']:,} users")
        if args.users:
            sys.stdout.write(
                render_rows(["user_id", "last_visit", "visits_30d", "last_province"], summary["members"], "table")
            )
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from finlens_common.errors import QueryError
    from semantic.analyses.experiment_run import run_experiment
    from semantic.analyses.experiments import find_experiment, load_experiments

    catalog = load_catalog_for(args)
    if args.list:
        rows = [
            {
                "name": e.name,
                "label_en": e.label.en,
                "variant": e.variant,
                "control": e.control,
                "conversion": e.metric or "condition",
                "source": str(e.source),
            }
            for e in load_experiments(catalog).values()
        ]
        sys.stdout.write(
            render_rows(["name", "label_en", "variant", "control", "conversion", "source"], rows, args.format)
        )
        return 0
    if not args.name:
        raise QueryError("name an experiment (`finlens experiment --list` shows them)")
    experiment = find_experiment(catalog, args.name)
    with open_warehouse(args.warehouse) as warehouse:
        result = run_experiment(
            catalog,
            experiment,
            warehouse,
            start=parse_day(args.start) if args.start else None,
            end=parse_day(args.end) if args.end else None,
        )
    rows = [experiment_row(v) for v in result.variants]
    if args.format == "table":
        print(
            f"{experiment.name}: {experiment.variant}, control {experiment.control}, {result.start or '…'} to {result.end or '…'}"
        )
        sys.stdout.write(render_rows(list(rows[0]), rows, "table"))
        return 0
    print(
        json.dumps(
            {
                "experiment": experiment.name,
                "variant": experiment.variant,
                "control": experiment.control,
                "start": str(result.start) if result.start else None,
                "end": str(result.end) if result.end else None,
                "confidence": experiment.confidence,
                "unassigned_users": result.unassigned_users,
                "variants": rows,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


def experiment_row(outcome) -> dict:
    """One variant as a flat row: users, conversions, rate and the comparison with the control."""
    comparison = outcome.comparison
    return {
        "variant": outcome.variant,
        "control": outcome.is_control,
        "users": outcome.users,
        "converted": outcome.converted,
        "rate": outcome.rate,
        "lift": comparison.lift if comparison else None,
        "relative_lift": comparison.relative_lift if comparison else None,
        "z": comparison.z if comparison else None,
        "p_value": comparison.p_value if comparison else None,
        "ci_low": comparison.ci_low if comparison else None,
        "ci_high": comparison.ci_high if comparison else None,
        "small_sample": comparison.small_sample if comparison else None,
    }


COMMANDS = {"segment": cmd_segment, "experiment": cmd_experiment}
