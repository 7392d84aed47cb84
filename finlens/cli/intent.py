"""The ``score`` subcommand of ``finlens``: purchase-intent tiers and product preferences as of a day.

``finlens score`` prints the summary (tier sizes, thresholds, preferred types,
tier x type counts); ``--users`` (or ``--tier`` / ``--prefers``) lists the
users of a tier AND preferring a type, with last visit, visits in the last 30
days and last province; ``--csv`` prints every such user id for a push system.
``cli.py`` only calls :func:`add_parsers` and merges :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import sys

from finlens.cli.common import WAREHOUSE_HELP, add_identity, as_of_day, export_ids, list_members, load_catalog_for
from finlens.cli.output import render_rows
from finlens_common.errors import QueryError

DEFAULT_LIMIT = 50


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Add ``score`` to the ``finlens`` subcommands."""
    score = commands.add_parser(
        "score", help="purchase-intent tiers and product preferences (metrics/marketing/intent.yml)"
    )
    score.add_argument(
        "--as-of", dest="as_of", metavar="DATE", help="the day scored, inclusive (default: the last day with events)"
    )
    score.add_argument("--tier", help="list the users of this tier (e.g. strong)")
    score.add_argument(
        "--prefers", metavar="TYPE", help="list the users preferring this product type (e.g. bond); AND with --tier"
    )
    score.add_argument("--users", action="store_true", help="list users instead of the summary")
    score.add_argument("--csv", action="store_true", help="print every matching user id as CSV (for a push system)")
    score.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=f"users listed (default {DEFAULT_LIMIT})")
    score.add_argument("--warehouse", help=WAREHOUSE_HELP)
    add_identity(score)
    score.add_argument("--format", choices=["json", "table"], default="json")


def cmd_score(args: argparse.Namespace) -> int:
    from finlens.workspace import open_warehouse
    from semantic.analyses.intent import load_intent
    from semantic.analyses.intent_sql import check_tier, intent_members
    from semantic.analyses.intent_summary import intent_summary

    if args.limit is not None and args.limit < 1:
        raise QueryError(f"--limit must be a whole number >= 1, got {args.limit}")
    catalog = load_catalog_for(args)
    spec = load_intent(catalog)
    check_tier(spec, args.tier)
    with open_warehouse(args.warehouse) as warehouse:
        as_of = as_of_day(args, catalog, warehouse)
        if args.csv or args.users or args.tier or args.prefers:
            members = intent_members(catalog, spec, as_of, warehouse.dialect, tier=args.tier, prefers=args.prefers)
            if args.csv:
                sys.stdout.write(export_ids(args, catalog, members, warehouse, "--csv"))
                return 0
            listing = list_members(catalog, members, as_of, warehouse, extra=("score", "tier"), limit=args.limit)
            if args.format == "json":
                out = {
                    "as_of": as_of.isoformat(),
                    "tier": args.tier,
                    "prefers": args.prefers,
                    "total": listing.total,
                    "users": listing.rows,
                }
                sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
            else:
                sys.stdout.write(render_rows(listing.columns, listing.rows, "table"))
                print(
                    f"{listing.total:,} users (tier {args.tier or 'any'}, prefers {args.prefers or 'any'}, as of {as_of})"
                )
            return 0
        summary = intent_summary(catalog, spec, as_of, warehouse)
    if args.format == "json":
        sys.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2) + "\n")
        return 0
    start, end = summary.score_window
    print(f"{spec.score.label.en} as of {as_of}: {summary.ranked_users:,} users with a score ({start} to {end})")
    tiers = [
        {
            "tier": t.name,
            "top": t.top,
            "users": t.users,
            "share": t.share,
            "threshold": t.threshold,
            "min_score": t.min_score,
            "max_score": t.max_score,
        }
        for t in summary.tiers
    ]
    sys.stdout.write(render_rows(list(tiers[0]), tiers, "table"))
    start, end = summary.preference_window
    print(f"\nPreferred product types ({start} to {end}; {summary.dwell_users:,} users with dwell time)")
    types = [{"type": p.value, "users": p.users, "share": p.share} for p in summary.preferences]
    sys.stdout.write(render_rows(["type", "users", "share"], types, "table"))
    print()
    cells = [{"tier": c.tier or "(no score)", "type": c.value or "(none)", "users": c.users} for c in summary.crosstab]
    sys.stdout.write(render_rows(["tier", "type", "users"], cells, "table"))
    return 0


COMMANDS = {"score": cmd_score}
