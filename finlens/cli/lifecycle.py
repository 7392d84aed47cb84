"""The ``lifecycle`` and ``rfm`` subcommands of ``finlens``: stages and RFM groups as of a day, and their users.

``finlens lifecycle`` prints users per stage; ``finlens rfm`` users per RFM group
with average recency, frequency and monetary, and the values each score covers.
``--stage``/``--group`` (and ``--r/--f/--m``) narrow to one set of users;
``--users`` lists them (last visit, visits in the last 30 days, province, and the
stage's or scores' columns), ``--csv`` prints their ids for a push system. JSON by
default. ``--as-of`` defaults to the last day with events. Meanings:
:mod:`semantic.analyses.lifecycle`. ``cli.py`` calls :func:`add_parsers` and merges :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from finlens.cli.common import WAREHOUSE_HELP, add_identity, as_of_day, export_ids, list_members, load_catalog_for
from finlens.cli.output import render_rows
from finlens_common.errors import QueryError


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Add ``lifecycle`` and ``rfm`` to the ``finlens`` subcommands."""
    lifecycle = commands.add_parser(
        "lifecycle", help="users per lifecycle stage (visitor, new, holding, redeemed) as of a day"
    )
    lifecycle.add_argument("--stage", help="one stage: visitor, new, holding or redeemed")
    _common(lifecycle)

    rfm = commands.add_parser("rfm", help="RFM groups of investing users as of a day, and score thresholds")
    rfm.add_argument("--group", help="one RFM group, e.g. important_value")
    for letter in ("r", "f", "m"):
        rfm.add_argument(
            f"--{letter}", type=int, metavar="SCORE", help=f"only users with this {letter.upper()} score (1-5)"
        )
    _common(rfm)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of", dest="as_of", metavar="DATE", help="the day (YYYY-MM-DD; default: the last day with events)"
    )
    parser.add_argument("--users", action="store_true", help="list the users (paged by --limit/--offset)")
    parser.add_argument("--csv", action="store_true", help="print every user id as CSV (user_id, one per line)")
    parser.add_argument("--limit", type=int, default=50, help="users per page with --users (default 50; 0: all)")
    parser.add_argument("--offset", type=int, default=0, help="skip this many users with --users")
    parser.add_argument("--warehouse", help=WAREHOUSE_HELP)
    add_identity(parser)
    parser.add_argument("--format", choices=["json", "table"], default="json")


def _setup(args: argparse.Namespace):
    from semantic.analyses.lifecycle import load_lifecycle

    catalog = load_catalog_for(args)
    return catalog, load_lifecycle(catalog)  # the catalog folder's marketing/lifecycle.yml


def _emit(payload: dict[str, Any], rows_key: str, args: argparse.Namespace) -> int:
    if args.format == "json":
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        rows = payload[rows_key]
        columns = list(rows[0]) if rows else ["user_id"]
        sys.stdout.write(render_rows(columns, rows, "table"))
    return 0


def _members(
    catalog, members, as_of: date, warehouse, extra: tuple[str, ...], args: argparse.Namespace
) -> dict[str, Any] | None:
    """The CSV (printed; returns None) or one page of the members."""
    if args.csv:
        sys.stdout.write(export_ids(args, catalog, members, warehouse, "--csv"))
        return None
    if args.limit < 0 or args.offset < 0:
        raise QueryError("--limit and --offset must be whole numbers >= 0")
    listing = list_members(
        catalog, members, as_of, warehouse, extra=extra, limit=args.limit or None, offset=args.offset
    )
    return {"total": listing.total, "users": listing.rows}


def cmd_lifecycle(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from semantic.analyses.lifecycle_sql import LIFECYCLE_COLUMNS, check_stage, lifecycle_members
    from semantic.analyses.lifecycle_summary import lifecycle_summary

    catalog, spec = _setup(args)
    stage = check_stage(args.stage) if args.stage else None
    with open_warehouse(args.warehouse) as warehouse:
        as_of = as_of_day(args, catalog, warehouse)
        if args.users or args.csv:
            members = lifecycle_members(catalog, spec, as_of, warehouse.dialect, stage=stage)
            page = _members(catalog, members, as_of, warehouse, LIFECYCLE_COLUMNS[1:], args)
            return 0 if page is None else _emit({"as_of": as_of.isoformat(), "stage": stage, **page}, "users", args)
        summary = lifecycle_summary(catalog, spec, as_of, warehouse)
    rows = [
        {**row, "label_zh": spec.stage_label(row["stage"], "zh"), "label_en": spec.stage_label(row["stage"], "en")}
        for row in summary.rows
        if stage is None or row["stage"] == stage
    ]
    return _emit({"as_of": as_of.isoformat(), "total": summary.total, "stages": rows}, "stages", args)


def cmd_rfm(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from semantic.analyses.lifecycle_sql import RFM_COLUMNS, check_group, lookback_start, rfm_members
    from semantic.analyses.lifecycle_summary import rfm_summary

    catalog, spec = _setup(args)
    group = check_group(args.group) if args.group else None
    scores = {"r": args.r, "f": args.f, "m": args.m}
    with open_warehouse(args.warehouse) as warehouse:
        as_of = as_of_day(args, catalog, warehouse)
        if args.users or args.csv or any(v is not None for v in scores.values()):  # scores alone: who has them
            members = rfm_members(catalog, spec, as_of, warehouse.dialect, group=group, **scores)
            page = _members(catalog, members, as_of, warehouse, RFM_COLUMNS[1:], args)
            return 0 if page is None else _emit({"as_of": as_of.isoformat(), "group": group, **page}, "users", args)
        summary = rfm_summary(catalog, spec, as_of, warehouse)
    rows = [
        {
            **row,
            "label_zh": spec.group_label(row["rfm_group"], "zh"),
            "label_en": spec.group_label(row["rfm_group"], "en"),
        }
        for row in summary.rows
        if group is None or row["rfm_group"] == group
    ]
    payload = {
        "as_of": as_of.isoformat(),
        "lookback": {
            "start": lookback_start(spec, as_of).isoformat(),
            "end": as_of.isoformat(),
            "days": spec.lookback_days,
        },
        "high_from": spec.high_from,
        "total": summary.total,
        "groups": rows,
        "thresholds": list(summary.thresholds),
    }
    return _emit(payload, "groups", args)


COMMANDS = {"lifecycle": cmd_lifecycle, "rfm": cmd_rfm}
