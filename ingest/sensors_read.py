"""Reading Sensors Analytics SDK logs: files into line-aligned chunks, lines into checked records.

The SDKs' file consumers (Python ``LoggingConsumer``, Java ``ConcurrentLoggingConsumer``, ...)
write one JSON object per line. Files can be huge (tens of GB), so they are read
in byte chunks cut at a newline, each tagged with the number of its first line,
and a chunk is parsed independently (by a worker process when there are several).
A line that cannot be used is never an exception: :func:`check_record` returns the
one-line reason that goes to the rejects table.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from finlens_common.errors import IngestError

CHUNK_BYTES = 32 * 1024 * 1024
NEWLINE = b"\n"

EVENT_TYPES = frozenset({"track", "track_signup", "track_id_bind", "track_id_unbind"})
PROFILE_TYPES = frozenset(
    {
        "profile_set",
        "profile_set_once",
        "profile_increment",
        "profile_append",
        "profile_unset",
        "profile_delete",
    }
)
# Sensors requires epoch milliseconds; anything outside 2000-01-01 .. 2100-01-01 is a unit or clock mistake.
MIN_TIME_MS, MAX_TIME_MS = 946_684_800_000, 4_102_444_800_000


class Reject(Exception):
    """A line that cannot be imported; the message is the reason stored with it."""


@dataclass(frozen=True)
class Chunk:
    """Whole lines of one file: ``data`` starts at line ``first_line`` (1-based).

    A chunk of a plain (not gzip) file may instead name its byte range, ``span``
    (start, end), and leave ``data`` empty: the worker process that parses it reads the
    range itself, so the bytes are not copied between processes. A decompressed chunk of a
    gzip file may name instead the temporary file that holds it, ``source``, which is removed
    once read. ``position`` is how far the file on disk has been read once this chunk is (for
    the progress bar).
    """

    file: str
    first_line: int
    data: bytes
    span: tuple[int, int] | None = None
    position: int = 0
    source: str | None = None

    def read(self) -> bytes:
        """The chunk's lines, read from the file when the chunk is a span or from its ``source``."""
        if self.source is not None:
            try:
                with open(self.source, "rb") as stream:
                    data = stream.read()
                os.remove(self.source)
            except OSError as err:
                raise IngestError(f"cannot read the decompressed part of {self.file}: {err.strerror or err}") from None
            return data
        if self.span is None:
            return self.data
        start, end = self.span
        try:
            with open(self.file, "rb") as stream:
                stream.seek(start)
                return stream.read(end - start)
        except OSError as err:
            raise IngestError(f"cannot read {self.file}: {err.strerror or err}") from None


