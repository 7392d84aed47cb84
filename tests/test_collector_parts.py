"""The collector's parts alone: cutting the SDKs' arrays into lines, and the spool across a torn write."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import urlencode

import pytest

from ingest.collector.payload import BadPayload, Bounds, TooLarge, json_lines, sensors_form
from ingest.collector.spool import Position, Spool, encode

BOUNDS = Bounds(max_body_bytes=1 << 20, max_text_bytes=1 << 20, max_records=10)


def form_of(text: str) -> bytes:
    return urlencode({"data_list": base64.b64encode(gzip.compress(text.encode())), "gzip": 1}).encode()


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        # the SDK's own joins: cut at "},{"
        ('[{"a":1},{"b":2}]', ['{"a":1}', '{"b":2}']),
        # "},{" inside a string and inside a nested list: the pieces would not be objects, so the careful way cuts
        ('[{"s":"x},{y"},{"b":[{"c":1},{"d":2}]}]', ['{"s":"x},{y"}', '{"b":[{"c":1},{"d":2}]}']),
        # spaces and new lines between elements, NaN (orjson refuses it): still each element's own text
        ('[ {"a": NaN} ,\n {"b":\n2} ]', ['{"a": NaN}', '{"b": 2}']),
        # not every element is an object: kept as a line, the importer rejects it with its reason
        ('[{"a":1}, 5, "x"]', ['{"a":1}', "5", '"x"']),
        ("[]", []),
    ],
)
def test_a_data_list_becomes_the_text_of_each_element(text, lines):
    assert sensors_form(form_of(text), "", BOUNDS) == [line.encode() for line in lines]


def test_one_record_in_data_and_plain_base64():
    record = json.dumps({"type": "track", "event": "e"})
    body = urlencode({"data": base64.b64encode(record.encode()), "gzip": 0}).encode()
    assert sensors_form(body, "", BOUNDS) == [record.encode()]
    query = urlencode({"data": base64.urlsafe_b64encode(gzip.compress(record.encode())).decode(), "gzip": 1})
    assert sensors_form(b"", query, BOUNDS) == [record.encode()]  # GET, the URL-safe alphabet


def test_bounds_and_broken_arrays():
    with pytest.raises(TooLarge, match="more than 10 records"):
        sensors_form(form_of("[" + ",".join(["{}"] * 11) + "]"), "", BOUNDS)
    with pytest.raises(TooLarge, match="more than 10 records"):
        sensors_form(form_of("[" + ",".join(["1"] * 11) + "]"), "", BOUNDS)
    with pytest.raises(BadPayload, match="expected ',' or ']'"):
        sensors_form(form_of('[{"a":1} {"b":2}]'), "", BOUNDS)
    with pytest.raises(BadPayload, match="not valid JSON"):
        sensors_form(form_of('[{"a":1},]'), "", BOUNDS)
    with pytest.raises(TooLarge, match="decompressed data exceeds"):
        json_lines(gzip.compress(b"x" * (2 << 20)), "gzip", BOUNDS)
    assert json_lines(b'{"a":1}\r\n\n  \n{"b":2}', "", BOUNDS) == [b'{"a":1}', b'{"b":2}']


def test_the_spool_cuts_a_torn_tail_and_resumes_from_its_checkpoint(tmp_path):
    spool = Spool(tmp_path)
    for n in range(3):
        spool.append(encode(f"batch{n}", 1.0 + n, "default", [f'{{"n":{n}}}'.encode(), b'{"x":1}']))
    first = spool.read(Position(1, 0), 10, 1 << 20)
    assert [r.batch for r in first] == ["batch0", "batch1", "batch2"] and first[1].lines == [b'{"n":1}', b'{"x":1}']
    spool.save_checkpoint(first[0].end)
    spool.close()
    segment = next(tmp_path.glob("segment-*.log"))
    whole = segment.stat().st_size
    with open(segment, "ab") as out:  # a write cut short by kill -9: never acknowledged
        out.write(encode("torn", 9.0, "default", [b'{"t":1}'])[:20])
    again = Spool(tmp_path)
    assert segment.stat().st_size == whole  # the torn record is cut off
    assert again.checkpoint == first[0].end
    assert [r.batch for r in again.read(again.checkpoint, 10, 1 << 20)] == ["batch1", "batch2"]
    again.append(encode("batch3", 4.0, "default", [b"{}"]))
    assert [r.batch for r in again.read(again.checkpoint, 10, 1 << 20)] == ["batch1", "batch2", "batch3"]
    again.close()
