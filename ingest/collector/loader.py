"""From the spool to the warehouse: the import's own parsing, stitching, de-duplication and rejects.

The loader thread reads the acknowledged records behind the spool's checkpoint, a few
thousand at a time, and stores each run of them in one transaction (DuckDB, PostgreSQL):
every record is parsed by ``parse_chunk`` as a file of its own, named
``collector:<batch id>`` in ``import_rejects``; then the events are appended without those
already stored, profile operations applied once (``profile_log``), new bindings saved and
earlier events re-attributed, and the load recorded (``ingest_loads``: the watermark).
Only after the commit does the checkpoint move. A failure (the warehouse away, the owner
gone) rolls back, closes the connection and tries again after a pause; nothing is lost,
since the records stay in the spool, and nothing is stored twice, since every step is
keyed (event ids, reject addresses, profile record ids, first binding wins).

On an embedded warehouse the loader opens it with :func:`connectors.writer`, so the
collector owns the file and answers the app's and the CLI's queries while it runs.
"""

from __future__ import annotations

import bisect
import logging
import multiprocessing
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlglot import exp

from connectors import Tuning, Warehouse, writer
from finlens_common.errors import FinlensError
from ingest.collector.metrics import Metrics
from ingest.collector.spool import Record, Spool
from ingest.loads import finish_load, prune_loads
from ingest.schema import EVENTS_TABLE, IDENTITY_TABLE, USERS_TABLE, create_table_sql
from ingest.sensors_apply import ChunkWriter
from ingest.sensors_identity import IdentityMap
from ingest.sensors_parse import ChunkResult, parse_chunk
from ingest.sensors_read import Chunk
from ingest.sensors_users import ProfileWriter
from ingest.sensors_write import ensure_tables
from ingest.touch import fill_touch_channels

log = logging.getLogger("finlens.collector")
MAX_RECORDS = 2_000  # batches per transaction
MAX_BYTES = 4 * 1024 * 1024  # about 15,000 events: a run stores in well under a second, so new data shows soon
IN_FLIGHT = 2  # runs parsed ahead of the one being stored
RETRY_SECONDS = (0.5, 1, 2, 5)
KEEP_LOADS = timedelta(days=7)


def parse_run(batches: list[tuple[str, list[bytes]]], time_zone: str) -> ChunkResult:
    """A run of batches parsed as one chunk (what the parsing process runs); rejects named by their batch.

    One chunk for the run, not one per batch: building Arrow columns costs per chunk, and a batch is
    often a few dozen records. Each reject gets back its batch's name and its line in that batch.
    """
    starts: list[int] = []
    lines: list[bytes] = []
    for _, batch_lines in batches:
        starts.append(len(lines) + 1)
        lines.extend(batch_lines)
    result = parse_chunk(Chunk("collector", 1, b"\n".join(lines)), time_zone)
    rejects = []
    for _, line, raw, reason in result.rejects:
        index = bisect.bisect_right(starts, line) - 1
        rejects.append((f"collector:{batches[index][0]}", line - starts[index] + 1, raw, reason))
    result.rejects = rejects
    return result


@dataclass
class LoadStats:
    records: int = 0
    lines: int = 0
    events: int = 0
    duplicates: int = 0
    rejects: int = 0