def open_log(path: Path) -> gzip.GzipFile | BinaryIO:
    """A binary stream over ``path``, gunzipped when the file starts with the gzip magic bytes."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 (closed by the caller through the returned stream)
    except OSError as err:
        raise IngestError(f"cannot read {path}: {err.strerror or err}") from None
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb")
    raw.seek(0)
    return raw


def is_gzip(path: Path) -> bool:
    """Whether ``path`` starts with the gzip magic bytes."""
    try:
        with open(path, "rb") as stream:
            return stream.read(2) == b"\x1f\x8b"
    except OSError as err:
        raise IngestError(f"cannot read {path}: {err.strerror or err}") from None


def spans(path: Path, *, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """Chunks of a plain file as byte ranges cut after a newline (``first_line`` 0: not counted here)."""
    name = str(path)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as stream:
            start = 0
            while start < size:
                end = min(start + chunk_bytes, size)
                if end < size:  # run on to just after the first newline at or after byte end - 1
                    at = end - 1
                    stream.seek(at)
                    end = size
                    while block := stream.read(1 << 16):
                        cut = block.find(NEWLINE)
                        if cut >= 0:
                            end = at + cut + 1
                            break
                        at += len(block)
                yield Chunk(name, 0, b"", span=(start, end), position=end)
                start = end
    except OSError as err:
        raise IngestError(f"cannot read {path}: {err.strerror or err}") from None


def read_chunks(
    path: Path, *, chunk_bytes: int = CHUNK_BYTES, position: Callable[[int], None] | None = None
) -> Iterator[Chunk]:
    """Yield ``path``'s lines in chunks of about ``chunk_bytes``; ``position`` gets the bytes read on disk so far.

    Memory stays at about one chunk however large the file is.
    """
    name = str(path)
    stream = open_log(path)
    # a GzipFile's fileobj is typed as any readable-or-writable object: here it is the file open_log opened
    raw = cast(BinaryIO, stream.fileobj) if isinstance(stream, gzip.GzipFile) else stream
    line = 1
    tail = b""
    try:
        while True:
            try:
                block = stream.read(chunk_bytes)
            except (OSError, EOFError, zlib.error) as err:
                done = line + tail.count(NEWLINE)
                raise IngestError(f"{name}: cannot read past line {done}: {err or 'truncated gzip file'}") from None
            if not block:
                break
            block = tail + block
            cut = block.rfind(b"\n")
            if cut < 0:
                tail = block
                continue
            data, tail = block[: cut + 1], block[cut + 1 :]
            yield Chunk(name, line, data, position=raw.tell())
            line += data.count(b"\n")
            if position is not None:
                position(raw.tell())
        if tail:
            yield Chunk(name, line, tail + b"\n", position=raw.tell())
    finally:
        stream.close()
        if raw is not stream:
            raw.close()


def file_size(path: Path) -> int:
    """Bytes on disk, or an IngestError naming the path."""
    try:
        if not path.is_file():
            raise IngestError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
        return os.path.getsize(path)
    except OSError as err:
        raise IngestError(f"cannot read {path}: {err.strerror or err}") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_record(record: Any) -> str | None:
    """Why a parsed line cannot be imported, or None when its envelope is sound.

    Only the envelope is checked here (type, distinct_id, time, event, properties);
    property types are checked where they are mapped to columns.

    >>> check_record({"type": "track", "event": "login", "distinct_id": "u1", "time": 1767225600000})
    >>> check_record({"type": "track", "distinct_id": "u1", "time": 1767225600000})
    'missing required field event'
    """
    if not isinstance(record, dict):
        return f"a line must be a JSON object, got {type(record).__name__}"
    kind = record.get("type")
    if kind is None:
        return "missing required field type"
    if kind not in EVENT_TYPES and kind not in PROFILE_TYPES:
        return f"unsupported record type {str(kind)[:40]!r}"
    distinct_id = record.get("distinct_id")
    if distinct_id is None or distinct_id == "":
        return "missing required field distinct_id"
    if not isinstance(distinct_id, str):
        return f"distinct_id must be a string, got {_json_type(distinct_id)}"
    time_ms = record.get("time")
    if time_ms is None:
        return "missing required field time"
    if not _is_int(time_ms):
        return f"time must be epoch milliseconds (an integer), got {_json_type(time_ms)}"
    if not MIN_TIME_MS <= time_ms < MAX_TIME_MS:
        return f"time {time_ms} is not epoch milliseconds between 2000 and 2100"
    properties = record.get("properties")
    if properties is not None and not isinstance(properties, dict):
        return f"properties must be a JSON object, got {_json_type(properties)}"
    if kind in EVENT_TYPES:
        event = record.get("event")
        if event is None or event == "":
            return "missing required field event"
        if not isinstance(event, str):
            return f"event must be a string, got {_json_type(event)}"
        if kind == "track_signup" or event == "$SignUp":
            original = record.get("original_id")
            if kind == "track_signup" and (original is None or original == ""):
                return "track_signup without original_id"
            if original is not None and not isinstance(original, str):
                return f"original_id must be a string, got {_json_type(original)}"
    elif kind != "profile_delete" and not properties:
        return f"{kind} without properties"
    identities = record.get("identities")
    if identities is not None and not (
        isinstance(identities, dict) and all(isinstance(v, str) for v in identities.values())
    ):
        return "identities must be an object of strings"
    return None


def _json_type(value: Any) -> str:
    """The JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


json_type = _json_type
