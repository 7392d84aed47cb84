"""Connector behaviour on real engines: clear one-line errors, timeouts, read-only use, cancellation.

Network tests only ever reach 127.0.0.1: a closed port, a port that accepts and
never answers, and the throwaway PostgreSQL server.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time

import pyarrow as pa
import pytest

from connectors import connect, redact
from finlens_common.errors import WarehouseError


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def silent_port():
    """A loopback port that accepts connections and never says anything."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


def one_line(err: WarehouseError) -> str:
    text = str(err)
    assert "\n" not in text
    return text


def test_password_is_redacted():
    assert redact("postgresql://me:secret@127.0.0.1:5432/db") == "postgresql://me:***@127.0.0.1:5432/db"


@pytest.mark.parametrize("scheme", ["postgresql", "clickhouse"])
def test_unreachable_host_is_one_clear_line(scheme):
    with pytest.raises(WarehouseError) as caught:
        connect(f"{scheme}://u:secret@127.0.0.1:{closed_port()}/db?connect_timeout=2")
    text = one_line(caught.value)
    assert "cannot connect to" in text and "check the host and port" in text and "secret" not in text


@pytest.mark.parametrize("scheme", ["postgresql", "clickhouse"])
def test_silent_server_times_out_instead_of_hanging(scheme, silent_port):
    started = time.monotonic()
    with pytest.raises(WarehouseError) as caught:
        connect(f"{scheme}://u:p@127.0.0.1:{silent_port}/db?connect_timeout=1&query_timeout=2")
    assert time.monotonic() - started < 30
    assert "cannot connect to" in one_line(caught.value)


def test_bad_timeout_option():
    with pytest.raises(WarehouseError) as caught:
        connect("postgresql://u:p@127.0.0.1:1/db?connect_timeout=soon")
    assert "connect_timeout must be a number of seconds" in one_line(caught.value)


def test_postgres_bad_credentials(postgres_server):
    url = postgres_server.url.replace(":finlens-test@", ":wrong@")
    with pytest.raises(WarehouseError) as caught:
        connect(url)
    assert "check the user name and password" in one_line(caught.value)


def test_postgres_missing_table_and_column(postgres_server):
    with connect(postgres_server.url, read_only=False) as warehouse:
        warehouse.execute("DROP TABLE IF EXISTS finlens_probe")
        warehouse.execute("CREATE TABLE finlens_probe (a INTEGER)")
        with pytest.raises(WarehouseError) as caught:
            warehouse.query("SELECT * FROM no_such_table")
        assert "no_such_table" in one_line(caught.value) and "metrics/models/" in str(caught.value)
        with pytest.raises(WarehouseError) as caught:
            warehouse.query("SELECT b FROM finlens_probe")
        assert "lacks a column the model declares" in one_line(caught.value)
        warehouse.append("finlens_probe", pa.table({"a": [1, 2, None]}))
        assert warehouse.query("SELECT count(*), count(a), sum(a) FROM finlens_probe").rows == [(3, 2, 3)]
        assert warehouse.has_table("finlens_probe") and not warehouse.has_table("no_such_table")


def test_postgres_read_only_and_query_timeout(postgres_server):
    with connect(postgres_server.url + "?query_timeout=1") as warehouse:
        with pytest.raises(WarehouseError) as caught:
            warehouse.execute("CREATE TABLE finlens_should_fail (a INTEGER)")
        assert "read-only" in one_line(caught.value)
        started = time.monotonic()
        with pytest.raises(WarehouseError) as caught:
            warehouse.query("SELECT pg_sleep(5)")
        assert time.monotonic() - started < 4
        assert "query_timeout" in one_line(caught.value)


def test_postgres_cancel_from_another_thread(postgres_server):
    with connect(postgres_server.url) as warehouse:
        timer = threading.Timer(0.5, warehouse.cancel)
        timer.start()
        started = time.monotonic()
        with pytest.raises(WarehouseError) as caught:
            warehouse.query("SELECT pg_sleep(10)")
        timer.join()
        assert time.monotonic() - started < 5 and "cancelled" in one_line(caught.value)


def test_duckdb_cancel_from_another_thread(tmp_path):
    with connect(f"duckdb:///{tmp_path}/c.duckdb", read_only=False) as warehouse:
        timer = threading.Timer(0.3, warehouse.cancel)
        timer.start()
        started = time.monotonic()
        with pytest.raises(WarehouseError):
            warehouse.query("SELECT sum(hash(i)) FROM range(100000000000) t(i)")
        timer.join()
        assert time.monotonic() - started < 10


def test_chdb_missing_table_and_folder():
    folder = tempfile.mkdtemp(prefix="finlens-chdb-")
    try:
        with connect(f"chdb:///{folder}", read_only=False) as warehouse:
            with pytest.raises(WarehouseError) as caught:
                warehouse.query("SELECT * FROM no_such_table")
            assert "chdb warehouse" in one_line(caught.value) and "metrics/models/" in str(caught.value)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    with pytest.raises(WarehouseError) as caught:
        connect(f"chdb:///{folder}/missing")
    assert "does not exist" in one_line(caught.value)


def test_dataframe_from_any_connector(tmp_path):
    with connect(f"duckdb:///{tmp_path}/d.duckdb", read_only=False) as warehouse:
        frame = warehouse.query_df("SELECT 1 AS a, 'x' AS b")
    assert frame.to_dict("records") == [{"a": 1, "b": "x"}]
