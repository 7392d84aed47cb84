"""Import Sensors Analytics SDK logs (JSON lines, plain or gzip) into ``events`` and ``users``.

``import_sensors`` reads each file in line-aligned chunks, parses chunks in worker
processes (JSON parsing is the cost; two cores double it), and writes batch by batch
in file order from this process: identity bindings, de-duplicated events, rejects,
profile operations. Memory is bounded by the chunks in flight, not the file size.

>>> from connectors import connect
>>> with connect("duckdb:///:memory:", read_only=False) as warehouse:
...     import_sensors(warehouse, []).events
0
"""
from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


from connectors.base import Warehouse
from finlens.errors import IngestError
from ingest.sensors_columns import ChunkResult, parse_chunk
from ingest.sensors_identity import IdentityMap
from ingest.sensors_read import CHUNK_BYTES, Chunk, file_size, read_chunks
from ingest.sensors_users import ProfileWriter
from ingest.sensors_write import append_new_events, append_rejects, ensure_tables, log_file, stored_reject_lines

DEFAULT_TIME_ZONE = "Asia/Shanghai"
# Below this many bytes in all, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024


@dataclass
class ImportSummary:
    """What an import run did; ``rejected`` > 0 means some lines are in ``import_rejects``."""

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
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Import the SDK logs at ``paths`` into ``warehouse``, creating missing tables; re-importing adds nothing.

    Args:
        time_zone: the zone ``event_time`` is shown in (epoch ms become its wall-clock time).
        jobs: worker processes for parsing (default: 1, i.e. parse here, on 2 CPUs; CPUs - 1, at most 4, above).
        progress: called with (bytes read, total bytes) as the files are read.
    """
    check_time_zone(time_zone)
    files = [Path(p) for p in paths]
    sizes = [file_size(p) for p in files]  # every path checked before anything is written
    total = sum(sizes)
    began = time.perf_counter()
    summary = ImportSummary(files=len(files), bytes=total)
    ensure_tables(warehouse)
    identities = IdentityMap(warehouse)
    profiles = ProfileWriter(warehouse, identities, time_zone)
    cpus = os.cpu_count() or 1
    jobs = jobs or (1 if cpus <= 2 else min(4, cpus - 1))  # measured: on 2 cores, workers lose to the insert
    parse = partial(parse_chunk, time_zone=time_zone)
    done = 0
    with warehouse.bulk_load() as flush, _executor(jobs if total >= PARALLEL_MIN_BYTES else 1) as pool:
        for path, size in zip(files, sizes):
            name = str(path.resolve())
            known = stored_reject_lines(warehouse, name)
            counts = Counter[str]()
            read = [0]

            def seen(position: int, read: list[int] = read) -> None:
                read[0] = position

            chunks = (Chunk(name, c.first_line, c.data) for c in read_chunks(path, chunk_bytes=chunk_bytes, position=seen))
            for result in _in_order(pool, parse, chunks, depth=jobs + 1):
                _write(warehouse, result, identities, profiles, known, counts)
                flush()
                if progress is not None:
                    progress(done + min(read[0], size), total)
            done += size
            log_file(warehouse, {"file": name, "bytes": size, "lines": counts["lines"], "events": counts["events"],
                                 "duplicates": counts["duplicates"], "rejects": counts["rejects"],
                                 "imported_at": datetime.now().replace(microsecond=0)})
            for key in ("lines", "events", "duplicates"):
                setattr(summary, key, getattr(summary, key) + counts[key])
            summary.rejected += counts["rejects"]
            summary.reasons.update({k[7:]: v for k, v in counts.items() if k.startswith("reason:")})
        profiles.flush()
        summary.identities = len(identities.new)
        summary.reattributed = identities.save_and_reattribute()
    summary.profiles, summary.users = profiles.records, len(profiles.users)
    summary.seconds = round(time.perf_counter() - began, 3)
    if progress is not None:
        progress(total, total)
    return summary


def _write(warehouse: Warehouse, result: ChunkResult, identities: IdentityMap, profiles: ProfileWriter,
           known: set[int], counts: Counter[str]) -> None:
    """Store one parsed chunk: bindings first, so this chunk's own events are already stitched."""
    identities.learn(result.bindings)
    events = result.events
    if events is not None and events.num_rows:
        position = events.schema.get_field_index("user_id")
        events = events.set_column(position, "user_id", identities.resolve(events.column("distinct_id").combine_chunks()))
        appended, dupes = append_new_events(warehouse, events)
        counts["events"] += appended
        counts["duplicates"] += dupes
    fresh = [r for r in result.rejects if r[1] not in known]
    append_rejects(warehouse, fresh, datetime.now().replace(microsecond=0))
    counts["rejects"] += len(result.rejects)
    counts.update(f"reason:{_reason_kind(r[3])}" for r in result.rejects)
    counts["lines"] += result.lines
    profiles.add(result.profiles)


def _reason_kind(reason: str) -> str:
    """A reason without its details, to count rejects by kind (``not valid JSON``, ``missing required field time``)."""
    return reason.split(":")[0].split(" got ")[0].rstrip(",")


class _Inline(Executor):
    """Runs work here: small imports and ``jobs=1`` need no processes."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _executor(jobs: int) -> Executor:
    if jobs <= 1:
        return _Inline()
    # spawn, not fork: the parent holds a DuckDB connection and Arrow thread pools.
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))


def _in_order(pool: Executor, fn: Callable[[Chunk], ChunkResult], chunks: Iterator[Chunk],
              depth: int) -> Iterator[ChunkResult]:
    """Results of ``fn`` over ``chunks`` in order, with at most ``depth`` chunks in flight (bounded memory)."""
    pending: deque[Future] = deque()
    for chunk in chunks:
        pending.append(pool.submit(fn, chunk))
        if len(pending) >= depth:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


__all__ = ["DEFAULT_TIME_ZONE", "ImportSummary", "import_sensors"]
