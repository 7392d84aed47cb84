"""The user sequence as customer service uses it: found by any id, the profile, failures only, full text, the range.

Worked out by hand on a small fixture: user u1 registered from invite, real-name verified, risk C3; on
2026-03-10 they browsed anonymously as a-77 (a $pageview), then, logged in, failed a card binding with a
long fail_reason, bound a card, and on 2026-03-20 invested. u2 and u10 exist so that "u1" is a prefix of
three ids.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_helpers import APP, problems, unescaped
from tests.warehouse_fixtures import make_warehouse

LONG_REASON = "bank_rejected: the card issuer declined the binding because " + "x" * 300
EVENTS = [
    dict(event_time="2026-03-10 09:00:00", event="$pageview", user_id="u1", distinct_id="a-77", page="home"),
    dict(
        event_time="2026-03-10 09:05:00",
        event="bind_card",
        user_id="u1",
        distinct_id="u1",
        is_success=False,
        fail_reason=LONG_REASON,
        properties='{"bank": "ICBC", "card_index": 1}',
    ),
    dict(event_time="2026-03-10 09:07:00", event="bind_card", user_id="u1", distinct_id="u1", is_success=True),
    dict(
        event_time="2026-03-20 10:00:00",
        event="P2P_invest",
        user_id="u1",
        distinct_id="u1",
        is_success=True,
        amount=1000.0,
    ),
    dict(event_time="2026-03-20 11:00:00", event="$AppStart", user_id="u2", distinct_id="u2"),
    dict(event_time="2026-03-21 11:00:00", event="$AppStart", user_id="u10", distinct_id="u10"),
]
USERS = [
    dict(
        user_id="u1",
        register_time="2026-03-10 09:02:00",
        register_channel="invite",
        register_platform="iOS",
        province="Guangdong",
        is_real_name=True,
        risk_level="C3",
    ),
    dict(user_id="u2", register_time="2026-03-01 08:00:00", register_channel="seo"),
    dict(user_id="u10"),
]


@pytest.fixture()
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("FINLENS_WAREHOUSE", make_warehouse(tmp_path / "w.duckdb", EVENTS, USERS))
    return AppTest.from_file(str(APP), default_timeout=120)


def open_sequence(app, **params) -> AppTest:
    app.query_params.update(params)
    at = app.run()
    return at.switch_page("finlens/pages/sequence.py").run()


def test_a_prefix_lists_every_user_it_starts(app):
    at = open_sequence(app, user="u")  # u1, u10 and u2 start with it; none is exactly "u"
    assert problems(at) == []
    picks = at.main.get("button_group")[-1]
    assert [str(getattr(o, "content", o)) for o in picks.options] == ["u1", "u10", "u2"]
    picks.set_value("u10").run()
    assert at.query_params["user"] == "u10"


def test_an_exact_id_opens_that_user_even_when_it_starts_others(app):
    at = open_sequence(app, user="u1")  # u10 starts with "u1" too, but u1 is exactly it
    assert problems(at) == [] and at.query_params["user"] == "u1"


def test_an_anonymous_id_finds_the_stitched_user(app):
    at = open_sequence(app, user="a-7")
    assert problems(at) == []
    assert at.query_params["user"] == "u1"
    assert any("a-7 is an id user u1 was seen under" in unescaped(c.value) for c in at.caption)


def test_the_header_shows_who_the_user_is(app):
    at = open_sequence(app, user="u1", range=["2026-03-10", "2026-03-21"])
    assert problems(at) == []
    shown = [unescaped(m.value) for m in at.markdown]
    for value in ("**invite**", "**2026-03-10 09:02:00**", "**yes**", "**C3**", "**iOS**", "**Guangdong**"):
        assert value in shown, shown


def test_the_range_is_said_and_failures_only_keeps_the_failed_binding(app):
    at = open_sequence(app, user="u1", range=["2026-03-10", "2026-03-15"])
    assert problems(at) == []
    assert any(
        unescaped(c.value)
        == "Events from 2026-03-10 to 2026-03-15: 3 of the user's 4 events (2026-03-10 – 2026-03-20)."
        for c in at.caption
    )
    table = at.dataframe[0].value
    assert list(table["Event"]) == ["$pageview", "bind_card", "bind_card"]
    assert "None" not in table.to_string()  # empty cells, never "None"
    at.toggle(key="sequence_failures").set_value(True).run()
    table = at.dataframe[0].value
    assert list(table["Event"]) == ["bind_card"] and list(table["Failure reason"]) == [LONG_REASON]


def test_all_history_shows_every_event(app):
    at = open_sequence(app, user="u1", range=["2026-03-10", "2026-03-15"])
    at.toggle(key="sequence_all").set_value(True).run()
    assert list(at.dataframe[0].value["Event"]) == ["$pageview", "bind_card", "bind_card", "P2P_invest"]
