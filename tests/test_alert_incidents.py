"""One message per incident, one recovery, cool-down, and retries of what failed: the incident rules on a real store."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from finlens.alerts import incidents
from finlens.alerts.store import Store
from semantic.analyses.alert_conditions import Outcome
from semantic.analyses.alert_eval import Evaluation
from semantic.analyses.alert_periods import Period
from semantic.catalog.alert_specs import Alert, Condition, MetricRef
from semantic.catalog.specs import Label, Source

FIRST = datetime(2026, 7, 1)


def alert(cooldown_days: int = 3) -> Alert:
    return Alert(
        name="errors",
        label=Label("错误", "Errors"),
        description="",
        metric=MetricRef("error_rate", "error_rate", "metric"),
        by=("app_version",),
        where=None,
        grain="day",
        condition=Condition("threshold", above=0.02),
        min_volume=None,
        schedule="0 9 * * *",
        notify=("chat", "mail"),
        cooldown_seconds=cooldown_days * 86400,
        source=Source("metrics/alerts/x.yml", 1),
    )


def evaluation(day: int, status: str, version: str = "5.2.0") -> Evaluation:
    value = {"fired": 0.05, "ok": 0.005, "low_volume": 0.05, "no_data": None}[status]
    outcome = Outcome(status, value, None, None, 0.02, 0.02, 100, status)
    return Evaluation("errors", {"app_version": version}, Period(FIRST + timedelta(days=day), "day"), outcome)


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "alerts.sqlite")


def run(store: Store, spec: Alert, e: Evaluation, failing: tuple[str, ...] = ()) -> list[tuple[str, tuple[str, ...]]]:
    """Plan the evaluation's messages and 'deliver' them: every channel but ``failing`` succeeds."""
    said = []
    for notice in incidents.plan(store, spec, e):
        for channel in notice.channels:
            status = "failed" if channel in failing else "sent"
            store.add_delivery(
                kind=notice.kind, channel=channel, status=status, attempts=1, at=FIRST, incident_id=notice.incident_id
            )
        if any(c not in failing for c in notice.channels):
            incidents.delivered(store, notice)
        said.append((notice.kind, notice.channels))
    return said


def test_one_message_per_incident_and_one_recovery(store):
    spec = alert()
    assert run(store, spec, evaluation(0, "fired")) == [("fired", ("chat", "mail"))]
    assert run(store, spec, evaluation(1, "fired")) == []  # the same incident: nothing new to say
    assert run(store, spec, evaluation(2, "low_volume")) == []  # too little traffic says nothing about the bug
    assert run(store, spec, evaluation(3, "fired")) == []
    assert run(store, spec, evaluation(4, "ok")) == [("resolved", ("chat", "mail"))]
    assert run(store, spec, evaluation(5, "ok")) == []
    (incident,) = store.incidents("errors")
    assert (incident["opened_period"], incident["last_fired_period"], incident["closed_period"]) == (
        "2026-07-01",
        "2026-07-04",
        "2026-07-05",
    )
    assert run(store, spec, evaluation(6, "fired", version="5.1.0")) == [("fired", ("chat", "mail"))]  # another key


def test_the_cool_down_holds_a_new_incident_until_it_has_passed(store):
    """Recovered on day 4 (period end 07-06 00:00): with a 3-day cool-down nothing is said before 07-09 00:00."""
    spec = alert(cooldown_days=3)
    run(store, spec, evaluation(0, "fired"))
    assert run(store, spec, evaluation(4, "ok")) == [("resolved", ("chat", "mail"))]
    assert run(store, spec, evaluation(5, "fired")) == []  # ends 07-07 00:00: held
    assert run(store, spec, evaluation(6, "fired")) == []  # ends 07-08 00:00: held
    assert run(store, spec, evaluation(7, "fired")) == [("fired", ("chat", "mail"))]  # ends 07-09 00:00: announced
    assert run(store, spec, evaluation(8, "ok")) == [("resolved", ("chat", "mail"))]
    # a held incident that recovers before the cool-down ends closes without a word
    assert run(store, spec, evaluation(9, "fired")) == []
    assert run(store, spec, evaluation(10, "ok")) == []
    assert [i["status"] for i in store.incidents("errors")] == ["closed", "closed", "closed"]


def test_a_failed_channel_is_tried_again_and_hears_the_recovery_only_if_it_heard_the_alert(store):
    spec = alert()
    assert run(store, spec, evaluation(0, "fired"), failing=("mail",)) == [("fired", ("chat", "mail"))]
    # the same period checked again (a re-run): only the failed channel is tried
    assert run(store, spec, evaluation(0, "fired"), failing=("mail",)) == [("fired", ("mail",))]
    assert run(store, spec, evaluation(1, "fired")) == [("fired", ("mail",))]
    assert run(store, spec, evaluation(2, "fired")) == []
    assert run(store, spec, evaluation(3, "ok")) == [("resolved", ("chat", "mail"))]


def test_an_older_period_changes_nothing(store):
    spec = alert()
    run(store, spec, evaluation(5, "fired"))
    assert run(store, spec, evaluation(2, "ok")) == []
    assert store.incidents("errors")[0]["status"] == "open"
