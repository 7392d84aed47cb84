"""Storing parsed chunks: the part of the Sensors import that the file importer and the collector share.

A :class:`ChunkWriter` takes :class:`~ingest.sensors_parse.ChunkResult` objects in log
order: each chunk's identity bindings are learned, and its events' ``user_id`` resolved,
as it arrives (as if written at once); its rejects and profile operations are written
then too; events are appended in batches of ``batch_rows`` (de-duplicated against the
warehouse). ``start_file`` names the source the next chunks' line numbers belong to: a log
file, or one batch the collector received.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import Warehouse
from ingest.loads import appended
from ingest.schema import EVENTS_TABLE
from ingest.sensors_identity import IdentityMap
from ingest.sensors_parse import ChunkResult
from ingest.sensors_users import ProfileWriter
from ingest.sensors_write import append_new_events, append_rejects, stored_reject_lines

# Events per append: ~2 DuckDB row groups, so each checkpoint writes mostly whole row groups.
BATCH_ROWS = 240_000


class ChunkWriter:
    """Stores parsed chunks in order; counts what they brought in ``counts`` (lines, events, duplicates, rejects)."""

    def __init__(
        self,
        warehouse: Warehouse,
        identities: IdentityMap,
        profiles: ProfileWriter,
        flush: Callable[[], None] = lambda: None,
        batch_rows: int = BATCH_ROWS,
    ):
        self.warehouse, self.identities, self.profiles = warehouse, identities, profiles
        self.flush, self.batch_rows = flush, batch_rows
        self.counts = Counter[str]()
        self.touched: set[str] = set()  # users with new events: their touch channels are recomputed (ingest/touch.py)
        self.pending: list[pa.Table] = []
        self.rows = 0
        self.file = ""
        self.line = 1  # the line of the current file the next chunk starts at
        self._known: dict[str, set[int]] = {}  # reject lines already stored, per file (asked for when needed)

    def start_file(self, name: str) -> None:
        """The next chunks are ``name``'s, numbered from its line 1 (their rejects may name other files)."""
        self.file, self.line = name, 1

    def add(self, result: ChunkResult) -> None:
        self.identities.learn(result.bindings)
        events = result.events
        if events is not None and events.num_rows:
            position = events.schema.get_field_index("user_id")
            user_ids = self.identities.resolve(events.column("distinct_id").combine_chunks())
            self.touched.update(u for u in pc.unique(user_ids).to_pylist() if u is not None)
            self.pending.append(events.set_column(position, "user_id", user_ids))
            self.rows += events.num_rows
        shift = self.line - 1
        rejects = [(file, line + shift, raw, reason) for file, line, raw, reason in result.rejects]
        fresh = []
        for reject in rejects:
            known = self._known.get(reject[0])
            if known is None:  # asked once per file, and only when it has rejects
                known = self._known[reject[0]] = stored_reject_lines(self.warehouse, reject[0])
            if reject[1] not in known:
                known.add(reject[1])
                fresh.append(reject)
        append_rejects(self.warehouse, fresh, datetime.now().replace(microsecond=0))
        counts = self.counts
        counts["rejects"] += len(rejects)
        counts.update(f"reason:{reason_kind(r[3])}" for r in rejects)
        counts["lines"] += result.lines
        counts["duplicates"] += result.repeated
        self.line += result.lines
        self.profiles.add(result.profiles)
        if self.rows >= self.batch_rows:
            self.write()

    def write(self) -> None:
        """Append the pending events (without the ones already stored) and flush."""
        if self.pending:
            appended_rows, dupes = append_new_events(self.warehouse, pa.concat_tables(self.pending))
            self.counts["events"] += appended_rows.num_rows
            self.counts["duplicates"] += dupes
            self.pending, self.rows = [], 0
            if appended_rows.num_rows:
                appended(self.warehouse, EVENTS_TABLE, appended_rows)
        self.flush()


def reason_kind(reason: str) -> str:
    """A reason without its details, to count rejects by kind (``not valid JSON``, ``missing required field time``)."""
    return reason.split(":")[0].split(" got ")[0].rstrip(",")
