"""Compiled questions kept per catalog, so a warm page does not build the same SQL again on every rerun.

Compiling a query (resolving names, building the sqlglot tree, writing SQL) costs a few milliseconds,
and a board asks a dozen: most of a warm rerun's work before this memo. A compiled query depends only on
the catalog object, the :class:`~semantic.Query` (a frozen, hashable value) and the dialect, so it is
kept on those. Each catalog object (one per version of the YAML files, or per role) has its own memo,
dropped with the catalog; an identity check guards against a reused ``id``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from semantic import Catalog, CompiledQuery, Query, compile_query

T = TypeVar("T")
MAX_PER_CATALOG = 4000  # distinct questions kept per catalog (a few MB at most)
MAX_CATALOGS = 8
_MEMOS: OrderedDict[int, tuple[Catalog, OrderedDict[Hashable, Any]]] = OrderedDict()
_LOCK = threading.Lock()


def compiled(catalog: Catalog, query: Query, dialect: str) -> CompiledQuery:
    """``compile_query(catalog, query, dialect)``, computed once per catalog object and question."""
    return per_catalog(catalog, (query, dialect), lambda: compile_query(catalog, query, dialect))


def per_catalog(catalog: Catalog, key: Hashable, build: Callable[[], T]) -> T:
    """``build()`` once per catalog object and ``key`` (the SQL of a question that depends on nothing else).

    The result is shared: it must be immutable (strings, frozen values), never a tree a caller changes.
    """
    try:
        hash(key)
    except TypeError:  # a question holding an unhashable part is built each time
        return build()
    with _LOCK:
        held = _MEMOS.get(id(catalog))
        memo = held[1] if held is not None and held[0] is catalog else None
        if memo is not None and key in memo:
            memo.move_to_end(key)
            return memo[key]
    result = build()  # errors are raised, never kept
    with _LOCK:
        held = _MEMOS.get(id(catalog))
        if held is None or held[0] is not catalog:
            held = (catalog, OrderedDict())
            _MEMOS[id(catalog)] = held
        _MEMOS.move_to_end(id(catalog))
        held[1][key] = result
        while len(held[1]) > MAX_PER_CATALOG:
            held[1].popitem(last=False)
        while len(_MEMOS) > MAX_CATALOGS:
            _MEMOS.popitem(last=False)
    return result
