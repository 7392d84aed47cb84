"""The tracking plan: loading with file:line errors, and check-tracking's violations counted by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors import connect
from finlens.cli import main
from finlens_common.errors import CatalogError
from ingest.sensors_columns import BUSINESS_LINE_PREFIXES
from ingest.tracking import load_plan
from ingest.tracking_check import Violation, check_tracking
from tests.warehouse_fixtures import make_warehouse

EVENTS = [
    # clean
    dict(
        event_time="2026-03-10 09:00:00",
        event="deposit",
        user_id="A",
        business_line="platform",
        amount=100.0,
        is_success=True,
    ),
    # deposit: amount missing (required), fail_reason outside the allowed set
    dict(
        event_time="2026-03-10 09:01:00",
        event="deposit",
        user_id="A",
        business_line="platform",
        is_success=False,
        fail_reason="card_expired",
    ),
    # bind_card: card_index a string where an integer is planned, and 3 (not allowed) as an integer
    dict(
        event_time="2026-03-10 09:02:00",
        event="bind_card",
        user_id="A",
        is_success=True,
        properties='{"card_index": "2"}',
    ),
    dict(
        event_time="2026-03-10 09:03:00",
        event="bind_card",
        user_id="B",
        is_success=True,
        properties='{"card_index": 3}',
    ),
    dict(
        event_time="2026-03-10 09:04:00",
        event="bind_card",
        user_id="C",
        is_success=True,
        properties='{"card_index": 2}',
    ),
    # unknown events
    dict(event_time="2026-03-10 09:05:00", event="Deposit_v2", user_id="A"),
    dict(event_time="2026-03-10 09:06:00", event="Deposit_v2", user_id="B"),
    # a prefixed event on the wrong business line
    dict(event_time="2026-03-10 09:07:00", event="P2P_redeem", user_id="A", business_line="platform", amount=5.0),
]


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    return make_warehouse(tmp_path_factory.mktemp("tracking") / "t.duckdb", EVENTS)


def test_shipped_plan_loads_and_matches_importer_prefixes():
    plan = load_plan()
    assert plan.prefixes == BUSINESS_LINE_PREFIXES
    assert {"register", "bind_card", "P2P_invest", "$AppViewScreen"} <= set(plan.events)
    assert all(event.owner for event in plan.events.values())


def test_violations_counted_by_hand(url):
    with connect(url) as warehouse:
        found = check_tracking(warehouse, load_plan())
    assert sorted(found, key=lambda v: (v.event, v.property or "", v.kind)) == [
        Violation("Deposit_v2", None, "unknown_event", 2, "Deposit_v2"),
        Violation("P2P_redeem", None, "wrong_business_line", 1, "platform"),
        Violation("bind_card", "card_index", "not_allowed", 1, "3"),
        Violation("bind_card", "card_index", "wrong_type", 1, '"2"'),
        Violation("deposit", "amount", "missing", 1, None),
        Violation("deposit", "fail_reason", "not_allowed", 1, "card_expired"),
    ]


def test_cli_json_and_exit_status(url, capsys):
    assert main(["check-tracking", "--warehouse", url, "--format", "json", "--event", "deposit"]) == 5
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out) == [
        {"event": "deposit", "property": "amount", "kind": "missing", "count": 1, "example": None},
        {"event": "deposit", "property": "fail_reason", "kind": "not_allowed", "count": 1, "example": "card_expired"},
    ]
    assert main(["check-tracking", "--warehouse", url, "--event", "register"]) == 0
    assert capsys.readouterr().out == "ok: no tracking-plan violations\n"


def test_plan_mistakes_are_file_line_messages(tmp_path, capsys):
    plan = tmp_path / "plan.yml"
    plan.write_text(
        "owner: me\nevents:\n  - name: deposit\n    properties:\n      - {name: amount, type: money}\n"
        "  - name: deposit\n    colour: red\n"
    )
    with pytest.raises(CatalogError) as err:
        load_plan(plan)
    assert str(err.value).splitlines() == [
        f"{plan}:5: event 'deposit': property: type 'money' is not one of string, number, integer, boolean",
        f"{plan}:6: event 'deposit' is declared twice",
        f"{plan}:7: event: unknown key 'colour'",
    ]
    assert main(["check-tracking", "--plan", str(tmp_path / "none.yml")]) == 1
    assert capsys.readouterr().err.startswith(
        f"finlens: error: {tmp_path / 'none.yml'}:1: cannot read the tracking plan"
    )


def test_data_quality_page_shows_violations(url, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FINLENS_WAREHOUSE", url)
    page = AppTest.from_file(
        str(Path(__file__).parent.parent / "finlens" / "pages" / "data_quality.py"), default_timeout=60
    )
    page.query_params["lang"] = "en"
    page.run()
    assert not page.exception and not page.error
    frame = page.dataframe[0].value  # headers are the page's words: count → "Events", owner → "Owner"
    assert sum(int(str(n).replace(",", "")) for n in frame["Events"]) == 7
    assert set(frame["Owner"]) - {""} == {"payments-team", "account-team", "wealth-team"}
    assert "No log has been imported" in page.info[0].value
