"""Access policies as typed specs: a role's row filters, pages, personal data and exports; who gets which role.

Read from ``metrics/access.yml`` by :mod:`semantic.catalog.access`; a catalog restricted to a role
(:meth:`semantic.catalog.catalog.Catalog.for_role`) carries its :class:`Role`, and the compiler applies
the role's row filters wherever a model's rows are read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlglot import exp

from semantic.catalog.specs import Label, Source


@dataclass(frozen=True)
class Role:
    """What one role may see and do.

    ``rows`` holds, per model, the condition its rows must meet, over the model's columns (dimensions
    expanded); ``pages`` None means every page; ``pii`` False shows user ids as pseudonyms and masks
    identifying properties; ``export`` False refuses files of user ids.
    """

    name: str
    label: Label
    rows: dict[str, exp.Expr]
    pages: tuple[str, ...] | None
    pii: bool
    export: bool
    source: Source


ADMIN = Role(
    name="admin",
    label=Label(zh="管理员", en="Administrator"),
    rows={},
    pages=None,
    pii=True,
    export=True,
    source=Source("(no access.yml)", 0),
)


@dataclass(frozen=True)
class AccessSpec:
    """``metrics/access.yml``: the roles, and which identity or group gets which role."""

    roles: dict[str, Role]
    members: dict[str, str]
    groups: tuple[tuple[str, str], ...]
    default_role: str | None
    file: str

    def role_for(self, identity: str, groups: Iterable[str] = ()) -> Role | None:
        """The role of ``identity`` (members first, then its groups in this file's order, then the default)."""
        name = self.members.get(identity.strip().lower())
        if name is None:
            held = {g.strip().lower() for g in groups}
            name = next((role for group, role in self.groups if group in held), self.default_role)
        return self.roles.get(name) if name else None
