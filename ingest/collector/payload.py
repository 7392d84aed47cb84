"""What the SDKs send, turned into log lines: the same bytes a file consumer would have written.

Sensors SDKs post ``data`` (one record) or ``data_list`` (a JSON array of records) as a
form field, base64 of gzip when ``gzip=1`` (the Python SDK's DefaultConsumer, BatchConsumer
and AsyncBatchConsumer always do), else base64 of the JSON text. Each record becomes one
line holding exactly its text in the array, so its event id (a hash of the line when the
SDK sends no ``_track_id``) is the one ``finlens import sensors`` gives the same record
from a log file. The JSON-lines endpoint takes lines as they are (``Content-Encoding:
gzip`` allowed).

Every step is bounded before it allocates: the body (the service refuses it past
``max_body_bytes``), the decompressed text (a gzip bomb stops at ``max_text_bytes``), the
number of records, the nesting of the array's elements. A payload that breaks a bound
raises :class:`TooLarge` (answered 413), one that cannot be read :class:`BadPayload` (400).
What is inside a record is the importer's to judge: a bad record becomes a reject.
"""

from __future__ import annotations

import binascii
import json
import re
import zlib
from dataclasses import dataclass
from urllib.parse import parse_qs

import orjson

_DECODER = json.JSONDecoder()
_SPACE = re.compile(rb"[ \t\n\r]*")
_TEXT_SPACE = re.compile(r"[ \t\n\r]*")


class BadPayload(ValueError):
    """The request cannot be read (form, base64, gzip, JSON array); the message says which."""


class TooLarge(ValueError):
    """The request breaks a size bound; the message says which."""


@dataclass(frozen=True)
class Bounds:
    max_body_bytes: int = 5 * 1024 * 1024
    max_text_bytes: int = 32 * 1024 * 1024
    max_records: int = 10_000


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress at most ``limit`` bytes; more is a bomb, not a batch."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        text = inflater.decompress(data, limit + 1)
    except zlib.error as err:
        raise BadPayload(f"gzip=1 but the data is not gzip: {err}") from None
    if len(text) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"decompressed data exceeds {limit:,} bytes")
    if not inflater.eof:
        raise BadPayload("gzip data is truncated")
    return text


def _base64(value: str) -> bytes:
    text = value.strip().replace(" ", "+")  # a '+' that was not form-encoded arrives as a space
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        pass
    try:  # the URL-safe alphabet some web SDKs use
        return binascii.a2b_base64(text.translate(str.maketrans("-_", "+/")).encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BadPayload("data is not valid base64") from None


def _split_objects(text: str, bounds: Bounds) -> list[bytes] | None:
    """The SDKs' own shape, ``[{...},{...}]`` joined by ``,``: cut at ``},{`` and keep the cut only if
    every piece is a JSON object by itself (a cut inside a string or a nested value never is), else None."""
    body = text.strip()
    if not (body.startswith("[{") and body.endswith("}]")):
        return None
    pieces = body[1:-1].split("},{")
    if len(pieces) > bounds.max_records:
        raise TooLarge(f"more than {bounds.max_records:,} records in one request")
    last = len(pieces) - 1
    lines = []
    for i, piece in enumerate(pieces):
        line = ("" if i == 0 else "{") + piece + ("" if i == last else "}")
        try:
            if not isinstance(orjson.loads(line), dict):
                return None
        except orjson.JSONDecodeError:
            return None  # NaN, a cut inside a string, deep nesting...: the careful way decides
        lines.append((line.replace("\n", " ") if "\n" in line else line).encode())
    return lines


def _split_array(text: str, bounds: Bounds) -> list[bytes]:
    """The raw text of each element of a JSON array, in order (one line each)."""
    fast = _split_objects(text, bounds)
    if fast is not None:
        return fast
    position = _TEXT_SPACE.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith("[", position):
        raise BadPayload("data_list is not a JSON array")
    position += 1
    lines: list[bytes] = []
    while True:
        position = _TEXT_SPACE.match(text, position).end()  # type: ignore[union-attr]
        if text.startswith("]", position) and not lines:
            position += 1
            break
        try:
            _, end = _DECODER.raw_decode(text, position)
        except ValueError as err:
            raise BadPayload(f"data_list is not valid JSON: {str(err).split(':')[0]}") from None
        except RecursionError:
            raise BadPayload("data_list is nested too deeply") from None
        if len(lines) >= bounds.max_records:
            raise TooLarge(f"more than {bounds.max_records:,} records in one request")
        lines.append(text[position:end].replace("\n", " ").encode())
        position = _TEXT_SPACE.match(text, end).end()  # type: ignore[union-attr]
        if text.startswith(",", position):
            position += 1
        elif text.startswith("]", position):
            position += 1
            break
        else:
            raise BadPayload("data_list is not valid JSON: expected ',' or ']'")
    if _TEXT_SPACE.match(text, position).end() != len(text):  # type: ignore[union-attr]
        raise BadPayload("data_list has text after the array")
    return lines


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPayload("data is not UTF-8") from None


def sensors_form(body: bytes, query: str, bounds: Bounds) -> list[bytes]:
    """The lines of a Sensors SDK request: form fields from the body (POST) or the query string (GET)."""
    try:
        fields = parse_qs(body.decode("ascii") if body else query, max_num_fields=8, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise BadPayload("the body is not a form (application/x-www-form-urlencoded)") from None
    single, many = fields.get("data"), fields.get("data_list")
    if bool(single) == bool(many):
        raise BadPayload("send exactly one of the form fields data or data_list")
    raw = _base64((single or many or [""])[0])
    gzip = (fields.get("gzip") or ["0"])[0].strip()
    if gzip not in ("0", "1"):
        raise BadPayload("gzip must be 0 or 1")
    if gzip == "1":
        raw = _gunzip(raw, bounds.max_text_bytes)
    elif len(raw) > bounds.max_text_bytes:
        raise TooLarge(f"data exceeds {bounds.max_text_bytes:,} bytes")
    if single:
        line = raw.strip()
        if b"\n" in line:
            line = line.replace(b"\n", b" ")
        return [line] if line else []
    return _split_array(_text(raw), bounds)


def json_lines(body: bytes, content_encoding: str, bounds: Bounds) -> list[bytes]:
    """The lines of a JSON-lines batch (gzip when ``Content-Encoding: gzip``); blank lines are skipped."""
    if content_encoding.strip().lower() == "gzip":
        body = _gunzip(body, bounds.max_text_bytes)
    elif content_encoding.strip() not in ("", "identity"):
        raise BadPayload(f"Content-Encoding {content_encoding!r} is not supported (gzip or none)")
    lines = [line for line in (raw.rstrip(b"\r") for raw in body.split(b"\n")) if _SPACE.fullmatch(line) is None]
    if len(lines) > bounds.max_records:
        raise TooLarge(f"more than {bounds.max_records:,} records in one request")
    return lines
