"""Who sees what: roles, their row filters per model, pages, personal data and exports (``metrics/access.yml``).

Access policies are code, reviewed like the metrics. A role's ``rows`` filter
per model is checked like a ``--where`` (the model's own dimensions, the one
expression checker); the compiler applies it wherever the model's rows are read
(:mod:`semantic.compiler.reader`). An identity gets its role from ``members``
(exact, case-insensitive), else from the first of its groups that ``groups``
maps (in the file's order), else ``default_role``; no role means nothing is
visible. Without ``access.yml`` there is no access control: everyone is an
administrator (the embedded demo).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlglot import exp

from finlens_common.errors import CatalogError, CatalogProblem
from semantic.catalog.access_specs import AccessSpec, Role
from semantic.catalog.catalog import Catalog
from semantic.catalog.expression_guard import parse_user_filter
from semantic.catalog.expressions import SnippetError, did_you_mean, qualify, replace_columns
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.loader import display_path, read_yaml_file
from semantic.catalog.specs import Dimension, Label, Source
from semantic.catalog.yaml_lines import LineList, LineMap

ACCESS_FILE = "access.yml"
ROLE_KEYS = ("label", "rows", "pages", "pii", "export")
TOP_KEYS = ("roles", "members", "groups", "default_role")


def access_problems(catalog: Catalog, root: str | Path | None = None) -> tuple[AccessSpec | None, list[CatalogProblem]]:
    """The access spec under ``root`` (default: the catalog's folder), None when there is no ``access.yml``, and every problem."""
    folder = Path(root if root is not None else catalog.root or ".")
    path = folder / ACCESS_FILE
    problems = Problems(catalog.allowed_functions)
    if not path.is_file():
        return None, []
    file = display_path(path, folder)
    doc = read_yaml_file(path, file, problems)
    spec = _parse(catalog, file, doc, problems) if doc is not None else None
    return (spec if not problems.items else None), problems.items


def load_access(catalog: Catalog, root: str | Path | None = None) -> AccessSpec | None:
    """The checked access spec, or None when the project has none.

    Raises:
        CatalogError: every problem in ``access.yml`` as ``file:line: message``.
    """
    spec, problems = access_problems(catalog, root)
    if problems:
        raise CatalogError(problems)
    return spec


def _parse(catalog: Catalog, file: str, doc: LineMap, problems: Problems) -> AccessSpec | None:
    top = Fields(doc, file, problems, "access", TOP_KEYS)
    roles: dict[str, Role] = {}
    for name, item in (top.mapping_at("roles") or {}).items():
        role = _role(catalog, file, str(name), item, top.mapping_at("roles"), problems)  # type: ignore[arg-type]
        if role is not None:
            roles[role.name] = role
    members = _assignments(top, "members", roles)
    groups = tuple(_assignments(top, "groups", roles).items())
    default = doc.get("default_role")
    if default is not None and default not in roles:
        top.error("default_role", f"access: default_role {default!r} is not a role{did_you_mean(str(default), roles)}")
        default = None
    return AccessSpec(roles=roles, members=members, groups=groups, default_role=default, file=file)


def _role(catalog: Catalog, file: str, name: str, item: object, parent: LineMap, problems: Problems) -> Role | None:
    if not isinstance(item, LineMap):
        problems.add(file, parent.line_of(name), f"access: role {name!r} must be a mapping")
        return None
    fields = Fields(item, file, problems, f"role {name!r}", ROLE_KEYS)
    label = fields.label() if fields.has("label") else Label(zh=name, en=name)
    rows = _rows(catalog, fields)
    pages = fields.list_at("pages", required=False)
    flags = {key: item.get(key, False) for key in ("pii", "export")}  # least privilege unless granted
    for key, value in flags.items():
        if not isinstance(value, bool):
            fields.error(key, f"role {name!r}: {key!r} must be true or false")
    if pages is not None and not all(isinstance(p, str) and p for p in pages):
        fields.error("pages", f"role {name!r}: 'pages' must be a list of page names")
        pages = None
    return Role(
        name=name,
        label=label,
        rows=rows,
        pages=tuple(pages) if pages is not None else None,
        pii=flags["pii"] is True,
        export=flags["export"] is True,
        source=Source(file, item.line),
    )


def _rows(catalog: Catalog, fields: Fields) -> dict[str, exp.Expr]:
    """``rows: {model: condition}``: each checked over the model's own dimensions and columns, dimensions expanded."""
    mapping = fields.mapping_at("rows", required=False)
    rows: dict[str, exp.Expr] = {}
    for model_name, text in (mapping or {}).items():
        line = mapping.line_of(str(model_name)) if mapping is not None else fields.line()
        model = catalog.models.get(str(model_name))
        if model is None:
            fields.problems.add(
                fields.file,
                line,
                f"{fields.what}: rows: unknown model {model_name!r}{did_you_mean(str(model_name), catalog.models)}",
            )
            continue
        own = {d.name: d for d in catalog.dimensions.values() if d.model == model.name}
        try:
            condition = parse_user_filter(text, [*own, *model.columns], f"{fields.what}: rows: {model_name}")
        except SnippetError as err:
            fields.problems.add(fields.file, line, str(err))
            continue
        rows[model.name] = replace_columns(condition, _expand(own, model.name))
    return rows


def _expand(own: dict[str, Dimension], model: str) -> Callable[[exp.Column], exp.Expr]:
    """A column of a role's filter → the dimension's expression, or the model's column, qualified by the model."""

    def resolve(column: exp.Column) -> exp.Expr:
        if column.name in own:
            expression = qualify(own[column.name].expr, model)
            return expression if isinstance(expression, exp.Column) else exp.paren(expression, copy=False)
        return exp.column(column.name, table=model)

    return resolve


def _assignments(top: Fields, key: str, roles: dict[str, Role]) -> dict[str, str]:
    """``members`` / ``groups``: a name (lower case) → a role that exists."""
    mapping = top.mapping_at(key, required=False)
    out: dict[str, str] = {}
    for name, role in (mapping or {}).items():
        line = mapping.line_of(str(name)) if mapping is not None else top.line()
        if not isinstance(role, str) or role not in roles:
            top.problems.add(
                top.file, line, f"access: {key}: {name!r} → {role!r} is not a role{did_you_mean(str(role), roles)}"
            )
            continue
        out[str(name).strip().lower()] = role
    if isinstance(mapping, LineList):
        top.error(key, f"access: {key!r} must be a mapping of names to roles")
    return out
