"""``finlens alerts check|history|list|serve`` and ``finlens subscriptions``, end to end with a real webhook receiver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from finlens.alerts.store import Store
from finlens.cli import main
from tests.alert_helpers import PNG_MAGIC, Receiver, free_port, metrics_with
from tests.warehouse_fixtures import make_warehouse

ALERTS = """
alerts:
  - name: app_errors_by_platform
    label: {zh: 应用报错, en: App errors}
    metric: app_errors
    by: [platform]
    condition: {above: 1}
    schedule: "0 9 * * *"
    cooldown: 1d
    notify: [hook, chat]
channels:
  hook: {type: webhook, url_env: TEST_HOOK_URL}
  chat: {type: slack, url_env: TEST_SLACK_URL}
"""


def error(day: str, platform: str, n: int) -> list[dict]:
    return [
        {"user_id": f"{platform}{i}", "event": "app_error", "event_time": f"{day} 10:0{i}:00", "platform": platform}
        for i in range(n)
    ]


EVENTS = [
    *error("2026-03-02", "iOS", 2),
    *error("2026-03-02", "Android", 1),
    {"user_id": "x", "event": "$AppViewScreen", "event_time": "2026-03-03 10:00:00", "platform": "iOS"},
    *error("2026-03-04", "Android", 3),
]


@pytest.fixture
def env(tmp_path, monkeypatch):
    root = metrics_with(tmp_path, {"alerts/a.yml": ALERTS})
    url = make_warehouse(tmp_path / "w.duckdb", EVENTS)
    with Receiver() as receiver:
        monkeypatch.setenv("TEST_HOOK_URL", f"{receiver.url}/hook")
        monkeypatch.setenv("TEST_SLACK_URL", f"{receiver.url}/slack")
        monkeypatch.setenv("FINLENS_ALERTS_DB", str(tmp_path / "alerts.sqlite"))
        monkeypatch.setenv("FINLENS_LANGUAGE", "en")
        yield root, url, receiver, tmp_path


def check(capsys, root, url, at: str, *extra: str) -> tuple[int, list[dict], str]:
    code = main(
        ["--metrics-dir", str(root), "alerts", "check", "--at", at, "--format", "json", "--warehouse", url, *extra]
    )
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_check_prints_one_object_per_value_and_sends_only_what_fired(env, capsys):
    root, url, receiver, tmp_path = env
    code, rows, err = check(capsys, root, url, "2026-03-03T09:00")
    assert code == 0 and err == ""
    assert {r["by"]["platform"]: (r["period"], r["value"], r["fired"]) for r in rows} == {
        "iOS": ("2026-03-02", 2, True),
        "Android": ("2026-03-02", 1, False),  # 1 is not above 1
    }
    assert set(rows[0]) >= {"alert", "by", "period", "value", "baseline", "threshold", "fired", "reason"}
    (hook,) = receiver.bodies("/hook")
    assert hook["data"]["by"] == {"platform": "iOS"} and hook["title"] == "[finlens] Alert: App errors · Platform iOS"
    assert len(receiver.bodies("/slack")) == 1
    # the same morning again: nothing new to say
    assert check(capsys, root, url, "2026-03-03T09:30")[0] == 0 and len(receiver.bodies("/hook")) == 1
    # 03-03: iOS is back to 0 (recovered); Android stays at 0
    code, rows, _ = check(capsys, root, url, "2026-03-04T09:00")
    assert [h["kind"] for h in receiver.bodies("/hook")] == ["alert_fired", "alert_resolved"]
    # 03-04: Android 3 errors, announced (iOS, silent on 03-03 and 03-04, is no longer a value of the alert);
    # a time with an offset is converted to the deployment's zone (Asia/Shanghai: 01:00 UTC is 09:00 there)
    code, rows, _ = check(capsys, root, url, "2026-03-05T01:00:00+00:00")
    assert {r["by"]["platform"]: (r["period"], r["fired"]) for r in rows} == {"Android": ("2026-03-04", True)}
    assert receiver.bodies("/hook")[-1]["data"]["by"] == {"platform": "Android"}
    stored = Store(tmp_path / "alerts.sqlite")
    assert len(stored.latest_evaluations()) == 2 and len(stored.incidents()) == 2
    assert {(d["kind"], d["channel"], d["status"]) for d in stored.deliveries()} == {
        (k, c, "sent") for k in ("fired", "resolved") for c in ("hook", "chat")
    }


def test_dry_run_stores_and_sends_nothing(env, capsys):
    root, url, receiver, tmp_path = env
    code, rows, _ = check(capsys, root, url, "2026-03-03T09:00", "--dry-run")
    assert code == 0 and any(r["fired"] for r in rows)
    assert receiver.requests == [] and Store(tmp_path / "alerts.sqlite").latest_evaluations() == []


def test_mistakes_are_one_line(env, capsys):
    root, url, _, _ = env
    assert main(["--metrics-dir", str(root), "alerts", "check", "--at", "yesterday", "--warehouse", url]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    assert main(["--metrics-dir", str(root), "alerts", "check", "--name", "nope", "--warehouse", url]) == 2
    assert "unknown alert 'nope'; alerts: app_errors_by_platform" in capsys.readouterr().err
    assert main(["--metrics-dir", str(root), "alerts", "check", "--at", "2300-01-01", "--warehouse", url]) == 2


def test_a_failed_delivery_is_a_warning_and_is_retried_on_the_next_check(env, capsys, monkeypatch):
    root, url, receiver, tmp_path = env
    monkeypatch.delenv("TEST_SLACK_URL")
    code, _, err = check(capsys, root, url, "2026-03-03T09:00")
    assert code == 0 and "warning: channel 'chat': the environment variable TEST_SLACK_URL" in err
    monkeypatch.setenv("TEST_SLACK_URL", f"{receiver.url}/slack")
    check(capsys, root, url, "2026-03-03T09:05")
    assert len(receiver.bodies("/hook")) == 1 and len(receiver.bodies("/slack")) == 1


def test_history_and_list(env, capsys):
    root, url, _, _ = env
    args = ["--metrics-dir", str(root), "alerts", "history", "app_errors_by_platform", "--from", "2026-03-01"]
    assert main([*args, "--to", "2026-03-05", "--fired", "--format", "json", "--warehouse", url]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["period"], r["by"]["platform"], r["value"]) for r in rows] == [
        ("2026-03-02", "iOS", 2),
        ("2026-03-04", "Android", 3),
    ]
    assert main(["--metrics-dir", str(root), "alerts", "list"]) == 0
    assert "app_errors_by_platform  app_errors  platform" in capsys.readouterr().out


def test_serve_runs_the_schedule_and_serves_the_charts(tmp_path):
    """``serve --run-now`` in its own process: yesterday's errors are announced, the chart is fetched from it."""
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")  # the deployment's zone is UTC here
    root = metrics_with(tmp_path, {"alerts/a.yml": ALERTS})
    url = make_warehouse(tmp_path / "w.duckdb", error(yesterday, "iOS", 3))
    port = free_port()
    with Receiver() as receiver:
        environment = {
            **os.environ,
            "TEST_HOOK_URL": f"{receiver.url}/hook",
            "TEST_SLACK_URL": f"{receiver.url}/slack",
            "FINLENS_ALERTS_DB": str(tmp_path / "alerts.sqlite"),
            "FINLENS_TIME_ZONE": "UTC",
            "FINLENS_ALERTS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        command = [sys.executable, "-c", "from finlens.cli import main; raise SystemExit(main())"]
        command += ["--metrics-dir", str(root), "alerts", "serve", "--run-now", "--http", f"127.0.0.1:{port}"]
        process = subprocess.Popen(
            [*command, "--warehouse", url], env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + 120
            while len(receiver.bodies("/slack")) < 1 and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.2)
            (slack,) = receiver.bodies("/slack")
            (image,) = [b for b in slack["blocks"] if b["type"] == "image"]
            assert requests.get(image["image_url"], timeout=10).content.startswith(PNG_MAGIC)
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).text == "ok"
            assert requests.get(f"http://127.0.0.1:{port}/charts/../etc.png", timeout=10).status_code == 404
            assert receiver.bodies("/hook")[0]["data"]["period"] == yesterday
        finally:
            process.terminate()
            out, err = process.communicate(timeout=30)
        assert b"serving 1 alerts and 0 subscriptions (UTC)" in out, err
