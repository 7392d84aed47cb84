"""A funnel-step alert, a retention alert and an hourly alert per dimension value, on hand-built warehouses.

Funnels and retentions are judged only once their numbers are final: a funnel's day after its window
(7 days for bind_card_funnel), a retention cohort's day once period N has ended.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from connectors import connect
from semantic.analyses.alert_eval import evaluate_at
from semantic.catalog.loader import load_catalog
from semantic.catalog.notifications import load_notifications
from tests.alert_helpers import metrics_with
from tests.warehouse_fixtures import make_warehouse

ALERTS = """
alerts:
  - name: card_conversion
    label: {zh: 绑卡转化, en: Card conversion}
    metric: bind_card_funnel.step3
    condition: {below: 0.5}
    min_volume: {at_least: 3}
  - name: day1_retention
    label: {zh: 次日留存, en: Day-1 retention}
    metric: bind_card_retention.period1
    condition: {below: 0.5}
    min_volume: {at_least: 2}
  - name: busy_hour
    label: {zh: 页面浏览激增, en: Page-view burst}
    metric: pv
    by: [platform]
    grain: hour
    condition: {above: 2}
"""


def ev(user: str, event: str, time: str, **extra) -> dict:
    return {"user_id": user, "event": event, "event_time": time, "platform": extra.pop("platform", "iOS"), **extra}


FUNNEL_EVENTS = [
    # 03-02: a, b, c, d register. a and b bind within 7 days (b on day 6), c only verifies: 2 / 4 = 0.5
    *(ev(u, "register", "2026-03-02 09:00:00") for u in "abcd"),
    ev("a", "realname_auth", "2026-03-02 09:05:00", is_success=True),
    ev("a", "bind_card", "2026-03-03 10:00:00", is_success=True),
    ev("b", "realname_auth", "2026-03-02 09:06:00", is_success=True),
    ev("b", "bind_card", "2026-03-08 08:00:00", is_success=True),
    ev("c", "realname_auth", "2026-03-02 09:07:00", is_success=True),
    # 03-03: e, f, g register. e binds the same day, f only verifies, g binds after 8 days (too late): 1 / 3
    *(ev(u, "register", "2026-03-03 09:00:00") for u in "efg"),
    ev("e", "realname_auth", "2026-03-03 09:05:00", is_success=True),
    ev("e", "bind_card", "2026-03-03 09:10:00", is_success=True),
    ev("f", "realname_auth", "2026-03-03 09:05:00", is_success=True),
    ev("g", "realname_auth", "2026-03-03 09:05:00", is_success=True),
    ev("g", "bind_card", "2026-03-11 09:10:00", is_success=True),
]
RETENTION_EVENTS = [
    # cohort 03-02: p and q bind; p starts the app on 03-03 (day 1), q does not: 1 / 2 = 0.5
    ev("p", "bind_card", "2026-03-02 10:00:00", is_success=True),
    ev("q", "bind_card", "2026-03-02 11:00:00", is_success=True),
    ev("p", "$AppStart", "2026-03-03 08:00:00"),
    # cohort 03-03: r, s, t bind; only r returns on 03-04: 1 / 3
    *(ev(u, "bind_card", "2026-03-03 12:00:00", is_success=True) for u in "rst"),
    ev("r", "$AppStart", "2026-03-04 21:00:00"),
    ev("s", "$AppStart", "2026-03-06 21:00:00"),  # day 3, not day 1
    # hourly page views: 3 on iOS and 1 on Android between 10:00 and 11:00 on 03-10
    *(ev(f"v{i}", "$AppViewScreen", f"2026-03-10 10:{10 * i:02d}:00") for i in range(3)),
    ev("w", "$AppViewScreen", "2026-03-10 10:30:00", platform="Android"),
    ev("w", "$AppViewScreen", "2026-03-20 10:30:00", platform="Android"),  # the data goes on after that
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alert-funnels")
    catalog = load_catalog(metrics_with(folder, {"alerts/a.yml": ALERTS}))
    alerts = load_notifications(catalog).alerts
    funnel = connect(make_warehouse(folder / "funnel.duckdb", FUNNEL_EVENTS))
    retention = connect(make_warehouse(folder / "retention.duckdb", RETENTION_EVENTS))
    yield catalog, alerts, funnel, retention
    funnel.close()
    retention.close()


def one(evaluations):
    (evaluation,) = evaluations
    return evaluation


def test_a_funnel_step_alert_waits_for_the_window_and_fires_on_low_conversion(setup):
    catalog, alerts, funnel, _ = setup
    alert = alerts["card_conversion"]
    # 03-10 09:00 minus the 7-day window is 03-03 09:00: the last day whose window has passed is 03-02
    first = one(evaluate_at(catalog, alert, funnel, datetime(2026, 3, 10, 9)))
    assert (first.period.bucket, first.outcome.value, first.outcome.volume, first.outcome.status) == (
        "2026-03-02",
        0.5,
        4,
        "ok",  # 0.5 is not below 0.5
    )
    second = one(evaluate_at(catalog, alert, funnel, datetime(2026, 3, 11, 9)))
    assert second.period.bucket == "2026-03-03" and second.outcome.value == pytest.approx(1 / 3)
    assert second.fired and second.outcome.volume == 3 and second.outcome.threshold == 0.5
    early = one(evaluate_at(catalog, alert, funnel, datetime(2026, 3, 9, 23)))
    assert early.period.bucket == "2026-03-01" and early.outcome.status == "no_data"


def test_a_retention_alert_waits_for_the_period_and_fires_on_low_retention(setup):
    catalog, alerts, _, retention = setup
    alert = alerts["day1_retention"]
    # day 1 of the 03-02 cohort is 03-03, known from 03-04 00:00
    first = one(evaluate_at(catalog, alert, retention, datetime(2026, 3, 4, 9)))
    assert (first.period.bucket, first.outcome.value, first.outcome.volume, first.outcome.status) == (
        "2026-03-02",
        0.5,
        2,
        "ok",
    )
    second = one(evaluate_at(catalog, alert, retention, datetime(2026, 3, 5, 9)))
    assert second.period.bucket == "2026-03-03" and second.fired
    assert second.outcome.value == pytest.approx(1 / 3) and second.outcome.volume == 3


def test_an_hourly_alert_per_platform(setup):
    catalog, alerts, _, retention = setup
    evaluations = evaluate_at(catalog, alerts["busy_hour"], retention, datetime(2026, 3, 10, 11, 5))
    by_platform = {e.by["platform"]: (e.period.label, e.outcome.value, e.outcome.status) for e in evaluations}
    assert by_platform["iOS"] == ("2026-03-10 10:00–11:00", 3, "fired")
    assert by_platform["Android"] == ("2026-03-10 10:00–11:00", 1, "ok")
    later = evaluate_at(catalog, alerts["busy_hour"], retention, datetime(2026, 3, 10, 12, 0))
    assert {e.by["platform"]: e.outcome.value for e in later} == {"iOS": 0, "Android": 0}  # an empty hour is 0
