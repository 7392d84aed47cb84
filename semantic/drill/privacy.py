"""Personal data for roles without ``pii``: user ids as stable pseudonyms, identifying properties masked.

A pseudonym is a keyed hash of the id (HMAC-SHA256 with the deployment's
secret, ``FINLENS_PSEUDONYM_SECRET``): the same user always gets the same
pseudonym, so lists, sequences and exports still line up, but nobody without
the secret can go back to the id, and a real id typed into a search finds
nothing. Identifying properties are declared per model in YAML (``pii:``)
and replaced by ``***``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from finlens_common.errors import QueryError
from semantic.catalog.catalog import Catalog
from semantic.drill.lookup import UserEvents
from semantic.drill.users import UserList

MASK = "***"
PREFIX = "p_"
MIN_SECRET = 16  # characters


def pseudonym(user_id: object, secret: str) -> str:
    """The stable pseudonym of ``user_id`` under ``secret``.

    >>> pseudonym("u1", "a secret of sixteen+") == pseudonym("u1", "a secret of sixteen+")
    True
    """
    digest = hmac.new(secret.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:16]


@dataclass(frozen=True)
class Privacy:
    """How one role's results show people: ids as pseudonyms, identifying columns and properties masked."""

    secret: str
    identity_columns: frozenset[str]
    masked_columns: frozenset[str]
    masked_properties: frozenset[str]

    def user_id(self, value: object) -> object:
        return None if value is None else pseudonym(value, self.secret)

    def row(self, row: dict[str, Any]) -> dict[str, Any]:
        out = dict(row)
        for column, value in row.items():
            if column in self.identity_columns:
                out[column] = self.user_id(value)
            elif column in self.masked_columns and value is not None:
                out[column] = MASK
            elif column == "properties" and isinstance(value, str):
                out[column] = self.properties(value)
        return out

    def properties(self, text: str) -> str:
        """A JSON object's identifying keys masked (anything that is not an object is left as it is)."""
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if not isinstance(data, dict):
            return text
        return json.dumps(
            {k: (MASK if k in self.masked_properties and v is not None else v) for k, v in data.items()},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def users(self, listing: UserList) -> UserList:
        return replace(listing, rows=[self.row(r) for r in listing.rows])

    def ids(self, ids: Iterable[object]) -> list[str]:
        return [str(self.user_id(i)) for i in ids]

    def events(self, events: UserEvents) -> UserEvents:
        return replace(events, rows=[self.row(r) for r in events.rows])

    def resolve(self, shown: str, candidates: Iterable[object]) -> str | None:
        """The real id behind pseudonym ``shown`` among ``candidates``; a real id typed in resolves to nothing."""
        if not shown.startswith(PREFIX):
            return None
        return next((str(c) for c in candidates if pseudonym(c, self.secret) == shown), None)


def privacy_for(catalog: Catalog, secret: str | None) -> Privacy | None:
    """The privacy rules of the catalog's role; None when the role may see personal data (or there is no role).

    Raises:
        QueryError: the role hides personal data but no secret of at least 16 characters is configured.
    """
    role = catalog.role
    if role is None or role.pii:
        return None
    if not secret or len(secret) < MIN_SECRET:
        raise QueryError(
            f"role {role.name!r} sees user ids as pseudonyms: set FINLENS_PSEUDONYM_SECRET to a random "
            f"string of at least {MIN_SECRET} characters"
        )
    identities = {"user_id", "distinct_id", *(m.entity for m in catalog.models.values())}
    columns = {c for m in catalog.models.values() for c in m.pii_columns}
    properties = {p for m in catalog.models.values() for p in m.pii_properties}
    return Privacy(
        secret=secret,
        identity_columns=frozenset(identities),
        masked_columns=frozenset(columns),
        masked_properties=frozenset(properties),
    )
