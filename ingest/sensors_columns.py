"""Mapping Sensors records to the ``events`` columns, and a chunk of lines to an Arrow table.

Preset properties (``$os``, ``$model``, ``$screen_name``, ``$utm_source``, ...) and custom
properties named like a column (``amount``, ``is_success``, ``product_id``, ...) fill the
schema's columns; whatever is not used for a column stays in ``properties``, so nothing
is lost. ``ingest.sensors_parse`` applies these rules to whole chunks of lines.

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
import math
from collections.abc import Callable
from typing import Any

import orjson

from ingest.schema import EVENTS_COLUMNS
from ingest.sensors_read import Reject, json_type

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
    "latest_utm_source": ("$latest_utm_source", "latest_utm_source"),
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
    ("P2P_", "p2p"),
    ("forex_", "forex"),
    ("stock_", "stock"),
    ("life_", "life"),
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
_SOURCE_KEYS = frozenset(_SOURCE_OF)
_SLOT_OF = {source: (_MAPPED.index(column), kind) for source, (column, _, kind) in _SOURCE_OF.items()}
_PREFIXES = tuple(prefix for prefix, _ in BUSINESS_LINE_PREFIXES)
_EXPECTED = {str: "a string", float: "a number", bool: "true or false"}
_json_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _fast_dumps(value: dict[str, Any]) -> str:
    """Compact JSON text of ``properties`` parsed by orjson: the same text as ``json.dumps``.

    The one spelling orjson writes differently is a small float's exponent (``1e-7`` for
    Python's ``1e-07``): text with ``e-`` in it (such floats, or words like ``e-mail``) is
    written by ``json`` instead.
    """
    try:
        text = orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _json_dumps(value)
    return _json_dumps(value) if "e-" in text else text


MAX_DEPTH = 1024  # orjson's limit; a record nested deeper is rejected


def loads(raw: bytes) -> tuple[Any, Callable[[dict[str, Any]], str]]:
    """The parsed line and the writer for its ``properties``: orjson (3-4x faster) when it accepts the line.

    orjson reads strict RFC 8259 JSON into the same values as ``json``; whatever it
    refuses (NaN, integers beyond 64 bits, a byte-order mark, bad UTF-8, invalid JSON)
    is left to ``json.loads``, which decides as before and gives the reject message,
    and such a record is written back with ``json`` too (NaN stays NaN).
    """
    try:
        return orjson.loads(raw), _fast_dumps
    except orjson.JSONDecodeError as err:
        if str(err).startswith("depth limit"):  # json would recurse until Python's own limit, and crash
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels: {err}") from None
        return json.loads(raw), _json_dumps


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
    if not event.startswith(_PREFIXES):
        return DEFAULT_BUSINESS_LINE
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


def map_event(
    record: dict[str, Any], raw: bytes, dumps: Callable[[dict[str, Any]], str] = _json_dumps
) -> tuple[Any, ...]:
    """One track record as a row in ``ROW_COLUMNS`` order; raises Reject on a wrong property type.

    The importer's hot path: only the keys that feed a column are looked at (a C-level
    set intersection finds them), the rest is copied as is. When a value has the wrong
    type, or two sources of one column are both set, :func:`map_event_ordered` does the
    work, so the reject message and the key order of ``properties`` stay exactly its own.
    """
    props = record.get("properties") or {}
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
            or (kind_of is float and not math.isfinite(value))
        ):
            return map_event_ordered(record, raw, dumps)
        values[index] = value
        del rest[key]
    event = record["event"]
    platform = platform_of(props)
    if platform is not None and rest.get("platform") == platform:
        del rest["platform"]
    if values[_BUSINESS_LINE] is None:
        values[_BUSINESS_LINE] = business_line_of(event)
    distinct_id = record["distinct_id"]
    return (event_id_of(record, raw), record["time"], event, distinct_id, distinct_id, platform, dumps(rest), *values)


def map_event_ordered(
    record: dict[str, Any], raw: bytes, dumps: Callable[[dict[str, Any]], str] = _json_dumps
) -> tuple[Any, ...]:
    """:func:`map_event` as one pass over the properties in order: the reference for its rare cases.

    A key that feeds a column is type-checked (the first wrong one is the reject
    reason) and taken, the first source in priority order winning; a displaced source
    goes back to ``properties`` where its winner stood; every other key stays.
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
        if kind_of is float and not math.isfinite(value):  # json reads NaN and Infinity; no amount is either
            raise Reject(f"property {key!r} (column {column}) must be a finite number, got {value}")
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
    return (event_id_of(record, raw), record["time"], event, distinct_id, distinct_id, platform, dumps(rest), *values)


def bindings_of(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(other id, login id) pairs a record states: signup, ``$is_login_id`` with ``anonymous_id``, ``identities``."""
    pairs: list[tuple[str, str]] = []
    distinct_id = record["distinct_id"]
    original = record.get("original_id")
    if (
        isinstance(original, str)
        and original
        and (record["type"] == "track_signup" or record.get("event") == "$SignUp")
    ):
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
