"""Board subscriptions: a board with its filters, as text and one image, to a webhook and an SMTP server.

The numbers are worked out by hand from the rows below (iOS only, 03-03..03-04 against 03-01..03-02).
"""

from __future__ import annotations

import base64

import pytest

from connectors import connect
from finlens.alerts.delivery import Sender
from finlens.alerts.runner import Context, send_subscription
from finlens.alerts.store import Store
from finlens.cli import main
from semantic.catalog.loader import load_catalog
from semantic.catalog.notifications import load_notifications
from tests.alert_helpers import PNG_MAGIC, Mailbox, Receiver, metrics_with, parts
from tests.warehouse_fixtures import make_warehouse

BOARD = """
board: mini
label: {zh: 迷你看板, en: Mini board}
tiles:
  - {metric: pv}
  - {metric: app_errors}
charts:
  - name: traffic
    label: {zh: 浏览趋势, en: Traffic}
    type: line
    metrics: [pv]
  - name: by_page
    label: {zh: 各页面浏览, en: Views by page}
    type: bar
    metric: pv
    by: page
  - name: card_funnel
    type: funnel
    metric: bind_card_funnel
"""
SUBSCRIPTIONS = """
subscriptions:
  - name: mini_digest
    label: {zh: 迷你日报, en: Mini digest}
    board: mini
    days: 2
    filters: {platform: iOS}
    language: zh
    schedule: "0 8 * * *"
    notify: [hook, mail]
channels:
  hook: {type: webhook, url_env: TEST_HOOK_URL}
  mail: {type: email, to: [boss@bank.test]}
"""


def view(day: str, page: str, platform: str = "iOS", n: int = 1) -> list[dict]:
    return [
        {
            "user_id": f"v{i}",
            "event": "$AppViewScreen",
            "event_time": f"{day} 1{i}:00:00",
            "page": page,
            "platform": platform,
        }
        for i in range(n)
    ]


EVENTS = [
    *view("2026-03-01", "home", n=2),
    *view("2026-03-02", "home", n=2),  # comparison: 4 iOS page views
    *view("2026-03-03", "home", n=3),
    *view("2026-03-04", "home", n=2),
    *view("2026-03-04", "profile"),  # the range: 6 iOS page views, home 5, profile 1
    *view("2026-03-03", "home", platform="Android", n=4),  # filtered out
    {"user_id": "v0", "event": "app_error", "event_time": "2026-03-04 10:00:01", "platform": "iOS"},
    {"user_id": "u1", "event": "register", "event_time": "2026-03-03 09:00:00", "platform": "iOS"},
    {"user_id": "u2", "event": "register", "event_time": "2026-03-03 09:30:00", "platform": "iOS"},
    {
        "user_id": "u1",
        "event": "realname_auth",
        "event_time": "2026-03-03 09:05:00",
        "platform": "iOS",
        "is_success": True,
    },
    {"user_id": "u1", "event": "bind_card", "event_time": "2026-03-03 09:10:00", "platform": "iOS", "is_success": True},
]


@pytest.fixture
def setup(tmp_path, monkeypatch):
    root = metrics_with(tmp_path, {"boards/mini.yml": BOARD, "subscriptions/s.yml": SUBSCRIPTIONS})
    url = make_warehouse(tmp_path / "w.duckdb", EVENTS)
    catalog = load_catalog(root)
    with Receiver() as receiver, Mailbox() as mailbox, connect(url) as warehouse:
        monkeypatch.setenv("TEST_HOOK_URL", f"{receiver.url}/hook")
        monkeypatch.setenv("FINLENS_APP_URL", "https://finlens.bank.test")
        for name, value in mailbox.environment().items():
            monkeypatch.setenv(name, value)
        context = Context(
            catalog, load_notifications(catalog), warehouse, Store(tmp_path / "a.sqlite"), Sender(attempts=1)
        )
        yield context, receiver, mailbox, root, url


def test_a_digest_carries_the_boards_numbers_image_and_link(setup):
    from datetime import datetime

    context, receiver, mailbox, _, _ = setup
    subscription = context.notifications.subscriptions["mini_digest"]
    results, message = send_subscription(context, subscription, datetime(2026, 3, 5, 8))
    assert [(r.channel, r.status) for r in results] == [("hook", "sent"), ("mail", "sent")]
    (hook,) = receiver.bodies("/hook")
    assert hook["title"] == "[finlens] 迷你日报 · 2026-03-03 – 2026-03-04"
    assert hook["summary"] == "迷你看板 · 对比 2026-03-01 – 2026-03-02"
    sections = {s["heading"]: s["lines"] for s in hook["sections"]}
    assert sections["关键指标"] == ["浏览量: 6 (+50.0%)", "错误次数: 1"]  # 6 against 4; no errors before
    assert sections["浏览趋势"] == ["浏览量: 6"]
    assert sections["各页面浏览"] == ["1. home：5", "2. profile：1"]
    assert sections["绑卡漏斗"] == ["1. 注册：2（100.0%）", "2. 实名认证成功：1（50.0%）", "3. 绑卡成功：1（50.0%）"]
    assert hook["link"] == (
        "https://finlens.bank.test/board_mini?range=2026-03-03&range=2026-03-04&compare=previous&f_platform=iOS&lang=zh"
    )
    assert hook["data"]["tiles"] == [
        {"metric": "pv", "value": 6, "previous": 4},
        {"metric": "app_errors", "value": 1, "previous": 0},
    ]
    image = base64.b64decode(hook["image_png_base64"])
    assert image.startswith(PNG_MAGIC) and len(image) > 10_000
    (mail,) = mailbox.messages
    found = parts(mail)
    assert "浏览量: 6 (+50.0%)" in found["text"] and "3. 绑卡成功：1（50.0%）" in found["html"]
    assert found["images"][0][1] == image
    assert [d["subscription"] for d in context.store.deliveries()] == ["mini_digest", "mini_digest"]


def test_subscriptions_send_dry_run_prints_the_message(setup, capsys):
    _, receiver, _, root, url = setup
    args = ["--metrics-dir", str(root), "subscriptions", "send", "mini_digest", "--at", "2026-03-05T08:00"]
    assert main([*args, "--dry-run", "--warehouse", url]) == 0
    out = capsys.readouterr().out
    assert "[finlens] 迷你日报 · 2026-03-03 – 2026-03-04" in out and "浏览量: 6 (+50.0%)" in out
    assert receiver.requests == []
    assert main(["--metrics-dir", str(root), "subscriptions", "send", "nope", "--warehouse", url]) == 2
