"""The collector's durable log: a batch is acknowledged once it is on disk, and loaded from there.

Append-only segment files (``segment-000000000001.log``) of records::

    b"FLS1" | length (4 bytes) | crc32 (4 bytes) | header JSON | b"\\n" | the batch's lines, b"\\n" between

A writer thread takes every batch waiting, writes them with one ``write`` and makes
them durable with one ``fdatasync`` (group commit), then wakes their requests, which
answer 200 only then. The loader reads records from the files behind the writer and,
once a run of them is committed to the warehouse, saves its position in ``checkpoint``
(written to a temporary file, synced, renamed); segments wholly behind it are deleted.

After a ``kill -9``: a record torn at the end of the last segment was never
acknowledged (its sync had not returned) and is cut off; everything after the
checkpoint is loaded again, which the loader's de-duplication makes harmless.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"FLS1"
HEAD = struct.Struct("<4sII")
SEGMENT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, order=True)
class Position:
    segment: int
    offset: int


@dataclass(frozen=True)
class Record:
    """One acknowledged batch: its id (a hash of its lines), when it arrived (epoch s), its lines."""

    batch: str
    received: float
    project: str
    lines: list[bytes]
    end: Position  # where the next record starts

    @property
    def size(self) -> int:
        return sum(len(line) + 1 for line in self.lines)


def encode(batch: str, received: float, project: str, lines: list[bytes]) -> bytes:
    header = json.dumps({"batch": batch, "received": received, "project": project, "lines": len(lines)})
    payload = header.encode() + b"\n" + b"\n".join(lines)
    return HEAD.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def _segment_name(number: int) -> str:
    return f"segment-{number:012d}.log"


class Spool:
    """The log in ``folder``; ``append`` blocks until the batch is durable."""

    def __init__(self, folder: str | Path, on_durable: Callable[[], None] = lambda: None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.on_durable = on_durable
        self.checkpoint = self._read_checkpoint()
        self.durable = self._recover()
        self._fd = os.open(self.folder / _segment_name(self.durable.segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        _sync_folder(self.folder)  # the segment's name is durable before anything in it is acknowledged
        self._cond = threading.Condition()
        self._waiting: list[tuple[bytes, threading.Event]] = []
        self._stopping = False
        self._failed: OSError | None = None
        self._thread = threading.Thread(target=self._write_loop, name="spool-writer", daemon=True)
        self._thread.start()

    # -- recovery -----------------------------------------------------------------------------------------------

    def _read_checkpoint(self) -> Position:
        try:
            segment, offset = json.loads((self.folder / "checkpoint").read_text())
            return Position(int(segment), int(offset))
        except (OSError, ValueError, TypeError):
            segments = self._segments()
            return Position(segments[0] if segments else 1, 0)

    def _segments(self) -> list[int]:
        return sorted(int(p.stem.split("-")[1]) for p in self.folder.glob("segment-*.log"))

    def _recover(self) -> Position:
        """The end of the last whole record; a torn tail (never acknowledged) is cut off."""
        segments = self._segments() or [self.checkpoint.segment]
        last = segments[-1]
        path = self.folder / _segment_name(last)
        if not path.exists():
            path.touch()
        end = 0
        with open(path, "rb") as file:
            while _read_one(file) is not None:
                end = file.tell()
        if end < path.stat().st_size:
            with open(path, "r+b") as file:
                file.truncate(end)
                os.fsync(file.fileno())
        return Position(last, end)

    # -- writing ------------------------------------------------------------------------------------------------

    def append(self, data: bytes, timeout: float = 30.0) -> None:
        """Write an encoded record and return once it is on disk (OSError if the disk failed)."""
        done = threading.Event()
        with self._cond:
            if self._failed is not None:
                raise self._failed
            self._waiting.append((data, done))
            self._cond.notify()
        if not done.wait(timeout):
            raise OSError("the spool did not sync within 30 s")
        if self._failed is not None:
            raise self._failed

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._stopping:
                    self._cond.wait()
                if not self._waiting and self._stopping:
                    return
                batch, self._waiting = self._waiting, []
            try:
                if self.durable.offset >= SEGMENT_BYTES:
                    self._roll()
                data = b"".join(item[0] for item in batch)
                os.write(self._fd, data)
                os.fdatasync(self._fd)
                self.durable = Position(self.durable.segment, self.durable.offset + len(data))
            except OSError as err:
                self._failed = err
            for _, done in batch:
                done.set()
            self.on_durable()

    def _roll(self) -> None:
        os.close(self._fd)
        segment = self.durable.segment + 1
        self._fd = os.open(self.folder / _segment_name(segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        _sync_folder(self.folder)
        self.durable = Position(segment, 0)

    # -- reading and checkpoints ----------------------------------------------------------------------------------

    def read(self, start: Position, max_records: int, max_bytes: int) -> list[Record]:
        """Durable records from ``start`` on, at most ``max_records`` / about ``max_bytes``."""
        records: list[Record] = []
        size = 0
        position = start
        while len(records) < max_records and size < max_bytes and position < self.durable:
            path = self.folder / _segment_name(position.segment)
            limit = self.durable.offset if position.segment == self.durable.segment else None
            if limit is None and (not path.exists() or position.offset >= path.stat().st_size):
                position = Position(position.segment + 1, 0)
                continue
            with open(path, "rb") as file:
                file.seek(position.offset)
                while len(records) < max_records and size < max_bytes:
                    if limit is not None and file.tell() >= limit:
                        break
                    found = _read_one(file)
                    if found is None:
                        break
                    header, lines = found
                    position = Position(position.segment, file.tell())
                    records.append(Record(header["batch"], header["received"], header["project"], lines, position))
                    size += records[-1].size
            if limit is not None or len(records) >= max_records or size >= max_bytes:
                break
        return records

    def save_checkpoint(self, position: Position) -> None:
        """Everything before ``position`` is in the warehouse: never load it again."""
        temporary = self.folder / "checkpoint.tmp"
        with open(temporary, "w") as file:
            file.write(json.dumps([position.segment, position.offset]))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.folder / "checkpoint")
        _sync_folder(self.folder)
        self.checkpoint = position
        for segment in self._segments():
            if segment < position.segment:
                (self.folder / _segment_name(segment)).unlink(missing_ok=True)

    @property
    def writable(self) -> bool:
        return self._failed is None

    def backlog_bytes(self) -> int:
        """Bytes acknowledged but not yet in the warehouse."""
        if self.durable.segment == self.checkpoint.segment:
            return self.durable.offset - self.checkpoint.offset
        total = self.durable.offset
        for segment in range(self.checkpoint.segment, self.durable.segment):
            path = self.folder / _segment_name(segment)
            total += path.stat().st_size if path.exists() else 0
        return total - self.checkpoint.offset

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout=30)
        os.close(self._fd)


def _read_one(file) -> tuple[dict, list[bytes]] | None:
    """The next whole, intact record of ``file``, or None (end, or a torn or corrupt tail)."""
    head = file.read(HEAD.size)
    if len(head) < HEAD.size:
        return None
    magic, length, crc = HEAD.unpack(head)
    if magic != MAGIC:
        return None
    payload = file.read(length)
    if len(payload) < length or zlib.crc32(payload) != crc:
        return None
    header_text, _, body = payload.partition(b"\n")
    header = json.loads(header_text)
    lines = body.split(b"\n") if header["lines"] else []
    return header, lines


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