class Loader:
    """Moves acknowledged batches into the warehouse at ``url``, in order, until stopped and drained."""

    def __init__(self, url: str, spool: Spool, metrics: Metrics, time_zone: str, *, idle_seconds: float = 0.2):
        self.url, self.spool, self.metrics, self.time_zone = url, spool, metrics, time_zone
        self.idle_seconds = idle_seconds
        self.position = spool.checkpoint
        self.wake = threading.Event()
        self.connected = False
        self.last_error = ""
        self._stop = threading.Event()
        self._stack = ExitStack()
        self._warehouse: Warehouse | None = None
        self._identities: IdentityMap | None = None
        self._identity_rows = 0
        self._upgraded = False
        self._pruned = 0.0
        self._pending = 0  # records acknowledged since start and not yet loaded
        self._pending_lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._parsing: deque[tuple[list[Record], Future[ChunkResult]]] = deque()
        self._thread = threading.Thread(target=self._run, name="collector-loader", daemon=True)

    def acknowledged(self, records: int) -> None:
        with self._pending_lock:
            self._pending += records
            self.metrics.queued_records.set(max(0, self._pending))
        self.wake.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self, drain_seconds: float = 30.0) -> None:
        """Load what is acknowledged (for at most ``drain_seconds``), then let the warehouse go."""
        self._drain_until = time.monotonic() + drain_seconds
        self._stop.set()
        self.wake.set()
        self._thread.join(timeout=drain_seconds + 30)

    def _run(self) -> None:
        failures = 0
        while True:
            stopping = self._stop.is_set()
            if stopping and (self.position >= self.spool.durable or time.monotonic() > self._drain_until):
                break
            try:
                warehouse = self._open()
                self._parse_ahead()
                if not self._parsing:
                    self.metrics.lag.set(0)
                    self.wake.wait(self.idle_seconds)
                    self.wake.clear()
                    continue
                records, parsed = self._parsing[0]
                self.metrics.lag.set(max(0.0, time.time() - records[0].received))
                stats = self._load(warehouse, records, parsed.result())
                self._parsing.popleft()
                self.position = records[-1].end
                self.spool.save_checkpoint(self.position)
                self._account(stats)
                failures = 0
            except (FinlensError, OSError, BrokenProcessPool) as err:
                self._parsing.clear()  # parsed again from the spool after the pause
                if isinstance(err, BrokenProcessPool):
                    self._pool = None
                failures += 1
                self.last_error = str(err).splitlines()[0] if str(err) else type(err).__name__
                self.metrics.load_errors.inc()
                log.warning("load failed, retrying: %s", self.last_error)
                self._close()
                if self._stop.is_set() and failures > 3:
                    break
                time.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])
        self._close()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def _parse_ahead(self) -> None:
        """Hand the next runs of acknowledged batches to the parsing process (up to IN_FLIGHT)."""
        if self._pool is None:
            # spawn, not fork: this process holds a warehouse connection and the server's threads
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        start = self._parsing[-1][0][-1].end if self._parsing else self.position
        while len(self._parsing) < IN_FLIGHT:
            records = self.spool.read(start, MAX_RECORDS, MAX_BYTES)
            if not records:
                return
            batches = [(r.batch, r.lines) for r in records]
            self._parsing.append((records, self._pool.submit(parse_run, batches, self.time_zone)))
            start = records[-1].end

    def _open(self) -> Warehouse:
        if self._warehouse is None:
            self._warehouse = self._stack.enter_context(writer(self.url, command="finlens collect", tuning=Tuning()))
            for table in (EVENTS_TABLE, USERS_TABLE):
                if not self._warehouse.has_table(table):
                    self._warehouse.execute(create_table_sql(table, self._warehouse.dialect))
            self._upgraded = ensure_tables(self._warehouse)  # older events: every user's touch channels filled
            self._identities = None
            self.connected = True
        return self._warehouse

    def _close(self) -> None:
        self.connected = False
        self._warehouse = None
        self._identities = None
        try:
            self._stack.close()
        except Exception as err:  # noqa: BLE001 - closing a broken connection must not stop the loader
            log.warning("closing the warehouse: %s", err)
        self._stack = ExitStack()

    def _identity_map(self, warehouse: Warehouse) -> IdentityMap:
        """The bindings, read again when another loader (an import) added some since."""
        count = exp.select(exp.Count(this=exp.Star())).from_(IDENTITY_TABLE).sql(dialect=warehouse.dialect)
        rows = int(warehouse.query(count).rows[0][0])
        if self._identities is None or rows != self._identity_rows:
            self._identities = IdentityMap(warehouse)
            self._identity_rows = rows
        return self._identities

    def _load(self, warehouse: Warehouse, records: list[Record], parsed: ChunkResult) -> LoadStats:
        try:
            with warehouse.transaction():
                identities = self._identity_map(warehouse)
                profiles = ProfileWriter(warehouse, identities, self.time_zone)
                chunks = ChunkWriter(warehouse, identities, profiles, batch_rows=1 << 62)
                chunks.start_file("collector")
                chunks.add(parsed)
                chunks.write()
                profiles.flush()
                self._identity_rows += len(identities.new)
                touched = chunks.touched | set(identities.new.values())
                identities.save_and_reattribute()
                fill_touch_channels(warehouse, None if self._upgraded else touched | profiles.users)
                received = datetime.fromtimestamp(max(r.received for r in records), UTC).replace(tzinfo=None)
                finish_load(warehouse, "collector", chunks.counts["events"], received)
                if time.monotonic() - self._pruned > 3600:
                    prune_loads(warehouse, "collector", KEEP_LOADS)
                    self._pruned = time.monotonic()
        except BaseException:
            self._identities = None  # it may hold bindings the rollback took back
            raise
        self._upgraded = False
        counts = chunks.counts
        return LoadStats(len(records), counts["lines"], counts["events"], counts["duplicates"], counts["rejects"])

    def _account(self, stats: LoadStats) -> None:
        m = self.metrics
        m.stored.inc(stats.events)
        m.duplicates.inc(stats.duplicates)
        m.rejected.inc(stats.rejects)
        with self._pending_lock:
            self._pending -= stats.lines
            m.queued_records.set(max(0, self._pending))
        m.queued_bytes.set(self.spool.backlog_bytes())
        m.last_load.set(time.time())
        if self.position >= self.spool.durable:
            m.lag.set(0)
