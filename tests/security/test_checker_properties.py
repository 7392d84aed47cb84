"""Property-based attacks on the expression checker (Hypothesis).

Random expression trees mix allowed and forbidden nodes; random strings add
whatever the grammar misses. The properties: the checker answers with a
``SnippetError`` or an expression, never anything else; and whatever it
accepts, printed for each of the seven dialects and parsed back, holds only
allowed things: known names, no subquery or table, no statement, no
placeholder, no aggregate or window, no denied function.
"""

from __future__ import annotations

import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from semantic.catalog.expression_guard import parse_user_filter
from semantic.catalog.expression_rules import is_denied
from semantic.catalog.expressions import SnippetError
from semantic.compiler.dialects import DIALECTS

NAMES = ("platform", "channel", "app_version", "business_line")
FORBIDDEN = tuple(
    getattr(exp, name)
    for name in (
        "Query",
        "Subquery",
        "Table",
        "Command",
        "DDL",
        "DML",
        "Drop",
        "Create",
        "Insert",
        "Update",
        "Delete",
        "Set",
        "Pragma",
        "Copy",
        "Placeholder",
        "Parameter",
        "Star",
        "Window",
        "AggFunc",
        "Lambda",
        "Struct",
        "Alias",
        "Attach",
        "Use",
    )
    if hasattr(exp, name)
)

text_values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
atoms = st.one_of(
    st.sampled_from(NAMES),
    st.sampled_from(("user_id", "users.user_id", "main.events.platform", '"platform"', '"plat""form"')),
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    text_values.map(lambda s: "'" + s.replace("'", "''") + "'"),
    text_values.map(lambda s: "e'" + s.replace("'", "\\'") + "'"),
    st.sampled_from(
        (
            "NULL",
            "TRUE",
            "$1",
            "?",
            ":x",
            "$$x$$",
            "(SELECT 1)",
            "(SELECT content FROM read_text('/etc/passwd'))",
            "*",
            "count(*)",
            "row_number() OVER ()",
            "x -> x",
            "{'a': 1}",
            "[1, 2]",
            "DATE '2026-01-01'",
        )
    ),
)
functions = st.sampled_from(
    (
        "lower",
        "upper",
        "coalesce",
        "length",
        "abs",
        "round",
        "trim",
        "read_text",
        "pg_read_file",
        "getenv",
        "current_setting",
        "file",
        "url",
        "set_config",
        "sleep",
        "glob",
        "chr",
        "md5",
    )
)
types = st.sampled_from(
    (
        "VARCHAR",
        "BIGINT",
        "DOUBLE",
        "DECIMAL(10, 2)",
        "DATE",
        '"varchar"',
        "main.varchar",
        '"main.varchar) IS NULL OR 1=1 OR CAST(platform AS main.varchar"',
        "INT[]",
        "STRUCT(a INT)",
    )
)


def _combine(children):
    binary = st.tuples(
        children,
        st.sampled_from(("=", "<>", "<", ">=", "+", "-", "*", "/", "%", "||", "AND", "OR", "LIKE", "ILIKE")),
        children,
    )
    return st.one_of(
        binary.map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        children.map(lambda c: f"NOT {c}"),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"{c} IS NULL"),
        st.tuples(children, st.lists(children, min_size=1, max_size=4)).map(lambda t: f"{t[0]} IN ({', '.join(t[1])})"),
        st.tuples(children, children, children).map(lambda t: f"{t[0]} BETWEEN {t[1]} AND {t[2]}"),
        st.tuples(functions, st.lists(children, min_size=1, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(children, types).map(lambda t: f"CAST({t[0]} AS {t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"CASE WHEN {t[0]} THEN {t[1]} ELSE {t[2]} END"),
        st.tuples(children, children).map(lambda t: f"{t[0]}; {t[1]}"),
        st.tuples(children, children).map(lambda t: f"{t[0]} -- {t[1]}"),
    )


expressions = st.recursive(atoms, _combine, max_leaves=12)


def read_back_is_clean(tree: exp.Expression, dialect: str) -> None:
    back = sqlglot.parse_one(tree.sql(dialect=dialect), read=dialect)
    for node in back.walk():
        assert not isinstance(node, FORBIDDEN), (dialect, tree.sql(), type(node).__name__)
        if isinstance(node, exp.Column):
            assert node.name in NAMES and not node.table, (dialect, tree.sql())
        if isinstance(node, exp.Anonymous):
            assert not is_denied(str(node.name)), (dialect, tree.sql())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions)
def test_accepted_trees_read_back_clean_in_every_dialect(text):
    try:
        tree = parse_user_filter(text, NAMES)
    except SnippetError as err:
        assert "\n" not in str(err)
        return
    for dialect in DIALECTS:
        read_back_is_clean(tree, dialect)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_any_string_is_an_expression_or_one_line(text):
    try:
        tree = parse_user_filter(text, NAMES)
    except SnippetError as err:
        assert "\n" not in str(err)
        return
    for dialect in DIALECTS:
        read_back_is_clean(tree, dialect)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["(", ")", "NOT ", "-", "platform", " = ", "'x'", " AND ", " OR ", ",", "lower"]), max_size=400
    )
)
def test_token_soup_never_escapes_as_another_error(parts):
    try:
        parse_user_filter("".join(parts), NAMES)
    except SnippetError:
        pass
