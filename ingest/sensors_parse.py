"""A chunk of SDK log lines → checked, mapped rows: the unit of work a worker process runs.

:func:`parse_chunk` touches no warehouse and no shared state, so chunks can be parsed
in parallel. Most lines of a log are plain ``track`` records; :func:`plain_track` maps
those in one pass with the fewest lookups (this is the importer's hot path) and hands
anything else (signups, ID bindings, ``login_id`` / ``identities``, profiles, wrong types,
bad lines) to the general path: ``check_record``, ``map_event``, ``bindings_of``. Both
give the same row for the lines :func:`plain_track` accepts (a test compares them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ingest.schema import arrow_schema
from ingest.sensors_columns import (
    _BUSINESS_LINE,
    _MAPPED,
    _PREFIXES,
    _SLOT_OF,
    _SOURCE_KEYS,
    BUSINESS_LINE_PREFIXES,
    DEFAULT_BUSINESS_LINE,
    PLATFORMS,
    ROW_COLUMNS,
    _fast_dumps,
    _json_dumps,
    bindings_of,
    event_id_of,
    loads,
    map_event,
)
from ingest.sensors_read import EVENT_TYPES, MAX_TIME_MS, MIN_TIME_MS, Chunk, Reject, check_record
from ingest.sensors_users import check_profile

_MOBILE = ("iOS", "Android")
_BIG = 2.0**63  # orjson turns integers from here on (beyond 64 bits) into floats
Row = tuple[Any, ...]


@dataclass
class ChunkResult:
    """What one chunk yields: event rows (``user_id`` still the distinct_id), and the rest in order."""

    file: str
    lines: int = 0
    events: pa.Table | None = None
    rejects: list[tuple[str, int, str, str]] = field(default_factory=list)
    bindings: list[tuple[str, str]] = field(default_factory=list)  # (other id, login id)
    # (type, distinct_id, ms, properties, record key)
    profiles: list[tuple[str, str, int, dict[str, Any], str]] = field(default_factory=list)
    repeated: int = 0  # events skipped because the same event_id came earlier in this chunk


def plain_track(
    record: Any, raw: bytes, dumps: Callable[[dict[str, Any]], str]
) -> tuple[Row, list[tuple[str, str]]] | None:
    """The row and bindings of a plain ``track`` record, or None when the record needs the general path.

    Plain: a ``track`` (not ``$SignUp``) with a non-empty string ``event`` and
    ``distinct_id``, an integer ``time`` in range, a ``properties`` object, no ``login_id``
    or ``identities``, every column property of the right type and at most one source
    per column set. Such a record passes ``check_record`` and gets exactly the row of
    ``map_event`` and the pairs of ``bindings_of`` (``$is_login_id`` with ``anonymous_id``).
    """
    if type(record) is not dict:
        return None
    get = record.get
    if get("type") != "track" or "login_id" in record or get("identities") is not None:
        return None
    event, distinct_id, time_ms, props = get("event"), get("distinct_id"), get("time"), get("properties")
    if (
        type(event) is not str
        or not event
        or event == "$SignUp"
        or type(distinct_id) is not str
        or not distinct_id
        or type(time_ms) is not int
        or not MIN_TIME_MS <= time_ms < MAX_TIME_MS
        or type(props) is not dict
    ):
        return None
    rest = dict(props)
    values: list[Any] = [None] * len(_MAPPED)
    for key in _SOURCE_KEYS.intersection(props):
        value = props[key]
        if value is None:
            continue
        index, kind = _SLOT_OF[key]
        kind_of = type(value)
        if (
            not (kind_of is kind or (kind is float and kind_of is int))
            or values[index] is not None
            or (kind_of is float and not -_BIG < value < _BIG)
        ):
            return None
        values[index] = value
        del rest[key]
    pget = props.get
    explicit, lib, os_ = pget("platform"), pget("$lib"), pget("$os")
    if explicit in PLATFORMS:
        platform = explicit
    elif lib in _MOBILE:
        platform = lib
    elif type(lib) is str and lib.startswith("Mini"):
        platform = "MiniProgram"
    elif lib == "js":
        platform = "H5" if os_ in _MOBILE else "Web"
    else:
        platform = os_ if os_ in _MOBILE else None
    if platform is not None and rest.get("platform") == platform:
        del rest["platform"]
    if values[_BUSINESS_LINE] is None:
        values[_BUSINESS_LINE] = DEFAULT_BUSINESS_LINE
        if event.startswith(_PREFIXES):
            values[_BUSINESS_LINE] = next(line for prefix, line in BUSINESS_LINE_PREFIXES if event.startswith(prefix))
    track_id = get("_track_id")
    kind_of = type(track_id)
    if (kind_of is int or kind_of is str) and track_id != "":
        event_id = f"t:{track_id}:{time_ms}:{distinct_id}"
    elif kind_of is float:
        return None
    else:
        event_id = event_id_of(record, raw)
    text = dumps(rest)
    if "e+" in text:  # a float of 1e16 or more: maybe an integer orjson could not hold (see _needs_json)
        return None
    pairs: list[tuple[str, str]] = []
    if pget("$is_login_id") is True:
        anonymous = get("anonymous_id")
        if type(anonymous) is str and anonymous and anonymous != distinct_id:
            pairs.append((anonymous, distinct_id))
    return (event_id, time_ms, event, distinct_id, distinct_id, platform, text, *values), pairs


def _needs_json(record: Any) -> bool:
    """Whether orjson's reading of a record may differ from ``json``'s: it holds a float of 1e16 or more.

    orjson reads an integer beyond 64 bits as a float where ``json`` keeps an int (which
    changes a reject reason, an event id, the spelling in ``properties``); orjson writes
    every float from 1e16 up with ``e+``, so a record without ``e+`` in its text has none.
    """
    return b"e+" in orjson.dumps(record)


def parse_chunk(chunk: Chunk, time_zone: str) -> ChunkResult:
    """Parse, check and map every line of ``chunk``; bad lines become rejects, never exceptions."""
    lines = chunk.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    result = parse_lines(chunk.file, enumerate(lines, chunk.first_line), time_zone)
    result.lines = len(lines)
    return result


def parse_lines(file: str, lines: Iterable[tuple[int, bytes]], time_zone: str) -> ChunkResult:
    """Parse, check and map (line number, line) pairs given in file order."""
    result = ChunkResult(file)
    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for number, raw in lines:
        result.lines += 1
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        try:
            record, dumps = loads(raw)
        except ValueError as err:
            _reject(result, number, raw, f"not valid JSON: {str(err).split(':')[0]}")
            continue
        plain = plain_track(record, raw, dumps) if dumps is _fast_dumps else None
        if plain is not None:
            row, pairs = plain
            if row[0] in seen:
                result.repeated += 1
                continue
            seen.add(row[0])
            rows.append(row)
            if pairs:
                result.bindings.extend(pairs)
            continue
        if dumps is _fast_dumps and _needs_json(record):
            record, dumps = json.loads(raw), _json_dumps
        reason = check_record(record)
        if reason is not None:
            _reject(result, number, raw, reason)
            continue
        try:
            if record["type"] in EVENT_TYPES:
                row = map_event(record, raw, dumps)
                if row[0] in seen:  # the same event twice in one chunk
                    result.repeated += 1
                    continue
                seen.add(row[0])
                rows.append(row)
            else:
                check_profile(record["type"], record.get("properties") or {})
                result.profiles.append(
                    (
                        record["type"],
                        record["distinct_id"],
                        record["time"],
                        record.get("properties") or {},
                        event_id_of(record, raw),
                    )
                )
        except Reject as err:
            _reject(result, number, raw, str(err))
            continue
        result.bindings.extend(bindings_of(record))
    result.events = _to_arrow(rows, time_zone)
    return result


def _reject(result: ChunkResult, number: int, raw: bytes, reason: str) -> None:
    result.rejects.append((result.file, number, raw.decode("utf-8", "replace"), reason))


def _to_arrow(rows: list[tuple[Any, ...]], time_zone: str) -> pa.Table:
    """Rows to an ``events``-shaped table; epoch ms become local wall-clock time in ``time_zone``."""
    schema = arrow_schema("events")
    columns = dict(zip(ROW_COLUMNS, zip(*rows))) if rows else {name: () for name in ROW_COLUMNS}
    arrays = []
    for name in schema.names:
        if name == "event_time":
            utc = pa.array(columns[name], pa.int64()).cast(pa.timestamp("ms", tz=time_zone))
            arrays.append(pc.local_timestamp(utc).cast(pa.timestamp("us")))
        elif name in columns:
            arrays.append(_array(columns[name], schema.field(name).type))
        else:  # computed after the run (ingest/touch.py)
            arrays.append(pa.nulls(len(rows), schema.field(name).type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _array(values: tuple[Any, ...], kind: pa.DataType) -> pa.Array:
    """``pa.array``; a number column may hold an integer beyond 64 bits, which Arrow takes only as a float."""
    try:
        return pa.array(values, kind)
    except (pa.ArrowInvalid, OverflowError):
        if not pa.types.is_floating(kind):
            raise
        return pa.array([float(v) if type(v) is int else v for v in values], kind)
