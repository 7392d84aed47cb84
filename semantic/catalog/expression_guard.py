"""One allow-list checker for every SQL expression a person writes.

Filters typed at the CLI or in the app, segment filters, metric, dimension and
model snippets in YAML: each is parsed here, with bounded size and nesting,
and accepted only if every node of its tree is one this module lists. The
check runs on the tree, but what reaches a warehouse is text printed from the
tree by sqlglot's generators; a generator that prints something raw (an
unknown type name, an escape string a dialect lacks) would splice text the
check never saw. So an accepted tree is also printed for every target dialect
and parsed back, and a tree that reads back differently is refused.

The module never raises anything but :class:`~semantic.catalog.expressions.SnippetError`
(one line, ready for a ``file:line:`` prefix), whatever the input.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError, TokenError
from sqlglot.tokens import TokenType

from semantic.catalog.expression_rules import (
    BOOLEAN_ROOTS,
    CAST_TYPES,
    JSON_KEY,
    MAX_IN_ITEMS,
    MAX_LENGTH,
    MAX_NESTING,
    MAX_PREFIX_RUN,
    STATEMENTS,
    STRUCTURE,
    TARGET_DIALECTS,
    TIME_UNITS,
    YAML_FUNCTIONS,
    Allowed,
    class_names,
    classes_named,
    function_names,
    is_denied,
)
from semantic.catalog.expressions import SOURCE_DIALECT, SnippetError, did_you_mean


def parse_checked(text: object, allowed: Allowed) -> exp.Expr:
    """Parse ``text`` (DuckDB's dialect) and accept it only if it passes every check.

    Raises:
        SnippetError: one line saying what is wrong and where in the text.
    """
    source = _bounded_text(text, allowed.what)
    _check_tokens(source, allowed.what)
    try:
        statements = sqlglot.parse(source, read=SOURCE_DIALECT)
    except (ParseError, TokenError) as err:
        raise SnippetError(f"{allowed.what} is not valid SQL: {_parse_message(err)}") from None
    except Exception as err:  # noqa: BLE001 - sqlglot's parser fails in other ways on odd text ({:1})
        raise SnippetError(f"{allowed.what} is not valid SQL ({type(err).__name__})") from None
    if len(statements) != 1 or statements[0] is None:
        raise SnippetError(f"{allowed.what} must be a single expression, found {len(statements)} statements")
    tree = statements[0]
    if isinstance(tree, STATEMENTS):
        raise SnippetError(f"{allowed.what} must be an expression, not a {tree.key.upper()} statement")
    check_tree(tree, allowed)
    for node in tree.walk():  # comments mean nothing in a condition, and are printed as raw text
        node.comments = None
    verify_round_trip(tree, allowed.what)
    return tree


def check_tree(tree: exp.Expr, allowed: Allowed) -> None:
    """Refuse any node outside the allow-list, any unknown name, any function not allowed."""
    if allowed.boolean and not isinstance(tree.unnest(), BOOLEAN_ROOTS):
        raise SnippetError(
            f"{allowed.what} {_short(tree)} is not a boolean expression (use comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL)"
        )
    for node in _nodes(tree):
        _check_node(node, allowed)


def _check_node(node: exp.Expr, allowed: Allowed) -> None:
    what = allowed.what
    if isinstance(node, exp.Column):
        if node.table or node.args.get("db") or node.args.get("catalog"):
            raise SnippetError(f"{what}: write {_short(node)} as a {allowed.name_kind} name without a table")
        if not isinstance(node.this, exp.Identifier):
            raise SnippetError(f"{what}: {_short(node)} is not a {allowed.name_kind} name")
        if allowed.names is not None and node.name not in allowed.names:
            raise SnippetError(
                f"{what}: unknown {allowed.name_kind} {node.name!r}{did_you_mean(node.name, allowed.names)}"
            )
        return
    if isinstance(node, exp.Literal):
        if node.is_string and any(ord(ch) < 32 and ch not in "\t\n\r" for ch in node.this):
            raise SnippetError(f"{what}: a text value holds a control character")
        if not node.is_string and not _finite_number(str(node.this)):
            raise SnippetError(f"{what}: {str(node.this)[:30]!r} is not a number every warehouse reads the same")
        return
    if isinstance(node, (exp.JSONExtract, exp.JSONExtractScalar)):
        _check_json_path(node.expression, what)
    if isinstance(node, exp.Is) and not isinstance(node.expression, (exp.Null, exp.Boolean)):
        raise SnippetError(f"{what}: IS compares with NULL, TRUE or FALSE only; write = for a value")
    if (
        isinstance(node, (exp.Like, exp.ILike))
        and isinstance(node.expression, exp.Literal)
        and "\\" in str(node.expression.this)
    ):
        raise SnippetError(f"{what}: a LIKE pattern may not hold a backslash (warehouses disagree on what it escapes)")
    if isinstance(node, exp.DataType):
        if node.this not in CAST_TYPES or node.args.get("kind") or node.args.get("nested") or node.args.get("values"):
            raise SnippetError(
                f"{what}: CAST to {_short(node)} is not allowed; cast to a built-in type such as VARCHAR, BIGINT, DOUBLE, DECIMAL(p, s), BOOLEAN, DATE or TIMESTAMP"
            )
        return
    if isinstance(node, exp.DataTypeParam):
        if not isinstance(node.this, exp.Literal) or node.this.is_string or node.args.get("expression"):
            raise SnippetError(f"{what}: a type's parameters must be plain numbers")
        return
    if isinstance(node, exp.In):
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise SnippetError(f"{what} may not contain a subquery")
        if len(node.expressions) > MAX_IN_ITEMS:
            raise SnippetError(f"{what}: an IN list holds {len(node.expressions)} values; at most {MAX_IN_ITEMS}")
        return
    if isinstance(node, (exp.Like, exp.ILike)) and node.args.get("escape"):
        raise SnippetError(f"{what}: LIKE ... ESCAPE is not supported")
    if isinstance(node, exp.JSONPathSubscript) and not isinstance(node.this, int):
        raise SnippetError(f"{what}: a JSON path index must be a number")
    if isinstance(node, exp.Var) and node.arg_key == "unit" and str(node.this).upper() in TIME_UNITS:
        return  # the unit of a date function a project allowed (DATE_TRUNC('month', ...))
    if type(node) in STRUCTURE:
        return
    if isinstance(node, exp.Func) and not isinstance(node, (exp.AggFunc, exp.Window)):
        _check_function(node, allowed)
        return
    raise SnippetError(f"{what} may not contain {_describe(node)}")


def _finite_number(text: str) -> bool:
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        return False
    return math.isfinite(value) and len(text) <= 40


def _check_json_path(path: object, what: str) -> None:
    """``properties ->> '$.key'``: a path from the root through plain keys and whole-number indexes only.

    Other spellings (``'/a/b'`` JSON pointers, quoted keys, wildcards) mean different things on different warehouses.
    """
    parts = path.expressions if isinstance(path, exp.JSONPath) else []
    if (
        not parts
        or not isinstance(parts[0], exp.JSONPathRoot)
        or not all(
            (isinstance(p, exp.JSONPathKey) and isinstance(p.this, str) and JSON_KEY.match(p.this))
            or (isinstance(p, exp.JSONPathSubscript) and isinstance(p.this, int))
            for p in parts[1:]
        )
    ):
        raise SnippetError(f"{what}: a JSON path must be written '$.key' (plain keys, [n] indexes)")


def _check_function(node: exp.Func, allowed: Allowed) -> None:
    names = function_names(node)
    denied = next((n for n in names if is_denied(n)), None)
    if denied is not None:
        raise SnippetError(
            f"{allowed.what} may not call {denied.upper()}: it reaches outside the question (files, network, settings or system tables)"
        )
    if type(node) in allowed.functions and not isinstance(node, exp.Anonymous):
        return
    if any(n in allowed.extra_functions for n in names):
        return
    if any(type(node) in classes_named(name) for name in allowed.extra_functions):
        return
    # class objects are hashable; mypy does not see it for a type[...] value (python/mypy#11470)
    listed = sorted({n for cls in allowed.functions for n in class_names(cls)} | set(allowed.extra_functions))  # type: ignore[arg-type]
    raise SnippetError(f"{allowed.what} may not call function {names[0].upper()}; allowed: {', '.join(listed)}")


def verify_round_trip(tree: exp.Expr, what: str, dialects: Iterable[str] = TARGET_DIALECTS) -> None:
    """Print ``tree`` for each dialect, parse it back, and refuse it if it reads back differently.

    The comparison is on what decides the meaning and survives translation between dialects: the
    names read, the literal values, the logical connectives and comparisons; the read-back tree must
    also hold nothing a checked tree cannot (subqueries, tables, commands, denied functions).
    """
    key = tree.sql(dialect=SOURCE_DIALECT)
    for dialect in dialects:
        problem = _round_trip_problem(key, dialect)
        if problem:
            raise SnippetError(f"{what}: {problem}")


@lru_cache(maxsize=8192)
def _round_trip_problem(source_sql: str, dialect: str) -> str | None:
    """Why ``source_sql`` (already checked, printed in DuckDB's dialect) does not survive ``dialect``; None if it does."""
    try:
        tree = sqlglot.parse_one(source_sql, read=SOURCE_DIALECT)
        printed = tree.sql(dialect=dialect)
        back = sqlglot.parse_one(printed, read=dialect)
    except Exception as err:  # noqa: BLE001 - any failure to print or read back is a refusal
        return f"cannot be written for {dialect} ({type(err).__name__})"
    for node in _nodes(back):
        if isinstance(
            node,
            (
                exp.Query,
                exp.Subquery,
                exp.Table,
                exp.Command,
                exp.DDL,
                exp.DML,
                exp.Set,
                exp.Placeholder,
                exp.Parameter,
                exp.Alias,
                exp.Star,
            ),
        ):
            return f"reads back for {dialect} with {_describe(node)}: refused"
        if isinstance(node, exp.Func):
            denied = next((n for n in function_names(node) if is_denied(n)), None)
            if denied is not None:
                return f"reads back for {dialect} calling {denied.upper()}: refused"
    if _signature(tree) != _signature(back):
        return f"does not read back as written when printed for {dialect}: refused"
    return None


def _signature(tree: exp.Expr) -> Counter[tuple[str, str]]:
    """What must be the same after translation: names, literal values, connectives and comparisons."""
    found: Counter[tuple[str, str]] = Counter()
    for node in _nodes(tree):
        if isinstance(node, exp.Column):
            found["name", node.name] += 1
        elif isinstance(node, exp.Literal) and not isinstance(node.parent, exp.DataTypeParam):
            found["text" if node.is_string else "number", str(node.this)] += 1
        elif isinstance(node, exp.Var):
            found["text", str(node.this).upper()] += 1
        elif isinstance(node, exp.JSONPathKey):
            found["text", str(node.this)] += 1
        elif isinstance(node, exp.JSONPath) and not any(isinstance(p, exp.JSONPathKey) for p in node.expressions):
            found["text", node.sql()] += 1
        elif isinstance(node, (exp.And, exp.Or, exp.Not)):
            found["logic", node.key] += 1
        elif isinstance(node, exp.Predicate) and not isinstance(node, (exp.Like, exp.ILike)):
            found["compare", node.key] += 1
        elif isinstance(node, (exp.Like, exp.ILike)):
            found["compare", "like"] += 1
        elif isinstance(node, (exp.Boolean, exp.Null)):
            found["constant", node.sql()] += 1
    return found


def _nodes(tree: exp.Expr) -> Iterator[exp.Expr]:
    """Every node, iteratively (deep trees must not exhaust the stack)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for value in node.args.values():
            if isinstance(value, exp.Expression):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, exp.Expression))


def _bounded_text(text: object, what: str) -> str:
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise SnippetError(f"{what} must be a SQL expression string, not {type(text).__name__}")
    if isinstance(text, int) and text.bit_length() > 63 or isinstance(text, float) and not math.isfinite(text):
        raise SnippetError(f"{what} is a number no warehouse column holds")
    source = str(text).strip()
    if not source:
        raise SnippetError(f"{what} is empty")
    if len(source) > MAX_LENGTH:
        raise SnippetError(f"{what} is {len(source):,} characters long; at most {MAX_LENGTH:,}")
    if "\x00" in source:
        raise SnippetError(f"{what} holds a NUL character")
    return source


def _check_tokens(source: str, what: str) -> None:
    """Refuse nesting the parser would recurse on, before parsing: parentheses and runs of prefix operators."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(SOURCE_DIALECT).tokenize(source)
    except (TokenError, RecursionError, ValueError) as err:
        raise SnippetError(
            f"{what} is not valid SQL: {str(err).splitlines()[0] if str(err) else type(err).__name__}"
        ) from None
    depth = deepest = run = longest = 0
    previous = None
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.IDENTIFIER and previous in (TokenType.ALIAS, TokenType.DCOLON):
            raise SnippetError(
                f"{what}: a quoted type name ({token.text[:30]!r}) is not allowed; write a built-in type such as VARCHAR"
            )
        called = index + 1 < len(tokens) and tokens[index + 1].token_type == TokenType.L_PAREN
        if called and token.token_type != TokenType.IDENTIFIER and is_denied(token.text):
            raise SnippetError(
                f"{what} may not call {token.text.upper()}: it reaches outside the question (files, network, settings or system tables)"
            )
        previous = token.token_type
        if token.token_type == TokenType.L_PAREN:
            depth += 1
            deepest = max(deepest, depth)
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        if token.token_type in (TokenType.NOT, TokenType.DASH, TokenType.PLUS, TokenType.TILDE):
            run += 1
            longest = max(longest, run)
        else:
            run = 0
    if deepest > MAX_NESTING:
        raise SnippetError(f"{what} nests parentheses {deepest} deep; at most {MAX_NESTING}")
    if longest > MAX_PREFIX_RUN:
        raise SnippetError(f"{what} has {longest} NOT or sign operators in a row; at most {MAX_PREFIX_RUN}")


def _parse_message(err: Exception) -> str:
    errors = getattr(err, "errors", None)
    if errors:
        first = errors[0]
        description = str(first.get("description", ""))
        if description.startswith("Required keyword"):
            description = "incomplete expression"
        return f"{description} near {first.get('highlight', '')!r}".strip()
    return (str(err).splitlines() or [type(err).__name__])[0]


def _short(node: exp.Expr) -> str:
    try:
        text = node.sql(dialect=SOURCE_DIALECT)
    except (SqlglotError, RecursionError, ValueError):
        text = node.key
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _describe(node: exp.Expr) -> str:
    if isinstance(node, (exp.Subquery, exp.Select, exp.Exists, exp.Query)):
        return "a subquery"
    if isinstance(node, exp.Window):
        return "a window function"
    if isinstance(node, exp.AggFunc):
        return f"an aggregate ({node.sql(dialect=SOURCE_DIALECT)})"
    if isinstance(node, exp.Star):
        return "*"
    if isinstance(node, exp.Table):
        return "a table"
    if isinstance(node, (exp.Placeholder, exp.Parameter)):
        return "a parameter placeholder"
    if isinstance(node, (exp.ByteString, exp.RawString, exp.National, exp.HexString, exp.BitString, exp.UnicodeString)):
        return f"a {node.key} literal (write a plain 'text' value)"
    return f"{node.key.upper()} ({_short(node)})"


def parse_user_filter(text: object, names: Iterable[str], what: str = "filter") -> exp.Expr:
    """A filter a person typed (``--where``, the app, a segment): a condition over ``names``.

    Raises:
        SnippetError: for statements, subqueries, unknown names, functions outside
            :data:`USER_FUNCTIONS`, and anything that is not a condition.
    """
    return parse_checked(text, Allowed(names=frozenset(names), what=what, boolean=True))


def parse_yaml_snippet(
    text: object, names: Iterable[str] | None, what: str, extra_functions: frozenset[str] = frozenset()
) -> exp.Expr:
    """An analyst's snippet in YAML: row-level SQL over ``names`` (None: any plain name, checked by the caller)."""
    allowed = Allowed(
        names=frozenset(names) if names is not None else None,
        functions=YAML_FUNCTIONS,
        extra_functions=extra_functions,
        what=what,
        name_kind="column",
    )
    return parse_checked(text, allowed)
