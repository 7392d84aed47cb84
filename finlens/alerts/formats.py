"""One :class:`~finlens.alerts.compose.Message` in each channel's own format.

- **wecom** (企业微信群机器人): a ``markdown`` message, then the chart as an ``image`` message (base64 + md5).
- **dingtalk** (钉钉自定义机器人): one ``markdown`` message; the chart as an image link when the chart
  server is reachable (DingTalk robots take image URLs only); signed with ``secret_env`` (HMAC-SHA256 of
  ``timestamp\\nsecret``, in the URL).
- **feishu** (飞书自定义机器人): one rich-text ``post``; the chart as a link (custom bots cannot upload
  images); signed with ``secret_env`` (``timestamp`` and ``sign`` in the body).
- **slack**: Block Kit (header, summary, fields, image block, link) with a plain ``text`` fallback, which
  Mattermost and Rocket.Chat read too.
- **webhook**: the message as JSON with the chart as base64 PNG; with ``secret_env`` an
  ``X-Finlens-Signature: sha256=<hex HMAC of timestamp.body>`` header.
- **email**: HTML with the chart inline (``cid:``) and a plain-text part (see ``delivery.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from html import escape
from typing import Any
from urllib.parse import quote_plus

from finlens.alerts.compose import Message
from finlens.alerts.words import word

WECOM_MARKDOWN_BYTES = 4000  # WeCom takes 4,096
DINGTALK_MARKDOWN_BYTES = 18000  # DingTalk takes 20,000


@dataclass(frozen=True)
class Post:
    """One HTTP POST of a JSON body."""

    url: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def data(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


def _cut(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[: limit - 3].decode("utf-8", "ignore") + "…"


def _md_lines(message: Message, bullet: str) -> list[str]:
    lines = [f"{bullet}**{label}**: {value}" for label, value in message.fields]
    for heading, items in message.sections:
        lines += ["", f"**{heading}**", *(f"{bullet}{item}" for item in items)]
    return lines


def wecom(url: str, message: Message) -> list[Post]:
    text = "\n".join([f"## {message.title}", message.summary, "", *_md_lines(message, "> "), ""])
    text += f"\n[{message.link_text}]({message.link})"
    posts = [Post(url, {"msgtype": "markdown", "markdown": {"content": _cut(text, WECOM_MARKDOWN_BYTES)}})]
    if message.image:
        posts.append(
            Post(
                url,
                {
                    "msgtype": "image",
                    "image": {
                        "base64": base64.b64encode(message.image).decode("ascii"),
                        "md5": hashlib.md5(message.image).hexdigest(),  # noqa: S324 - WeCom's own checksum
                    },
                },
            )
        )
    return posts


def dingtalk(url: str, message: Message, secret: str | None = None, now_ms: int | None = None) -> list[Post]:
    text = "\n".join([f"### {message.title}", "", message.summary, "", *_md_lines(message, "- "), ""])
    if message.image_url:
        text += f"\n![{word('chart', message.language)}]({message.image_url})\n"
    text += f"\n[{message.link_text}]({message.link})"
    body = {"msgtype": "markdown", "markdown": {"title": message.title, "text": _cut(text, DINGTALK_MARKDOWN_BYTES)}}
    if secret:
        timestamp = now_ms if now_ms is not None else int(time.time() * 1000)
        digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        sign = quote_plus(base64.b64encode(digest).decode("ascii"))
        url = f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"
    return [Post(url, body)]


def feishu(url: str, message: Message, secret: str | None = None, now_s: int | None = None) -> list[Post]:
    rows: list[list[dict[str, Any]]] = [[{"tag": "text", "text": message.summary}]]
    rows += [[{"tag": "text", "text": f"{label}: {value}"}] for label, value in message.fields]
    for heading, items in message.sections:
        rows.append([{"tag": "text", "text": heading}])
        rows += [[{"tag": "text", "text": item}] for item in items]
    if message.image_url:
        rows.append([{"tag": "a", "text": word("chart", message.language), "href": message.image_url}])
    rows.append([{"tag": "a", "text": message.link_text, "href": message.link}])
    locale = "zh_cn" if message.language == "zh" else "en_us"
    body: dict[str, Any] = {
        "msg_type": "post",
        "content": {"post": {locale: {"title": message.title, "content": rows}}},
    }
    if secret:
        timestamp = now_s if now_s is not None else int(time.time())
        key = f"{timestamp}\n{secret}".encode()
        body["timestamp"] = str(timestamp)
        body["sign"] = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")
    return [Post(url, body)]


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(url: str, message: Message) -> list[Post]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(message.summary)[:3000]}},
    ]
    fields = [{"type": "mrkdwn", "text": f"*{_slack_escape(k)}*\n{_slack_escape(v)}"[:2000]} for k, v in message.fields]
    for start in range(0, len(fields), 10):
        blocks.append({"type": "section", "fields": fields[start : start + 10]})
    for heading, items in message.sections:
        text = f"*{_slack_escape(heading)}*\n" + "\n".join(_slack_escape(i) for i in items)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    if message.image_url:
        blocks.append({"type": "image", "image_url": message.image_url, "alt_text": message.title[:2000]})
    blocks.append(
        {"type": "section", "text": {"type": "mrkdwn", "text": f"<{message.link}|{_slack_escape(message.link_text)}>"}}
    )
    return [Post(url, {"text": f"{message.title}\n{message.summary}", "blocks": blocks[:50]})]


def webhook(url: str, message: Message, secret: str | None = None, now_s: int | None = None) -> list[Post]:
    body = {
        "kind": message.data.get("kind", message.kind),
        "language": message.language,
        "title": message.title,
        "summary": message.summary,
        "fields": [{"label": k, "value": v} for k, v in message.fields],
        "sections": [{"heading": h, "lines": list(items)} for h, items in message.sections],
        "link": message.link,
        "data": message.data,
        "image_png_base64": base64.b64encode(message.image).decode("ascii") if message.image else None,
        "image_url": message.image_url,
    }
    post = Post(url, body)
    if secret:
        timestamp = str(now_s if now_s is not None else int(time.time()))
        mac = hmac.new(secret.encode(), timestamp.encode() + b"." + post.data(), hashlib.sha256).hexdigest()
        post = Post(url, body, {"X-Finlens-Timestamp": timestamp, "X-Finlens-Signature": f"sha256={mac}"})
    return [post]


def subject(title: str) -> str:
    """``title`` for an e-mail header: a space beside Chinese text becomes a no-break space.

    Python's header folder may fold at such a space and then drop it between two encoded words
    (``异常 · 应用`` arrives as ``异常· 应用``); a no-break space is not a folding point and looks the same.

    >>> subject("告警 · 5.2.0") == "告警\u00a0·\u00a05.2.0"
    True
    """
    chars = list(title)
    for i, ch in enumerate(chars):
        if ch == " " and any(not c.isascii() for c in title[max(0, i - 1) : i + 2]):
            chars[i] = "\u00a0"
    return "".join(chars)


def email(message: Message, sender: str, to: tuple[str, ...]) -> EmailMessage:
    """A multipart e-mail: plain text, HTML with the chart inline."""
    mail = EmailMessage()
    mail["Subject"] = subject(message.title)
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail.set_content(message.plain())
    rows = "".join(
        f"<tr><th align='left' style='padding:2px 12px 2px 0;color:#475569'>{escape(k)}</th><td>{escape(v)}</td></tr>"
        for k, v in message.fields
    )
    sections = "".join(
        f"<h3>{escape(h)}</h3><ul>{''.join(f'<li>{escape(i)}</li>' for i in items)}</ul>"
        for h, items in message.sections
    )
    image = "<p><img src='cid:chart' alt='chart' style='max-width:100%'></p>" if message.image else ""
    html = (
        f"<html><body style='font-family:sans-serif'><h2>{escape(message.title)}</h2>"
        f"<p>{escape(message.summary)}</p><table>{rows}</table>{sections}{image}"
        f"<p><a href='{escape(message.link, quote=True)}'>{escape(message.link_text)}</a></p></body></html>"
    )
    mail.add_alternative(html, subtype="html")
    html_part = mail.get_body(("html",))
    if message.image and isinstance(html_part, EmailMessage):
        html_part.add_related(message.image, maintype="image", subtype="png", cid="<chart>", filename="chart.png")
    return mail
