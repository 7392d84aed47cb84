"""The demo's buggy release: 5.2.0 crashes (about 4.5% errors per page view against about 0.5%).

The shipped ``error_rate_by_version`` alert, checked every morning at 09:00 over the demo's whole history
exactly as ``finlens alerts check --at`` would, must fire for 5.2.0 on its first full day and never for
another version; its one incident is announced once to a real webhook receiver.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from connectors import connect
from finlens.alerts.delivery import Sender
from finlens.alerts.runner import Context, check
from finlens.alerts.store import Store
from semantic.analyses.alert_eval import evaluate_range
from semantic.catalog.alert_specs import Channel, Notifications
from semantic.catalog.notifications import load_notifications
from semantic.catalog.specs import Source
from tests.alert_helpers import Receiver
from tests.app_helpers import make_demo

# 25,000 people over 60 days: 5.2.0 has about 700 app page views on its first day (the alert needs 500)
USERS, DAYS = 25_000, 60


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    url = make_demo(tmp_path_factory.mktemp("alert-demo") / "demo.duckdb", users=USERS, days=DAYS)
    warehouse = connect(url)
    yield warehouse
    warehouse.close()


def hand_counts(warehouse, day: str, version: str) -> tuple[int, int]:
    """Page views and app errors of one version on one day, on iOS and Android, by hand-written SQL."""
    sql = f"""
        SELECT COUNT(*) FILTER (WHERE event IN ('$AppViewScreen', '$pageview')),
               COUNT(*) FILTER (WHERE event = 'app_error')
        FROM events
        WHERE app_version = '{version}' AND platform IN ('iOS', 'Android')
          AND event_time >= DATE '{day}' AND event_time < DATE '{day}' + INTERVAL 1 DAY"""
    pv, errors = warehouse.query(sql).rows[0]
    return int(pv), int(errors)


def test_the_buggy_release_is_caught_on_its_first_full_day_and_no_other_version_ever_fires(
    demo, catalog, tmp_path, monkeypatch
):
    first_event, first_day, last_day = demo.query(
        "SELECT MIN(event_time) FILTER (WHERE app_version = '5.2.0'), MIN(event_time), MAX(event_time) FROM events"
    ).rows[0]
    release_day = first_event.date()  # released at midnight: its first day is a full day
    assert first_event.hour == 0
    pv, errors = hand_counts(demo, release_day.isoformat(), "5.2.0")
    assert pv >= 500 and errors / pv > 0.02  # what the alert says, worked out by hand
    alert = load_notifications(catalog).alerts["error_rate_by_version"]
    with Receiver() as receiver:
        monkeypatch.setenv("TEST_HOOK_URL", f"{receiver.url}/hook")
        hook = Channel("hook", "webhook", "TEST_HOOK_URL", None, (), Source("x.yml", 1))
        spec = replace(alert, notify=("hook",))
        context = Context(
            catalog,
            Notifications({spec.name: spec}, {}, {"hook": hook}),
            demo,
            Store(tmp_path / "a.sqlite"),
            Sender(attempts=1),
        )
        fired: list = []
        day = first_day.date()
        while day <= last_day.date():
            at = datetime.combine(day + timedelta(days=1), datetime.min.time()) + timedelta(hours=9)
            run = check(context, at)
            assert all(e.period.bucket == day.isoformat() for e in run.evaluations)
            fired += [e for e in run.evaluations if e.fired]
            day += timedelta(days=1)
        by_version = Counter(e.by["app_version"] for e in fired)
        assert set(by_version) == {"5.2.0"}  # no false alert for any other version, on any day
        first = min(fired, key=lambda e: e.period)
        assert first.period.bucket == release_day.isoformat()
        assert first.outcome.value == pytest.approx(errors / pv) and first.outcome.volume == pv
        (message,) = receiver.bodies("/hook")  # one incident, announced once
        assert message["kind"] == "alert_fired" and message["data"]["period"] == release_day.isoformat()
        assert message["data"]["by"] == {"app_version": "5.2.0"} and message["image_png_base64"]
    # evaluating the whole range at once gives the same verdicts as the day-by-day checks
    history = evaluate_range(catalog, alert, demo, first_day.date(), last_day.date())
    assert sorted((e.period, e.key) for e in history if e.fired) == sorted((e.period, e.key) for e in fired)
    stored = context.store.incidents("error_rate_by_version")
    assert [(i["key"], i["opened_period"], i["status"]) for i in stored] == [
        ('{"app_version": "5.2.0"}', release_day.isoformat(), "open")
    ]
