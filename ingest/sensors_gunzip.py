"""Decompress a gzip log in a reader process, so the importing process does no decompression.

A deflate stream can only be decompressed in order, so one process has to do it; doing it in
the importing process (which also appends to the warehouse) made gzip logs ~18% slower than
plain ones. Here a spawned reader process decompresses the file with :func:`read_chunks`
(same cuts at newlines, same errors) and writes each chunk to its own file in a private
temporary folder; the importing process hands the parsing workers only the chunk's path
(:attr:`Chunk.source`), and the worker that reads a chunk removes its file. The reader stays
at most ``AHEAD_FILES`` chunks ahead of the importer, so the folder holds at most the chunks in
flight plus those: bounded like the memory of a plain import. The folder is removed when the
file is done, whatever happened.
"""

from __future__ import annotations

import multiprocessing
import queue
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from pathlib import Path

from finlens_common.errors import IngestError
from ingest.sensors_read import Chunk, read_chunks

# Decompressed chunks the reader may have written that the importer has not yet taken.
AHEAD_FILES = 2
# How often (seconds) the importer checks that a silent reader is still alive.
POLL_SECONDS = 5.0


def _decompress(path: str, chunk_bytes: int, folder: str, out: multiprocessing.Queue) -> None:
    """The reader process: each chunk to ``folder/<n>.part``, then ``(path, position)`` on ``out``;
    ``None`` at the end, or the IngestError's message when the file cannot be read."""
    try:
        for number, chunk in enumerate(read_chunks(Path(path), chunk_bytes=chunk_bytes)):
            part = Path(folder) / f"{number}.part"
            part.write_bytes(chunk.data)
            out.put((str(part), chunk.position))
    except IngestError as err:
        out.put(str(err))
        return
    except OSError as err:
        out.put(f"cannot decompress {path}: {err.strerror or err}")
        return
    out.put(None)


@contextmanager
def gunzipped_chunks(path: Path, name: str, chunk_bytes: int) -> Iterator[Iterator[Chunk]]:
    """``path``'s chunks (lines numbered from 1 each), decompressed by a reader process.

    The chunk files live until the ``with`` block ends: parse every chunk inside it. Iterating
    raises IngestError when the file is truncated or not gzip past its magic bytes (the reader's message).
    """
    context = multiprocessing.get_context("spawn")
    folder = tempfile.mkdtemp(prefix="finlens-gunzip-")
    out: multiprocessing.Queue = context.Queue(maxsize=AHEAD_FILES)
    reader = context.Process(target=_decompress, args=(str(path), chunk_bytes, folder, out), daemon=True)
    reader.start()
    try:
        yield _received(name, out, reader)
    finally:
        reader.join(timeout=1)  # done, or stopped early: then it may wait to hand over a chunk
        if reader.is_alive():
            reader.terminate()
            reader.join()
        out.close()
        shutil.rmtree(folder, ignore_errors=True)


def _received(name: str, out: multiprocessing.Queue, reader: BaseProcess) -> Iterator[Chunk]:
    while True:
        try:
            item = out.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if not reader.is_alive():
                raise IngestError(f"{name}: the decompressing process stopped (exit code {reader.exitcode})") from None
            continue
        if item is None:
            break
        if isinstance(item, str):
            raise IngestError(item)
        part, position = item
        yield Chunk(name, 1, b"", position=position, source=part)
