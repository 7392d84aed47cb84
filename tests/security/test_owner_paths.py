"""Queries answered by the process that owns an embedded warehouse hold like a reader's own sandbox.

While ``finlens collect`` owns the DuckDB file (or chdb folder), every other process's query runs in
the collector (``connectors/owner_server.py``) on a sealed instance: DuckDB inside a READ ONLY
transaction with external access off and settings locked, chdb on a ``readonly = 1`` session. The
same attacks as ``test_layers_alone.py`` go through it: a second statement, file reads, writes and
setting changes, and hostile filters with the expression checker switched off. Each is refused in
one line, the rows are unchanged, and the canary file leaks nowhere.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from connectors import connect
from connectors.owner_client import OwnedWarehouse
from finlens_common.errors import QueryError, WarehouseError
from semantic import Query, compile_query, load_catalog, run_query
from tests.app_helpers import clear_app_caches
from tests.collector_helpers import running_collector
from tests.security.conftest import EVENTS, USERS
from tests.security.hostile import FILTERS, checksum, table_names
from tests.security.test_layers_alone import (  # noqa: F401
    DIALECT,
    FILE_READS,
    STACKED,
    UNCHECKED,
    WRITES,
    checker_switched_off,
)
from tests.warehouse_fixtures import load

OWNED = ("duckdb", "chdb")


@pytest.fixture(scope="module", params=OWNED)
def owned(request, tmp_path_factory):
    """engine, URL of a small warehouse owned by a running collector."""
    clear_app_caches()  # set up before each test's own clearing: an earlier AppTest's chdb folder must be let go
    folder = tmp_path_factory.mktemp(f"owned-{request.param}")
    chdb_dir = Path(tempfile.mkdtemp(prefix="finlens-owned-chdb-"))
    url = f"duckdb:///{(folder / 'owned.duckdb').as_posix()}" if request.param == "duckdb" else f"chdb:///{chdb_dir}"
    with connect(url, read_only=False) as warehouse:
        load(warehouse, EVENTS, USERS)
    with running_collector(url, folder / "spool"):
        yield request.param, url
    shutil.rmtree(chdb_dir, ignore_errors=True)


@pytest.fixture()
def through_owner(owned):
    engine, url = owned
    warehouse = connect(url)
    assert isinstance(warehouse._route(), OwnedWarehouse)  # the collector answers, not this process's own file
    yield engine, warehouse
    warehouse.close()


def test_a_second_statement_never_runs_in_the_owner(through_owner, scene):
    engine, warehouse = through_owner
    before = checksum(warehouse)
    with pytest.raises(WarehouseError) as refused:
        warehouse.query(scene.fill(STACKED[engine]))
    assert "\n" not in str(refused.value)
    assert checksum(warehouse) == before and "pwned" not in table_names(warehouse)
    scene.assert_untouched(str(refused.value))


def test_the_owner_reads_no_file_for_another_process(through_owner, scene):
    engine, warehouse = through_owner
    for sql in FILE_READS[engine]:
        with pytest.raises(WarehouseError) as refused:
            warehouse.query(scene.fill(sql))
        assert "\n" not in str(refused.value)
        scene.assert_untouched(str(refused.value))


def test_the_owner_writes_nothing_and_changes_no_setting_for_another_process(through_owner, scene):
    engine, warehouse = through_owner
    before = checksum(warehouse)
    for sql in WRITES[engine]:
        with pytest.raises(WarehouseError):
            warehouse.query(scene.fill(sql))
        with pytest.raises(WarehouseError):
            warehouse.execute(scene.fill(sql))
    assert checksum(warehouse) == before and "pwned" not in table_names(warehouse)
    scene.assert_untouched()


@pytest.mark.parametrize("name", sorted(UNCHECKED))
def test_without_the_checker_the_owner_still_holds(checker_switched_off, through_owner, scene, name):  # noqa: F811
    engine, warehouse = through_owner
    catalog = load_catalog()
    query = Query(metrics=("pv",), where=scene.fill(FILTERS[name]))
    compiled = compile_query(catalog, query, DIALECT[engine])
    assert UNCHECKED[name].lower() in compiled.sql.lower()
    before = checksum(warehouse)
    with pytest.raises((WarehouseError, QueryError)) as caught:
        run_query(catalog, query, warehouse)
    assert checksum(warehouse) == before and "pwned" not in table_names(warehouse)
    scene.assert_untouched(str(caught.value))


def test_a_wrong_token_is_refused(through_owner):
    _, warehouse = through_owner
    proxy = warehouse._route()
    proxy._token = "guessed"
    proxy._local.connection = None
    with pytest.raises(WarehouseError, match="wrong or missing read token"):
        proxy.query("SELECT 1")
