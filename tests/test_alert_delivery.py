"""Every channel format in zh and en, delivered to real receivers on 127.0.0.1 (HTTP and aiosmtpd's SMTP).

The message is the demo's buggy release: error rate 47 in 1,000 page views (4.7%) on 2026-07-16 against a
2% threshold. Each receiver checks what a person would read: the title, the value, the threshold, the
link to the Alerts page, and the chart as a real PNG (inline, base64, or fetched from the chart server).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime

import pytest
import requests

from finlens.alerts import incidents
from finlens.alerts.delivery import Sender
from finlens.alerts.runner import Context, deliver_notice
from finlens.alerts.secrets import secret
from finlens.alerts.serve import start_image_server
from finlens.alerts.store import Store
from semantic.analyses.alert_conditions import Outcome
from semantic.analyses.alert_eval import Evaluation
from semantic.analyses.alert_periods import Period
from semantic.catalog.alert_specs import Channel, Notifications
from semantic.catalog.notifications import load_notifications
from semantic.catalog.specs import Source
from tests.alert_helpers import PNG_MAGIC, Mailbox, Receiver, free_port, parts

KINDS = ("wecom", "dingtalk", "feishu", "slack", "webhook")
EXPECTED = {
    "zh": {
        "title": "[finlens] 告警：各版本报错率异常 · 应用版本 5.2.0",
        "summary": "4.7%，高于 2.0%。",
        "threshold": "高于 2.0%",
        "resolved": "[finlens] 已恢复：各版本报错率异常 · 应用版本 5.2.0",
    },
    "en": {
        "title": "[finlens] Alert: Error rate by app version · App version 5.2.0",
        "summary": "4.7% is above 2.0%.",
        "threshold": "above 2.0%",
        "resolved": "[finlens] Resolved: Error rate by app version · App version 5.2.0",
    },
}


def fired(value: float = 0.047, status: str = "fired") -> Evaluation:
    outcome = Outcome(status, value, None, None, 0.02, 0.02, 1000, "")
    return Evaluation("error_rate_by_version", {"app_version": "5.2.0"}, Period(datetime(2026, 7, 16), "day"), outcome)


CHART_ROWS = [
    {
        "period": f"2026-07-{d:02d}T00:00:00",
        "value": 0.005 if d < 16 else 0.047,
        "low": None,
        "high": 0.02,
        "fired": d >= 16,
    }
    for d in range(1, 17)
]


@pytest.fixture
def setup(tmp_path, monkeypatch, catalog):
    """Every kind of channel pointing at one receiver (a path each) and one mailbox; a chart server."""
    with Receiver() as receiver, Mailbox() as mailbox:
        channels = {
            kind: Channel(kind, kind, f"TEST_{kind.upper()}_URL", None, (), Source("x.yml", 1)) for kind in KINDS
        }
        channels["dingtalk"] = Channel(
            "dingtalk", "dingtalk", "TEST_DINGTALK_URL", "TEST_DING_SECRET", (), Source("x.yml", 1)
        )
        channels["feishu"] = Channel(
            "feishu", "feishu", "TEST_FEISHU_URL", "TEST_FEISHU_SECRET", (), Source("x.yml", 1)
        )
        channels["webhook"] = Channel(
            "webhook", "webhook", "TEST_WEBHOOK_URL", "TEST_HOOK_SECRET", (), Source("x.yml", 1)
        )
        channels["email"] = Channel(
            "email", "email", None, None, ("oncall@bank.test", "cto@bank.test"), Source("x.yml", 1)
        )
        for kind in KINDS:
            monkeypatch.setenv(f"TEST_{kind.upper()}_URL", f"{receiver.url}/{kind}?key=k-123")
        monkeypatch.setenv("TEST_DING_SECRET", "SECding")
        monkeypatch.setenv("TEST_FEISHU_SECRET", "feishu-secret")
        monkeypatch.setenv("TEST_HOOK_SECRET", "hook-secret")
        for name, value in mailbox.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("FINLENS_APP_URL", "https://finlens.bank.test")
        shipped = load_notifications(catalog)
        spec = shipped.alerts["error_rate_by_version"]
        from dataclasses import replace

        spec = replace(spec, notify=tuple(channels))
        store = Store(tmp_path / "alerts.sqlite")
        port = free_port()
        start_image_server(store, "127.0.0.1", port)
        context = Context(
            catalog=catalog,
            notifications=Notifications({spec.name: spec}, {}, channels),
            warehouse=None,  # type: ignore[arg-type]  (messages with their chart rows given need no warehouse)
            store=store,
            sender=Sender(attempts=2, base_delay=0.0),
            public_url=f"http://127.0.0.1:{port}",
        )
        yield context, spec, receiver, mailbox


def png(data: bytes) -> bytes:
    assert data.startswith(PNG_MAGIC) and len(data) > 2000
    return data


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_channel_format_carries_value_threshold_link_and_chart(setup, language):
    context, spec, receiver, mailbox = setup
    context.language = language
    words = EXPECTED[language]
    (notice,) = incidents.plan(context.store, spec, fired())
    results = deliver_notice(context, notice, CHART_ROWS)
    assert {r.channel: r.status for r in results} == dict.fromkeys([*KINDS, "email"], "sent")
    link = f"https://finlens.bank.test/alerts?alert=error_rate_by_version&alert_key=%7B%22app_version%22%3A+%225.2.0%22%7D&lang={language}"

    wecom_text, wecom_image = receiver.bodies("/wecom")
    content = wecom_text["markdown"]["content"]
    assert wecom_text["msgtype"] == "markdown" and words["title"] in content and words["summary"] in content
    assert words["threshold"] in content and f"]({link})" in content
    image = base64.b64decode(wecom_image["image"]["base64"])
    assert wecom_image["msgtype"] == "image" and hashlib.md5(png(image)).hexdigest() == wecom_image["image"]["md5"]

    (ding,) = [r for r in receiver.requests if r["path"] == "/dingtalk"]
    timestamp, sign = ding["query"]["timestamp"], ding["query"]["sign"]
    expected_sign = base64.b64encode(
        hmac.new(b"SECding", f"{timestamp}\nSECding".encode(), hashlib.sha256).digest()
    ).decode()
    assert sign == expected_sign and ding["query"]["key"] == "k-123"
    text = ding["json"]["markdown"]["text"]
    assert ding["json"]["markdown"]["title"] == words["title"] and words["summary"] in text and link in text
    image_url = text.split("](http://127.0.0.1")[1].split(")")[0]
    assert png(requests.get(f"http://127.0.0.1{image_url}", timeout=10).content) == image

    (feishu,) = receiver.bodies("/feishu")
    key = f"{feishu['timestamp']}\nfeishu-secret".encode()
    assert feishu["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    post = feishu["content"]["post"]["zh_cn" if language == "zh" else "en_us"]
    flat = [item for row in post["content"] for item in row]
    assert post["title"] == words["title"] and flat[0]["text"] == words["summary"]
    assert [i["href"] for i in flat if i["tag"] == "a"][-1] == link
    chart = [i["href"] for i in flat if i["tag"] == "a"][0]
    assert png(requests.get(chart, timeout=10).content) == image

    (slack,) = receiver.bodies("/slack")
    assert slack["blocks"][0]["text"]["text"] == words["title"] and slack["text"].startswith(words["title"])
    (image_block,) = [b for b in slack["blocks"] if b["type"] == "image"]
    assert png(requests.get(image_block["image_url"], timeout=10).content) == image
    assert f"<{link}|" in slack["blocks"][-1]["text"]["text"]
    assert any(words["threshold"] in f["text"] for b in slack["blocks"] for f in b.get("fields", []))

    (hook,) = [r for r in receiver.requests if r["path"] == "/webhook"]
    body = hook["json"]
    mac = hmac.new(b"hook-secret", hook["headers"]["X-Finlens-Timestamp"].encode() + b"." + hook["raw"], hashlib.sha256)
    assert hook["headers"]["X-Finlens-Signature"] == f"sha256={mac.hexdigest()}"
    assert body["kind"] == "alert_fired" and body["data"]["value"] == 0.047 and body["data"]["threshold"] == 0.02
    assert body["data"]["by"] == {"app_version": "5.2.0"} and body["data"]["period"] == "2026-07-16"
    assert body["title"] == words["title"] and body["link"] == link
    assert png(base64.b64decode(body["image_png_base64"])) == image

    (mail,) = mailbox.messages
    # a space beside Chinese text travels as a no-break space (formats.subject): it looks the same
    assert mail["Subject"].replace("\xa0", " ") == words["title"] and mail["To"] == "oncall@bank.test, cto@bank.test"
    found = parts(mail)
    assert words["summary"] in found["text"] and link in found["text"]
    assert words["summary"] in found["html"] and "cid:chart" in found["html"]
    ((cid, inline),) = found["images"]
    assert cid == "<chart>" and png(inline) == image


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_recovery_reaches_the_channels_that_heard_the_alert(setup, language):
    context, spec, receiver, mailbox = setup
    context.language = language
    (notice,) = incidents.plan(context.store, spec, fired())
    deliver_notice(context, notice, CHART_ROWS)
    receiver.requests.clear()
    mailbox.messages.clear()
    recovered = Evaluation(
        "error_rate_by_version",
        {"app_version": "5.2.0"},
        Period(datetime(2026, 7, 17), "day"),
        Outcome("ok", 0.004, None, None, 0.02, 0.02, 900, ""),
    )
    (notice,) = incidents.plan(context.store, spec, recovered)
    assert notice.kind == "resolved"
    deliver_notice(context, notice, [])
    (hook,) = receiver.bodies("/webhook")
    assert hook["kind"] == "alert_resolved" and hook["title"] == EXPECTED[language]["resolved"]
    assert hook["data"]["value"] == 0.004 and hook["data"]["opened_period"] == "2026-07-16"
    assert mailbox.messages[0]["Subject"].replace("\xa0", " ") == EXPECTED[language]["resolved"]


def test_retries_back_off_and_stop_on_errors_that_will_not_pass(setup):
    context, spec, receiver, _ = setup
    waits: list[float] = []
    sender = Sender(attempts=4, base_delay=1.0, sleep=waits.append)
    message = __import__("finlens.alerts.compose", fromlist=["alert_message"]).alert_message(
        context.catalog, spec, fired(), "fired", "en"
    )
    receiver.script = [(500, "busy"), (503, "busy")]
    result = sender.send(context.notifications.channels["slack"], message)
    assert (result.status, result.attempts, waits) == ("sent", 3, [1.0, 2.0])
    waits.clear()
    receiver.script = [(500, "busy")] * 4
    result = sender.send(context.notifications.channels["slack"], message)
    assert (result.status, result.attempts, waits) == ("failed", 4, [1.0, 2.0, 4.0])
    assert "HTTP 500" in (result.error or "") and "k-123" not in (result.error or "")
    waits.clear()
    receiver.script = [(400, "bad request")]
    result = sender.send(context.notifications.channels["slack"], message)
    assert (result.status, result.attempts, waits) == ("failed", 1, [])
    receiver.script = [(200, json.dumps({"errcode": 45009, "errmsg": "api freq out of limit"}))]
    result = sender.send(context.notifications.channels["wecom"], message)  # WeCom's "too fast": retried
    assert (result.status, result.attempts) == ("sent", 2)
    receiver.script = [(200, json.dumps({"errcode": 93000, "errmsg": "invalid webhook url"}))]
    result = sender.send(context.notifications.channels["wecom"], message)
    assert result.status == "failed" and "93000" in (result.error or "")
    receiver.script = [(200, json.dumps({"code": 19021, "msg": "sign match fail"}))]
    assert sender.send(context.notifications.channels["feishu"], message).status == "failed"


def test_a_missing_secret_is_a_clear_failure_and_secrets_come_from_streamlit_files(setup, monkeypatch, tmp_path):
    context, spec, _, _ = setup
    monkeypatch.delenv("TEST_SLACK_URL")
    monkeypatch.chdir(tmp_path)
    message = __import__("finlens.alerts.compose", fromlist=["alert_message"]).alert_message(
        context.catalog, spec, fired(), "fired", "en"
    )
    result = Sender(attempts=3, base_delay=0).send(context.notifications.channels["slack"], message)
    assert result.status == "failed" and result.attempts == 0 and "TEST_SLACK_URL" in (result.error or "")
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('TEST_SLACK_URL = "https://hooks.example/abc"\n')
    assert secret("TEST_SLACK_URL") == "https://hooks.example/abc"
    monkeypatch.setenv("TEST_SLACK_URL", "https://from-the-environment")
    assert secret("TEST_SLACK_URL") == "https://from-the-environment"
