"""What every command shares: one-line usage errors, days, the catalog, the warehouse option.

Kept apart from the command modules so each of them imports this and nothing
of the others (no cycles), and the parser in ``__init__`` imports them all.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any, NoReturn

from finlens_common.errors import QueryError
from semantic.catalog.catalog import Catalog
from semantic.drill.privacy import Privacy
from semantic.drill.users import UserList

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


def load_catalog_for(args: argparse.Namespace, path: str | None = None) -> Catalog:
    """The catalog under ``path``, ``--metrics-dir`` or the default folder; as ``--as IDENTITY`` sees it when given.

    Raises:
        QueryError: ``--as`` without ``access.yml``, or for an identity that has no role (it sees nothing).
    """
    from semantic.catalog.access import load_access
    from semantic.catalog.loader import load_catalog

    catalog = load_catalog(path or getattr(args, "metrics_dir", None))
    identity = getattr(args, "as_identity", None)
    if not identity:
        return catalog
    access = load_access(catalog)
    if access is None:
        raise QueryError("--as needs metrics/access.yml: without it every identity is an administrator")
    groups = [g for g in (getattr(args, "groups", None) or "").split(",") if g.strip()]
    role = access.role_for(identity, groups)
    if role is None:
        raise QueryError(f"{identity!r} has no role in {access.file} (members, groups, default_role): it sees nothing")
    args.role_name = role.name
    return catalog.for_role(role)


def add_identity(parser: argparse.ArgumentParser) -> None:
    """``--as IDENTITY [--groups G,H]``: answer as that person's role in metrics/access.yml would see it."""
    parser.add_argument(
        "--as",
        dest="as_identity",
        metavar="IDENTITY",
        help="answer as this identity's role in metrics/access.yml sees it (rows, personal data, exports)",
    )
    parser.add_argument("--groups", metavar="G,H", help="with --as: the identity's SSO groups, comma-separated")


def audited(
    args: argparse.Namespace, action: str, *, sql: str | None = None, rows: int | None = None, detail: str = ""
) -> None:
    """Record one action of this command in the audit trail, as the ``--as`` identity or the OS account."""
    from finlens import audit

    args.audited = True
    identity = getattr(args, "as_identity", None) or audit.cli_identity()
    audit.record(
        audit.Entry(
            identity=identity,
            role=getattr(args, "role_name", None) or "admin",
            source=f"cli:{args.command}",
            action=action,
            sql_hash=audit.sql_hash(sql) if sql else None,
            rows=rows,
            detail=detail,
        )
    )


def record_command(args: argparse.Namespace, code: int) -> None:
    """After a command: record it, unless it recorded its own actions (queries, exports) or only read the trail."""
    if code == 0 and not getattr(args, "audited", False) and args.command not in ("audit", "validate", "list", "demo"):
        audited(args, "command", detail=args.command)


def require_export(catalog: Catalog, what: str) -> None:
    """Refuse a file of user ids when the catalog's role may not export them."""
    if catalog.role is not None and not catalog.role.export:
        raise QueryError(
            f"role {catalog.role.name!r} may not export user ids ({what}); metrics/access.yml grants export"
        )


def export_ids(args: argparse.Namespace, catalog: Catalog, members: Any, warehouse: Any, what: str) -> str:
    """The CSV of every member's id for a push system: only for roles that may export, pseudonyms without pii.

    Every export is recorded in the audit trail, with the SQL's hash and the number of ids.
    """
    from semantic.drill.members import compile_member_ids, ids_csv, member_ids

    require_export(catalog, what)
    ids = member_ids(members, warehouse)
    audited(args, "export", sql=compile_member_ids(members, warehouse.dialect), rows=len(ids), detail=what)
    shown = privacy(catalog)
    return ids_csv(shown.ids(ids) if shown is not None else ids)


def list_members(catalog: Catalog, members: Any, as_of: date, warehouse: Any, **options: Any) -> UserList:
    """One page of members (id, last visit, visits, province, ...), ids as pseudonyms for roles without pii."""
    from semantic.drill.members import member_list

    listing = member_list(catalog, members, as_of, warehouse, **options)
    shown = privacy(catalog)
    return shown.users(listing) if shown is not None else listing


def privacy(catalog: Catalog) -> Privacy | None:
    """How the catalog's role sees people's ids (pseudonyms without pii), with the deployment's secret."""
    from finlens_common.settings import pseudonym_secret
    from semantic.drill.privacy import privacy_for

    return privacy_for(catalog, pseudonym_secret())


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
