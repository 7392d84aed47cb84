"""Mapping Sensors records to the ``events`` columns, and a chunk of lines to an Arrow table.

Preset properties (``$os``, ``$model``, ``$screen_name``, ``$utm_source``, ...) and custom
properties named like a column (``amount``, ``is_success``, ``product_id``, ...) fill the
schema's columns; whatever is not used for a column stays in ``properties``, so nothing
is lost. :func:`parse_chunk` is the unit of work a worker process runs: it touches no
warehouse and no shared state, so chunks can be parsed in parallel.

Platform rule (Sensors ``$lib`` names the SDK, ``$os`` the device's system):

1. a custom ``platform`` property with one of the schema's values wins;
2. ``$lib`` ``iOS`` → iOS, ``Android`` → Android, ``MiniProgram`` (and the other
   mini-program SDKs, ``$lib`` starting with ``Mini``) → MiniProgram;
3. ``$lib`` ``js`` (the web SDK) → H5 when ``$os`` is iOS or Android (a mobile browser or
   web view), else Web;
4. server SDKs (python, java, ...): ``$os`` iOS / Android when sent, else NULL.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingest.schema import EVENTS_COLUMNS, arrow_schema
from ingest.sensors_read import EVENT_TYPES, Chunk, Reject, check_record, json_type
from ingest.sensors_users import check_profile

# column -> property names to take it from, first present wins.
STRING_SOURCES: dict[str, tuple[str, ...]] = {
    "app_version": ("$app_version", "app_version"),
    "device_model": ("$model", "device_model"),
    "province": ("$province", "province"),
    "city": ("$city", "city"),
    "page": ("$screen_name", "page"),
    "element": ("$element_content", "element"),
    "utm_source": ("$utm_source", "utm_source"),
    "utm_medium": ("$utm_medium", "utm_medium"),
    "utm_campaign": ("$utm_campaign", "utm_campaign"),
    "utm_content": ("$utm_content", "utm_content"),
    "utm_term": ("$utm_term", "utm_term"),
    "product_type": ("product_type",),
    "product_id": ("product_id",),
    "fail_reason": ("fail_reason",),
    "business_line": ("business_line",),
}
NUMBER_SOURCES: dict[str, tuple[str, ...]] = {"amount": ("amount",), "duration": ("$event_duration", "duration")}
BOOL_SOURCES: dict[str, tuple[str, ...]] = {"is_success": ("is_success",)}
PLATFORMS = ("iOS", "Android", "Web", "H5", "MiniProgram")
# Kept in step with metrics/tracking_plan.yml (a test compares them).
BUSINESS_LINE_PREFIXES: tuple[tuple[str, str], ...] = (
    ("P2P_", "p2p"), ("forex_", "forex"), ("stock_", "stock"), ("life_", "life"),
)
DEFAULT_BUSINESS_LINE = "platform"
_COLUMNS = [name for name, _, _ in EVENTS_COLUMNS]
_MAPPED = [*STRING_SOURCES, *NUMBER_SOURCES, *BOOL_SOURCES]
_BUSINESS_LINE = _MAPPED.index("business_line")
ROW_COLUMNS = ["event_id", "event_time", "event", "user_id", "distinct_id", "platform", "properties", *_MAPPED]
# property name -> (column, priority, Python type); built once from the tables above.
_SOURCE_OF: dict[str, tuple[str, int, type]] = {
    source: (column, priority, kind)
    for table, kind in ((STRING_SOURCES, str), (NUMBER_SOURCES, float), (BOOL_SOURCES, bool))
    for column, sources in table.items()
    for priority, source in enumerate(sources)
}
_EXPECTED = {str: "a string", float: "a number", bool: "true or false"}
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass
class ChunkResult:
    """What one chunk yields: event rows (``user_id`` still the distinct_id), and the rest in order."""

    file: str
    lines: int = 0
    events: pa.Table | None = None
    rejects: list[tuple[str, int, str, str]] = field(default_factory=list)
    bindings: list[tuple[str, str]] = field(default_factory=list)   # (other id, login id)
    profiles: list[tuple[str, str, int, dict[str, Any], str]] = field(default_factory=list)  # (type, id, ms, props, key)


def platform_of(props: dict[str, Any]) -> str | None:
    """The schema's platform for an event's properties, by the rule in the module docstring.

    >>> platform_of({"$lib": "js", "$os": "Android"}), platform_of({"$lib": "js", "$os": "Windows"})
    ('H5', 'Web')
    """
    explicit = props.get("platform")
    if explicit in PLATFORMS:
        return explicit
    lib = props.get("$lib")
    os_ = props.get("$os")
    if lib in ("iOS", "Android"):
        return lib
    if isinstance(lib, str) and lib.startswith("Mini"):
        return "MiniProgram"
    if lib == "js":
        return "H5" if os_ in ("iOS", "Android") else "Web"
    return os_ if os_ in ("iOS", "Android") else None


def business_line_of(event: str) -> str:
    """The business line an event's name implies: its prefix, else ``platform``.

    >>> business_line_of("P2P_invest"), business_line_of("bind_card")
    ('p2p', 'platform')
    """
    for prefix, line in BUSINESS_LINE_PREFIXES:
        if event.startswith(prefix):
            return line
    return DEFAULT_BUSINESS_LINE


def event_id_of(record: dict[str, Any], raw: bytes) -> str:
    """The dedupe key: the SDK's ``_track_id`` (with time and distinct_id, ``t:``), else a content hash (``h:``).

    ``_track_id`` is a random 32-bit number per event, so alone it would collide
    across users at scale; with the event's millisecond and distinct_id it does not.
    The content hash is over the line as written (SDKs write compact, stable JSON).
    """
    track_id = record.get("_track_id")
    if isinstance(track_id, (int, str)) and not isinstance(track_id, bool) and track_id != "":
        return f"t:{track_id}:{record['time']}:{record['distinct_id']}"
    return "h:" + hashlib.blake2b(raw, digest_size=16).hexdigest()


def map_event(record: dict[str, Any], raw: bytes) -> tuple[Any, ...]:
    """One track record as a row in ``ROW_COLUMNS`` order; raises Reject on a wrong property type.

    One pass over the properties (this loop is the importer's hot path): a key that
    feeds a column is type-checked and taken, the first source in priority order
    winning; every other key stays in ``properties``.
    """
    props = record.get("properties") or {}
    rest: dict[str, Any] = {}
    taken: dict[str, tuple[int, Any, str]] = {}
    for key, value in props.items():
        target = _SOURCE_OF.get(key)
        if target is None or value is None:
            rest[key] = value
            continue
        column, priority, kind = target
        kind_of = type(value)
        if not (kind_of is kind or (kind is float and kind_of is int)):
            raise Reject(f"property {key!r} (column {column}) must be {_EXPECTED[kind]}, got {json_type(value)}")
        held = taken.get(column)
        if held is None or priority < held[0]:
            if held is not None:
                rest[held[2]] = held[1]
            taken[column] = (priority, value, key)
        else:
            rest[key] = value
    event = record["event"]
    platform = platform_of(props)
    if platform is not None and rest.get("platform") == platform:
        del rest["platform"]
    values = [taken[c][1] if c in taken else None for c in _MAPPED]
    if values[_BUSINESS_LINE] is None:
        values[_BUSINESS_LINE] = business_line_of(event)
    distinct_id = record["distinct_id"]
    return (event_id_of(record, raw), record["time"], event, distinct_id, distinct_id, platform,
            _dumps(rest), *values)


def bindings_of(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(other id, login id) pairs a record states: signup, ``$is_login_id`` with ``anonymous_id``, ``identities``."""
    pairs: list[tuple[str, str]] = []
    distinct_id = record["distinct_id"]
    original = record.get("original_id")
    if original and (record["type"] == "track_signup" or record.get("event") == "$SignUp"):
        pairs.append((original, distinct_id))
    props = record.get("properties") or {}
    login = record.get("login_id") or (distinct_id if props.get("$is_login_id") is True else None)
    identities = record.get("identities") or {}
    login = identities.get("$identity_login_id") or login
    if isinstance(login, str) and login:
        for other in (record.get("anonymous_id"), distinct_id, *identities.values()):
            if isinstance(other, str) and other and other != login:
                pairs.append((other, login))
    return pairs


def parse_chunk(chunk: Chunk, time_zone: str) -> ChunkResult:
    """Parse, check and map every line of ``chunk``; bad lines become rejects, never exceptions."""
    result = ChunkResult(chunk.file)
    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    loads = json.loads
    lines = chunk.data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    result.lines = len(lines)
    for offset, raw in enumerate(lines):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        try:
            record = loads(raw)
        except ValueError as err:
            _reject(result, chunk, offset, raw, f"not valid JSON: {str(err).split(':')[0]}")
            continue
        reason = check_record(record)
        if reason is not None:
            _reject(result, chunk, offset, raw, reason)
            continue
        try:
            if record["type"] in EVENT_TYPES:
                row = map_event(record, raw)
                if row[0] in seen:  # the same event twice in one chunk
                    continue
                seen.add(row[0])
                rows.append(row)
            else:
                check_profile(record["type"], record.get("properties") or {})
                result.profiles.append((record["type"], record["distinct_id"], record["time"],
                                        record.get("properties") or {}, event_id_of(record, raw)))
        except Reject as err:
            _reject(result, chunk, offset, raw, str(err))
            continue
        result.bindings.extend(bindings_of(record))
    result.events = _to_arrow(rows, time_zone)
    return result


def _reject(result: ChunkResult, chunk: Chunk, offset: int, raw: bytes, reason: str) -> None:
    result.rejects.append((chunk.file, chunk.first_line + offset, raw.decode("utf-8", "replace"), reason))


def _to_arrow(rows: list[tuple[Any, ...]], time_zone: str) -> pa.Table:
    """Rows to an ``events``-shaped table; epoch ms become local wall-clock time in ``time_zone``."""
    schema = arrow_schema("events")
    columns = dict(zip(ROW_COLUMNS, zip(*rows))) if rows else {name: () for name in ROW_COLUMNS}
    arrays = []
    for name in schema.names:
        if name == "event_time":
            utc = pa.array(columns[name], pa.int64()).cast(pa.timestamp("ms", tz=time_zone))
            arrays.append(pc.local_timestamp(utc).cast(pa.timestamp("us")))
        else:
            arrays.append(pa.array(columns[name], schema.field(name).type))
    return pa.Table.from_arrays(arrays, schema=schema)
