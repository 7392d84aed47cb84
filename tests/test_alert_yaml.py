"""Alert and subscription YAML: every mistake reported as file:line by ``finlens validate``; secrets refused."""

from __future__ import annotations

import pytest

from finlens.cli import main
from semantic.catalog.loader import load_catalog
from semantic.catalog.notifications import load_notifications, notification_problems
from tests.alert_helpers import metrics_with
from tests.security.hostile import FILTERS

BROKEN = """\
alerts:
  - name: unknown_metric
    label: {zh: 甲, en: A}
    metric: error_rat
    condition: {above: 1}
  - name: funnel_without_step
    label: {zh: 乙, en: B}
    metric: bind_card_funnel
    condition: {below: 0.1}
  - name: step_out_of_range
    label: {zh: 丙, en: C}
    metric: bind_card_funnel.step9
    condition: {below: 0.1}
  - name: two_conditions
    label: {zh: 丁, en: D}
    metric: pv
    condition: {above: 1, change: {by_more_than: 0.5}}
  - name: bad_by_and_where
    label: {zh: 戊, en: E}
    metric: pv
    by: [platfrom]
    where: "pg_read_file('/etc/passwd') = 'x'"
    condition: {above: 1}
  - name: short_baseline
    label: {zh: 己, en: F}
    metric: pv
    condition: {anomaly: {baseline_periods: 10}}
  - name: volume_without_metric
    label: {zh: 庚, en: G}
    metric: pv
    condition: {above: 1}
    min_volume: {at_least: 5}
  - name: bad_schedule
    label: {zh: 辛, en: H}
    metric: pv
    condition: {above: 1}
    schedule: "0 25 * * *"
    notify: [nowhere]
  - name: hourly_funnel
    label: {zh: 壬, en: I}
    metric: bind_card_funnel.step2
    grain: hour
    condition: {below: 0.1}
channels:
  leaky: {type: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"}
  mail: {type: email, to: [not-an-address]}
  lower: {type: slack, url_env: lower_case}
"""

SUBSCRIPTIONS = """\
subscriptions:
  - name: digest
    label: {zh: 晨报, en: Digest}
    board: overvew
    filters: {platfrom: [iOS]}
    notify: [mail]
"""


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    root = metrics_with(
        tmp_path_factory.mktemp("alert-yaml"), {"alerts/broken.yml": BROKEN, "subscriptions/s.yml": SUBSCRIPTIONS}
    )
    return root, load_catalog(root)


def lines(problems) -> dict[int, str]:
    found: dict[int, str] = {}
    for p in problems:
        found[p.line] = found.get(p.line, "") + p.message
    return found


def test_every_problem_is_at_its_line(broken):
    root, catalog = broken
    _, problems = notification_problems(catalog, root)
    found = lines(p for p in problems if p.file.endswith("broken.yml"))
    assert "unknown metric 'error_rat' (did you mean 'error_rate'?)" in found[4]
    assert "is a funnel: watch one step's conversion, e.g. bind_card_funnel.step3" in found[8]
    assert "has steps 1 to 3; use step2 to step3" in found[12]
    assert "exactly one of" in found[17]
    assert "unknown dimension 'platfrom' (did you mean 'platform'?)" in found[21]
    assert "may not call PG_READ_FILE" in found[22]
    assert "needs at least 14 baseline periods" in found[27]
    assert "missing required key 'metric'" in found[32]
    assert "the last value (25) is higher than the maximum value (23)" in found[37]
    assert "unknown channel 'nowhere'" in found[38]
    assert "grain must be day" in found[42]
    assert "would put a secret in the repository" in found[45]
    assert "'to' must list e-mail addresses, not 'not-an-address'" in found[46]
    assert "names an environment variable (UPPER_CASE)" in found[47]
    subscription = lines(p for p in problems if p.file.endswith("s.yml"))
    assert "unknown board 'overvew' (did you mean 'overview'?)" in subscription[4]
    assert "unknown dimension 'platfrom'" in subscription[5]


def test_finlens_validate_lists_them_as_file_line(broken, capsys):
    root, _ = broken
    assert main(["validate", str(root)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert any(
        line.endswith(
            "alerts/broken.yml:4: alert 'unknown_metric': metric: unknown metric 'error_rat' (did you mean 'error_rate'?)"
        )
        for line in err
    )
    assert any("subscriptions/s.yml:4:" in line for line in err)


@pytest.mark.parametrize("hostile", list(FILTERS.values()), ids=list(FILTERS))
def test_hostile_alert_filters_are_refused_at_their_line(tmp_path, hostile):
    text = (
        "alerts:\n  - name: a\n    label: {zh: 甲, en: A}\n    metric: pv\n"
        f"    where: {__import__('json').dumps(hostile)}\n    condition: {{above: 1}}\n"
    )
    root = metrics_with(tmp_path, {"alerts/a.yml": text})
    _, problems = notification_problems(load_catalog(root), root)
    assert problems and all(p.line == 5 for p in problems)


def test_the_shipped_alerts_and_subscriptions_are_valid(catalog, capsys):
    notifications = load_notifications(catalog)
    assert "error_rate_by_version" in notifications.alerts and "morning_overview" in notifications.subscriptions
    spec = notifications.alerts["error_rate_by_version"]
    assert (spec.metric.text, spec.by, spec.grain, spec.condition.above, spec.min_volume.at_least) == (
        "error_rate",
        ("app_version",),
        "day",
        0.02,
        500,
    )
    assert main(["validate"]) == 0
    assert "5 alerts, 2 subscriptions" in capsys.readouterr().out
