"""Each condition kind on hand-worked series: threshold edges, change, seasonal anomaly, min_volume; cron weekdays."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from semantic.analyses.alert_conditions import Point, judge
from semantic.analyses.alert_periods import Period
from semantic.catalog.alert_specs import Condition, MetricRef, MinVolume
from semantic.catalog.cron import CronProblem, cron_fields

DAY = Period(datetime(2026, 3, 16), "day")  # a Monday


def point(value, volume=None, period=DAY):
    return Point(period, value, volume)


def day(text: str) -> Period:
    return Period(datetime.fromisoformat(text), "day")


def test_threshold_edges_are_strict():
    above = Condition("threshold", above=0.02)
    assert judge(above, point(0.02), [], None).status == "ok"  # equal to the bound: not above it
    fired = judge(above, point(0.0201), [], None)
    assert fired.status == "fired" and fired.threshold == 0.02 and fired.high == 0.02 and fired.low is None
    below = Condition("threshold", below=0.01)
    assert judge(below, point(0.01), [], None).status == "ok"
    assert judge(below, point(0.0099), [], None).status == "fired"
    band = Condition("threshold", above=10, below=5)
    assert [judge(band, point(v), [], None).status for v in (4.9, 5, 7, 10, 10.1)] == [
        "fired",
        "ok",
        "ok",
        "ok",
        "fired",
    ]
    assert judge(band, point(None), [], None).status == "no_data"


def test_change_against_the_previous_period():
    condition = Condition("change", vs="previous_period", by_more_than=0.5, direction="both")
    history = [point(100, period=DAY.shifted(-1)), point(999, period=DAY.shifted(-2))]
    # baseline 100 (yesterday, not the day before): the band is 100 ± 50 = [50, 150]
    outcome = judge(condition, point(150), history, None)
    assert (outcome.status, outcome.baseline, outcome.low, outcome.high) == ("ok", 100, 50, 150)
    assert judge(condition, point(150.5), history, None).status == "fired"
    assert judge(condition, point(49), history, None).status == "fired"
    down = Condition("change", vs="previous_period", by_more_than=0.5, direction="down")
    assert judge(down, point(400), history, None).status == "ok"  # up is not watched
    assert judge(down, point(49), history, None).status == "fired"
    assert judge(condition, point(5), [point(0, period=DAY.shifted(-1))], None).status == "no_baseline"
    assert judge(condition, point(5), [], None).status == "no_baseline"


def test_change_against_the_same_weekday_last_week():
    condition = Condition("change", vs="same_weekday_last_week", by_more_than=0.2, direction="both")
    history = [point(80, period=DAY.shifted(-1)), point(100, period=DAY.shifted(-7))]
    # last Monday 100: band [80, 120]; yesterday's 80 plays no part
    assert judge(condition, point(119), history, None).status == "ok"
    outcome = judge(condition, point(121), history, None)
    assert (outcome.status, outcome.baseline, outcome.high) == ("fired", 100, 120)
    hourly = Condition("change", vs="same_weekday_last_week", by_more_than=0.2, direction="both")
    hour = Period(datetime(2026, 3, 16, 9), "hour")
    week_ago = Point(Period(datetime(2026, 3, 9, 9), "hour"), 10)
    assert judge(hourly, Point(hour, 13), [week_ago], None).baseline == 10


WEEK_A = [100, 104, 98, 101, 97, 50, 52]  # Mon 2026-03-02 .. Sun 03-08
WEEK_B = [106, 100, 102, 99, 103, 54, 48]  # Mon 03-09 .. Sun 03-15


def weekly_history(first: datetime, values: list[float]) -> list[Point]:
    return [Point(Period(first + timedelta(days=i), "day"), v) for i, v in enumerate(values)]


def test_anomaly_with_weekly_seasonality():
    """Two weeks of baseline: a weekday pattern (weekends half) with small noise.

    Same-weekday pairs: Mon 100/106, Tue 104/100, Wed 98/102, Thu 101/99, Fri 97/103, Sat 50/54, Sun 52/48.
    Each period's deviation from the median of the others of its weekday (here: the other one):
    6, 4, 4, 2, 6, 4, 4, each twice; their median is 4, so the scale is 1.4826 x 4 = 5.9304.
    Monday's expected value is the median of 100 and 106 = 103; with sensitivity 3 the band is
    103 ± 17.7912 = [85.2088, 120.7912].
    """
    condition = Condition("anomaly", baseline_periods=14, sensitivity=3, seasonality="weekly", direction="both")
    history = weekly_history(datetime(2026, 3, 2), WEEK_A + WEEK_B)
    outcome = judge(condition, point(86), history, None)
    assert outcome.status == "ok"
    assert outcome.baseline == 103
    assert outcome.low == pytest.approx(103 - 3 * 1.4826 * 4) and outcome.high == pytest.approx(103 + 3 * 1.4826 * 4)
    assert judge(condition, point(85), history, None).status == "fired"
    assert judge(condition, point(121), history, None).status == "fired"
    # 51 on a Monday is far out; on a Sunday it is normal: Sunday's expected value is median(52, 48) = 50
    assert judge(condition, point(51), history, None).status == "fired"
    sunday = day("2026-03-22")
    week_c = weekly_history(datetime(2026, 3, 16), WEEK_A[:6])  # Mon 03-16 .. Sat 03-21, like week A
    sunday_history = [*history[6:], *week_c]  # the 14 days before Sunday 03-22: the same weekday pairs
    outcome = judge(condition, point(51, period=sunday), sunday_history, None)
    assert (outcome.status, outcome.baseline) == ("ok", 50)
    assert outcome.low == pytest.approx(50 - 17.7912)


def test_anomaly_ignores_one_outlier_in_its_baseline_and_needs_two_of_a_weekday():
    condition = Condition("anomaly", baseline_periods=14, sensitivity=3, seasonality="weekly", direction="both")
    spiked = WEEK_A[:1] + [1000] + WEEK_A[2:] + WEEK_B  # Tuesday 03-03 spiked
    history = weekly_history(datetime(2026, 3, 2), spiked)
    # Monday's pair and the median deviation are unchanged (Tuesday's 900 twice among 14 is not the median)
    outcome = judge(condition, point(86), history, None)
    assert (outcome.status, outcome.baseline) == ("ok", 103)
    assert outcome.low == pytest.approx(103 - 3 * 1.4826 * 4)
    only_one_monday = [p for p in history if p.period != day("2026-03-09")]
    assert judge(condition, point(86), only_one_monday, None).status == "no_baseline"


def test_min_volume_skips_the_period_and_keeps_thin_periods_out_of_baselines():
    volume = MinVolume(MetricRef("pv", "pv", "metric"), 500)
    threshold = Condition("threshold", above=0.02)
    outcome = judge(threshold, point(0.5, volume=499), [], volume)
    assert outcome.status == "low_volume" and "499" in outcome.reason and "500" in outcome.reason
    assert judge(threshold, point(0.5, volume=500), [], volume).status == "fired"
    assert judge(threshold, point(0.5, volume=None), [], volume).status == "low_volume"
    change = Condition("change", vs="previous_period", by_more_than=0.5, direction="both")
    thin_yesterday = [Point(DAY.shifted(-1), 0.001, 20)]
    assert judge(change, point(0.01, volume=900), thin_yesterday, volume).status == "no_baseline"


def test_cron_weekdays_count_from_sunday_as_in_crontab():
    assert cron_fields("0 9 * * 1-5")["day_of_week"] == "mon,tue,wed,thu,fri"
    assert cron_fields("0 9 * * 0")["day_of_week"] == "sun"
    assert cron_fields("0 9 * * 7")["day_of_week"] == "sun"
    assert cron_fields("0 8 * * 6,0")["day_of_week"] == "sat,sun"
    for bad in ("0 9 * *", "61 9 * * *", "0 9 1 * 1", "0 9 * * 8", "0 9 * * 5-2", "rm -rf / * * *"):
        with pytest.raises(CronProblem):
            cron_fields(bad)


def test_a_trigger_fires_at_the_crontab_weekday():
    from zoneinfo import ZoneInfo

    from finlens.alerts.serve import trigger

    zone = ZoneInfo("Asia/Shanghai")
    monday_09 = trigger("0 9 * * 1", "Asia/Shanghai").get_next_fire_time(None, datetime(2026, 3, 18, tzinfo=zone))
    assert monday_09 == datetime(2026, 3, 23, 9, 0, tzinfo=zone)  # 2026-03-23 is a Monday
