"""One embedded warehouse, several processes: readers give the file up to a loader, loaders join its owner.

The logs are ``test_sensors_import.py``'s (worked out there: day1 has 5 events, day2 6 more and
the signup that moves a-1's two page views to u1, so u1 ends with 7 events, 11 in all).
"""

from __future__ import annotations

import subprocess
import threading

import pytest
import sensorsanalytics

from connectors import connect, writer
from connectors.owner import find_owner
from tests.collector_helpers import FINLENS, kill9, running_collector, sdk, start_collector, wait_for
from tests.test_sensors_import import day1, day2, sdk_log


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("owner-logs")
    return sdk_log(folder / "day1.log", day1), sdk_log(folder / "day2.log", day2)


def empty_warehouse(path) -> str:
    url = f"duckdb:///{path.as_posix()}"
    with connect(url, read_only=False) as warehouse:
        warehouse.execute("CREATE TABLE IF NOT EXISTS keep (x INTEGER)")
    return url


def count(warehouse, sql: str = "SELECT count(*) FROM events") -> int:
    if not warehouse.has_table("events"):
        return 0
    return int(warehouse.query(sql).rows[0][0])


def test_an_import_runs_while_a_reader_holds_the_file(logs, tmp_path):
    """The app's connection (a reader holding the file) keeps answering during ``finlens import``."""
    url = empty_warehouse(tmp_path / "w.duckdb")
    reader = connect(url)
    assert count(reader) == 0  # the reader has the file open
    importer = subprocess.Popen(
        [FINLENS, "import", "sensors", *map(str, logs), "--warehouse", url], stderr=subprocess.PIPE, text=True
    )
    seen: list[int] = []
    while importer.poll() is None:
        seen.append(count(reader))  # never an error: the file, or the importer answering for it
    assert importer.returncode == 0, importer.stderr.read() if importer.stderr else ""
    assert seen == sorted(seen)  # the reader never went back in time
    assert count(reader) == 11
    assert count(reader, "SELECT count(*) FROM events WHERE user_id = 'u1'") == 7
    assert find_owner(reader.path) is None and reader._own is not None  # the file is the reader's again
    reader.close()


def test_an_import_joins_the_collector_that_owns_the_file(logs, tmp_path):
    """day1 imported from its file while the collector owns the warehouse, day2 sent through the collector:
    the collector's signup re-attributes the imported page views (bindings are shared)."""
    url = empty_warehouse(tmp_path / "w.duckdb")
    with running_collector(url, tmp_path / "spool") as collector:
        done = subprocess.run(
            [FINLENS, "import", "sensors", str(logs[0]), "--warehouse", url],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert find_owner(url.split(":///", 1)[1]).command == "finlens collect"
        with sdk(sensorsanalytics.BatchConsumer(collector.sa_url, max_size=10)) as sa:
            day2(sa)
        wait_for(collector.drained, "the collector to load day2")
        with connect(url) as warehouse:
            assert count(warehouse) == 11
            assert count(warehouse, "SELECT count(*) FROM events WHERE user_id = 'u1'") == 7


def test_a_killed_owner_leaves_the_file_to_the_next_process(logs, tmp_path):
    url = empty_warehouse(tmp_path / "w.duckdb")
    collector = start_collector(url, tmp_path / "spool")
    path = url.split(":///", 1)[1]
    assert find_owner(path) is not None
    kill9(collector)
    assert (tmp_path / "w.duckdb.owner.json").exists() and find_owner(path) is None  # stale: its lock died with it
    with connect(url) as warehouse:
        assert warehouse.has_table("keep")
    with writer(url) as loader:  # the next loader owns it
        loader.execute("INSERT INTO keep VALUES (1)")
    with connect(url) as warehouse:
        assert count(warehouse, "SELECT count(*) FROM keep") == 1


def test_two_loaders_at_once_both_land(tmp_path):
    """Two loaders started together: one owns the file, the other writes through it."""
    url = empty_warehouse(tmp_path / "w.duckdb")
    errors: list[BaseException] = []

    def load(value: int) -> None:
        try:
            with writer(url) as loader:
                for _ in range(20):
                    loader.execute(f"INSERT INTO keep VALUES ({value})")
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=load, args=(v,)) for v in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with connect(url) as warehouse:
        assert warehouse.query("SELECT x, count(*) FROM keep GROUP BY 1 ORDER BY 1").rows == [(1, 20), (2, 20)]
