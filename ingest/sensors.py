"""Import Sensors Analytics SDK logs (JSON lines, plain or gzip) into ``events`` and ``users``.

``import_sensors`` cuts each file into line-aligned chunks (a plain file into byte
ranges that the workers read themselves), parses them in worker processes (Python
parsing is the cost), and stores the results in file order from this process: a chunk's
identity bindings, rejects and profile operations as it arrives, its events in batches
of ``BATCH_ROWS`` (de-duplicated, one append and one checkpoint per batch, DuckDB on one
thread meanwhile). Memory is bounded by the chunks in flight and one batch, not the
file size: ``jobs + AHEAD`` chunks parsed ahead at most.

>>> from connectors import connect
>>> with connect("duckdb:///:memory:", read_only=False) as warehouse:
...     import_sensors(warehouse, []).events
0
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import Warehouse
from finlens_common.errors import IngestError
from ingest.loads import finish_load
from ingest.sensors_apply import BATCH_ROWS, ChunkWriter
from ingest.sensors_gunzip import gunzipped_chunks
from ingest.sensors_identity import IdentityMap
from ingest.sensors_parse import ChunkResult, parse_chunk
from ingest.sensors_read import CHUNK_BYTES, Chunk, file_size, is_gzip, read_chunks, spans
from ingest.sensors_users import ProfileWriter
from ingest.sensors_write import ensure_tables, log_file, one_thread
from ingest.touch import fill_touch_channels

DEFAULT_TIME_ZONE = "Asia/Shanghai"
P = ParamSpec("P")
T = TypeVar("T")
# Below this many bytes in all, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
# Chunks parsed ahead of the writer, so the workers keep going while it appends a batch.
AHEAD = 6


@dataclass
class ImportSummary:
    """What an import run did; ``rejected`` > 0 means some lines are in ``import_rejects``.

    ``duplicates`` counts event lines skipped because the same event was already stored
    or came earlier in the run (so it does not depend on how the files are chunked);
    ``reattributed`` counts events whose ``user_id`` changed when the run's new bindings
    were applied at its end (an event stored before its id's binding was read).
    """

    files: int = 0
    bytes: int = 0
    lines: int = 0
    events: int = 0
    duplicates: int = 0
    rejected: int = 0
    profiles: int = 0
    users: int = 0
    identities: int = 0
    reattributed: int = 0
    seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0


def check_time_zone(name: str) -> str:
    """``name`` when it is an IANA time zone, else an IngestError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise IngestError(f"unknown time zone {name!r}: use an IANA name such as Asia/Shanghai or UTC") from None
    return name


def import_sensors(
    warehouse: Warehouse,
    paths: Iterable[str | Path],
    *,
    time_zone: str = DEFAULT_TIME_ZONE,
    jobs: int | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    batch_rows: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Import the SDK logs at ``paths`` into ``warehouse``, creating missing tables; re-importing adds nothing.

    Args:
        time_zone: the zone ``event_time`` is shown in (epoch ms become its wall-clock time).
        jobs: worker processes for parsing (default: 2 on 1-3 CPUs, CPUs - 1 above, at most 4); below
            ``PARALLEL_MIN_BYTES`` in all the chunks are parsed here instead.
        progress: called with (bytes read, total bytes) as the files are read.
    """
    check_time_zone(time_zone)
    files = [Path(p) for p in paths]
    sizes = [file_size(p) for p in files]  # every path checked before anything is written
    total = sum(sizes)
    began = time.perf_counter()
    summary = ImportSummary(files=len(files), bytes=total)
    upgraded = ensure_tables(warehouse)
    identities = IdentityMap(warehouse)
    profiles = ProfileWriter(warehouse, identities, time_zone)
    cpus = os.cpu_count() or 1
    jobs = jobs or min(4, max(2, cpus - 1))  # measured on 2 cores: 2 parsers + this process's appends
    parse = partial(parse_job, time_zone=time_zone)
    touched: set[str] = set()  # users whose first and latest touch are recomputed at the end
    done = 0
    # JSON lines compress ~10x: a gzip file counts for 8 times its size when choosing workers.
    expanded = sum(size * (8 if is_gzip(path) else 1) for path, size in zip(files, sizes))
    with (
        warehouse.bulk_load() as flush,
        one_thread(warehouse),
        _executor(jobs if expanded >= PARALLEL_MIN_BYTES else 1) as pool,
    ):
        for path, size in zip(files, sizes):
            name = str(path.resolve())
            batch = ChunkWriter(warehouse, identities, profiles, flush, batch_rows or BATCH_ROWS)
            batch.start_file(name)
            counts = batch.counts
            with _chunks(path, name, chunk_bytes, parallel=not isinstance(pool, _Inline)) as chunks:
                for result, position in _in_order(pool, parse, chunks, depth=jobs + AHEAD):
                    batch.add(result)
                    if progress is not None:
                        progress(done + min(position, size), total)
            batch.write()
            touched.update(batch.touched)
            done += size
            log_file(
                warehouse,
                {
                    "file": name,
                    "bytes": size,
                    "lines": counts["lines"],
                    "events": counts["events"],
                    "duplicates": counts["duplicates"],
                    "rejects": counts["rejects"],
                    "imported_at": datetime.now().replace(microsecond=0),
                },
            )
            for key in ("lines", "events", "duplicates"):
                setattr(summary, key, getattr(summary, key) + counts[key])
            summary.rejected += counts["rejects"]
            summary.reasons.update({k[7:]: v for k, v in counts.items() if k.startswith("reason:")})
        profiles.flush()
        summary.identities = len(identities.new)
        touched.update(identities.new.values())
        summary.reattributed = identities.save_and_reattribute()
        touched.update(profiles.users)
        fill_touch_channels(warehouse, None if upgraded else touched)
        finish_load(warehouse, "import", summary.events)
    summary.profiles, summary.users = profiles.records, len(profiles.users)
    summary.seconds = round(time.perf_counter() - began, 3)
    if progress is not None:
        progress(total, total)
    return summary


@contextmanager
def _chunks(path: Path, name: str, chunk_bytes: int, *, parallel: bool) -> Iterator[Iterator[Chunk]]:
    """The file's chunks, numbered from line 1 each (the writer adds the lines before them).

    A plain file is handed out as byte ranges (the parsing process reads them). A gzip file
    is decompressed by a reader process into temporary files that the parsing processes read
    (``sensors_gunzip.py``), or here when there are no parsing processes.
    """
    if not is_gzip(path):
        yield (Chunk(name, 1, b"", span=c.span, position=c.position) for c in spans(path, chunk_bytes=chunk_bytes))
    elif parallel:
        with gunzipped_chunks(path, name, chunk_bytes) as chunks:
            yield chunks
    else:
        yield (Chunk(name, 1, c.data, position=c.position) for c in read_chunks(path, chunk_bytes=chunk_bytes))


def parse_job(chunk: Chunk, time_zone: str) -> tuple[ChunkResult, int]:
    """What a worker process runs: a chunk parsed (lines numbered from 1), and the chunk's ``position``.

    Python's cyclic garbage collector is paused meanwhile: parsing builds hundreds of
    thousands of acyclic objects, and the collector's repeated scans of them cost ~10%.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return parse_chunk(chunk, time_zone), chunk.position
    finally:
        if paused:
            gc.enable()


class _Inline(Executor):
    """Runs work here: small imports and ``jobs=1`` need no processes."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _executor(jobs: int) -> Executor:
    if jobs <= 1:
        return _Inline()
    # spawn, not fork: the parent holds a DuckDB connection and Arrow thread pools.
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))


def _in_order(
    pool: Executor, fn: Callable[[Chunk], tuple[ChunkResult, int]], chunks: Iterator[Chunk], depth: int
) -> Iterator[tuple[ChunkResult, int]]:
    """Results of ``fn`` over ``chunks`` in order, with at most ``depth`` chunks in flight (bounded memory)."""
    pending: deque[Future] = deque()
    for chunk in chunks:
        pending.append(pool.submit(fn, chunk))
        if len(pending) >= depth:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


__all__ = ["DEFAULT_TIME_ZONE", "ImportSummary", "import_sensors"]
