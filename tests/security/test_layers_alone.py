"""Each layer behind the expression checker, tested as if the checker had let the attack through.

Defence in depth means one layer's bug is caught by the next: the connectors run
one statement per call, and the warehouses' read-only sessions reach neither
files nor settings, and cannot write. Here the SQL goes straight to them.
"""

from __future__ import annotations

import psycopg
import pytest

import semantic.catalog.expression_guard as guard
from connectors import connect
from connectors.clickhouse_common import check_single_statement
from finlens_common.errors import QueryError, WarehouseError
from semantic import Query, compile_query, load_catalog, run_query
from tests.security.conftest import ENGINES
from tests.security.hostile import FILTERS, checksum, table_names

DIALECT = {"duckdb": "duckdb", "postgres": "postgres", "chdb": "clickhouse"}
STACKED = {
    "duckdb": "SELECT 1; COPY (SELECT * FROM users) TO '{out}'",
    "postgres": "SELECT 1; COMMIT; BEGIN READ WRITE; CREATE TABLE pwned AS SELECT * FROM users; COMMIT",
    "chdb": "SELECT 1; CREATE TABLE pwned ENGINE = Memory AS SELECT * FROM users",
}
FILE_READS = {
    "duckdb": [
        "SELECT content FROM read_text('{canary}')",
        "SELECT * FROM read_csv('{canary}')",
        "SELECT * FROM glob('/root/*')",
    ],
    "postgres": ["SELECT pg_read_file('{canary}')", "SELECT pg_ls_dir('.')"],
    "chdb": ["SELECT * FROM file('{canary}', 'LineAsString')", "SELECT * FROM url('http://127.0.0.1:9/x', 'CSV')"],
}
WRITES = {
    "duckdb": [
        "COPY (SELECT * FROM users) TO '{out}'",
        "ATTACH '{out}' AS other",
        "CREATE TABLE pwned AS SELECT 1",
        "SET enable_external_access = true",
        "INSTALL httpfs",
        "INSERT INTO users (user_id) VALUES ('x')",
    ],
    "postgres": [
        "CREATE TABLE pwned AS SELECT 1",
        "INSERT INTO users (user_id) VALUES ('x')",
        "SELECT lo_export(lo_from_bytea(0, 'x'), '{out}')",
    ],
    "chdb": [
        "CREATE TABLE pwned ENGINE = Memory AS SELECT 1",
        "INSERT INTO users (user_id) VALUES ('x')",
        "SET readonly = 0",
        "SELECT 1 SETTINGS join_use_nulls = 0",
    ],
}


@pytest.fixture()
def warehouse(request, engine_urls):
    opened = connect(engine_urls[request.param][0])
    yield opened
    opened.close()


@pytest.mark.parametrize("warehouse", ENGINES, indirect=True)
def test_a_second_statement_never_runs(warehouse, engine_urls, scene):
    engine = next(e for e in ENGINES if DIALECT[e] == warehouse.dialect and engine_urls[e][0] == warehouse.url)
    before = checksum(warehouse)
    with pytest.raises(WarehouseError) as refused:
        warehouse.query(scene.fill(STACKED[engine]))
    assert "\n" not in str(refused.value)
    assert checksum(warehouse) == before and "pwned" not in table_names(warehouse)
    scene.assert_untouched(str(refused.value))


@pytest.mark.parametrize("warehouse", ENGINES, indirect=True)
def test_read_only_sessions_reach_no_file(warehouse, engine_urls, scene):
    engine = next(e for e in ENGINES if engine_urls[e][0] == warehouse.url)
    for sql in FILE_READS[engine]:
        with pytest.raises(WarehouseError) as refused:
            warehouse.query(scene.fill(sql))
        scene.assert_untouched(str(refused.value))


@pytest.mark.parametrize("warehouse", ENGINES, indirect=True)
def test_read_only_sessions_write_nothing_and_change_no_setting(warehouse, engine_urls, scene):
    engine = next(e for e in ENGINES if engine_urls[e][0] == warehouse.url)
    before = checksum(warehouse)
    for sql in WRITES[engine]:
        with pytest.raises(WarehouseError):
            warehouse.query(scene.fill(sql))
    assert checksum(warehouse) == before and "pwned" not in table_names(warehouse)
    scene.assert_untouched()


def test_the_postgres_role_cannot_write_even_through_a_raw_session(engine_urls, scene):
    """Past the connector (simple protocol, several statements): the SELECT-only role still cannot write or read files."""
    reader = engine_urls["postgres"][0]
    with psycopg.connect(reader, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("BEGIN READ WRITE; CREATE TABLE pwned AS SELECT * FROM users; COMMIT")
        conn.execute("ROLLBACK")
        conn.execute("SELECT set_config('default_transaction_read_only', 'off', false)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO users (user_id) VALUES ('pwned')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"SELECT pg_read_file('{scene.canary}')")
    with connect(reader) as warehouse:
        assert "pwned" not in table_names(warehouse)
        assert [r[0] for r in warehouse.query("SELECT user_id FROM users ORDER BY 1").rows] == ["u1", "u2"]


def test_the_clickhouse_splitter_sees_through_strings():
    check_single_statement("SELECT 'a; b' AS x;", "test")  # one statement, a trailing separator
    with pytest.raises(WarehouseError, match="more than one statement"):
        check_single_statement("SELECT 'a'; SELECT 'b'", "test")


@pytest.fixture()
def checker_switched_off(monkeypatch):
    """Simulate a checker bug: every expression is accepted unchecked."""
    monkeypatch.setattr(guard, "check_tree", lambda tree, allowed: None)
    monkeypatch.setattr(guard, "verify_round_trip", lambda tree, what, dialects=guard.TARGET_DIALECTS: None)
    monkeypatch.setattr(guard, "_check_tokens", lambda source, what: None)


# filters that name only known dimensions, so with the checker off they compile, and the payload that gets through
UNCHECKED = {
    "cast_type_splice_reads_a_file": "read_text(",
    "cast_type_splice_stacks_a_copy": "COPY (",
    "cast_type_splice_begins_read_write": "CREATE TABLE pwned",
    "cast_type_splice_globs_root": "glob(",
    "pg_read_file": "PG_READ_FILE(",
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(UNCHECKED))
def test_without_the_checker_the_warehouse_still_holds(checker_switched_off, engine_urls, scene, engine, name):
    catalog = load_catalog()
    query = Query(metrics=("pv",), where=scene.fill(FILTERS[name]))
    compiled = compile_query(catalog, query, DIALECT[engine])
    assert UNCHECKED[name].lower() in compiled.sql.lower()  # the attack reached the SQL text
    with connect(engine_urls[engine][0]) as warehouse:
        before = checksum(warehouse)
        with pytest.raises((WarehouseError, QueryError)) as caught:
            run_query(catalog, query, warehouse)
        assert checksum(warehouse) == before and "pwned" not in table_names(warehouse)
    scene.assert_untouched(str(caught.value))
