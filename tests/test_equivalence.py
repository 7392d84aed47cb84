"""One suite, every warehouse: each catalog metric gives the same numbers on DuckDB, PostgreSQL and chdb.

The same demo data (same seed) is loaded into a DuckDB file, a throwaway PostgreSQL
server and a chdb folder; every metric of the catalog is asked with a breakdown and
a grain (funnels and retentions with a breakdown only), and each engine's rows must
equal DuckDB's: same groups, integers equal, floats within 1e-9 relative. DuckDB's
numbers are themselves pinned against hand-written SQL in test_catalog_oracles.py.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pytest

from connectors import connect
from ingest.demo import generate_demo
from semantic import Query, load_catalog, run_query

END = date(2026, 10, 31)
DEMO = dict(users=1500, days=45, seed=11, end=END)
RANGE = dict(start=date(2026, 10, 1), end=END)
ENGINES = ("postgres", "chdb")
CATALOG = load_catalog()


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory, postgres_server):
    """name → open warehouse, each loaded with the same demo data."""
    folder = tmp_path_factory.mktemp("equivalence")
    server = postgres_server
    chdb_dir = Path(tempfile.mkdtemp(prefix="finlens-chdb-"))
    urls = {"duckdb": f"duckdb:///{folder}/demo.duckdb", "postgres": server.url, "chdb": f"chdb:///{chdb_dir}"}
    opened = {}
    try:
        for url in urls.values():
            with connect(url, read_only=False) as loader:
                generate_demo(loader, **DEMO)
        for name, url in urls.items():
            opened[name] = connect(server.reader(url) if name == "postgres" else url)
        yield opened
    finally:
        for warehouse in opened.values():
            warehouse.close()
        shutil.rmtree(chdb_dir, ignore_errors=True)


def queries_for(name: str) -> list[Query]:
    metric = CATALOG.metrics[name]
    if metric.type in ("funnel", "retention", "ltv"):
        return [Query(metrics=(name,), **RANGE), Query(metrics=(name,), dimensions=("platform",), **RANGE)]
    return [
        Query(
            metrics=(name,), dimensions=("platform",), grain="week" if metric.type == "stickiness" else "day", **RANGE
        ),
        Query(
            metrics=(name,),
            dimensions=("register_channel",),
            grain="week",
            where="platform IN ('iOS', 'Android')",
            **RANGE,
        ),
    ]


def _key(row: dict) -> tuple:
    return tuple((value is None, str(value)) for value in row.values())


def assert_same_rows(got: list[dict], expected: list[dict], context: str) -> None:
    assert len(got) == len(expected), f"{context}: {len(got)} rows, DuckDB has {len(expected)}"
    keys = [k for k in expected[0]] if expected else []
    for g, e in zip(sorted(got, key=_key_of(keys)), sorted(expected, key=_key_of(keys))):
        for column in keys:
            a, b = g[column], e[column]
            if isinstance(b, float) or isinstance(a, float):
                assert a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (
                    f"{context}: {column} {a!r} != {b!r} in {e}"
                )
            else:
                assert a == b, f"{context}: {column} {a!r} != {b!r} in {e}"


def _key_of(keys: list[str]):
    """Sort by the non-measure columns so engines' collations do not matter."""

    def key(row: dict) -> tuple:
        return tuple((row[k] is None, str(row[k])) for k in keys if not isinstance(row[k], float))

    return key


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("metric", sorted(CATALOG.metrics))
def test_same_numbers_as_duckdb(warehouses, metric, engine):
    for query in queries_for(metric):
        expected = run_query(CATALOG, query, warehouses["duckdb"]).rows
        got = run_query(CATALOG, query, warehouses[engine]).rows
        assert expected, f"{metric}: no rows on DuckDB; the comparison would prove nothing"
        assert_same_rows(got, expected, f"{metric} on {engine} ({query.dimensions}, {query.grain})")
