"""The chart-spec cache: keyed by the builder and the content of its arguments, not their identity."""

from __future__ import annotations

from datetime import date

from finlens.app.charts import spec_cache

CALLS: list[str] = []


@spec_cache
def _bars(rows, title):
    CALLS.append("bars")
    return {"mark": "bar", "title": title, "n": len(rows)}


@spec_cache
def _lines(rows, title):
    CALLS.append("lines")
    return {"mark": "line", "title": title, "n": len(rows)}


def _rows(value: int) -> list[dict]:
    # a fresh list each time, as a cached query result is handed out on each rerun
    return [{"day": date(2026, 3, 1), "pv": 10}, {"day": date(2026, 3, 2), "pv": value}]


def test_equal_arguments_reuse_the_spec_and_each_builder_keeps_its_own():
    CALLS.clear()
    assert _bars(_rows(12), "PV") == {"mark": "bar", "title": "PV", "n": 2}
    assert _bars(_rows(12), "PV") == {"mark": "bar", "title": "PV", "n": 2}
    assert CALLS == ["bars"]  # the second call was a cache hit on equal content
    assert _lines(_rows(12), "PV") == {"mark": "line", "title": "PV", "n": 2}  # same arguments, other builder
    assert _bars(_rows(13), "PV")["mark"] == "bar"  # one cell differs: built again
    assert _bars(_rows(12), title="UV")["title"] == "UV"  # a keyword argument is part of the key
    assert CALLS == ["bars", "lines", "bars", "bars"]


def test_rows_from_the_warehouse_and_from_the_cache_share_one_key():
    """Equal rows are one key whether equal strings are one object (a cache's copy) or many (fresh rows)."""
    CALLS.clear()
    width = 12  # built at run time: separate, equal string objects
    fresh = [{"channel": "w" * width, "pv": 1}, {"channel": "w" * width, "pv": 2}]
    shared_name = "w" * width
    copied = [{"channel": shared_name, "pv": 1}, {"channel": shared_name, "pv": 2}]
    assert fresh[0]["channel"] is not fresh[1]["channel"] and copied[0]["channel"] is copied[1]["channel"]
    _bars(fresh, "by channel")
    _bars(copied, "by channel")
    assert CALLS == ["bars"]
