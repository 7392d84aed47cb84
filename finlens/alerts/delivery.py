"""Sending messages: HTTP POSTs to chat webhooks and e-mail over SMTP, each retried with backoff.

A failure that may pass (a timeout, a refused connection, HTTP 429 or 5xx, a chat API's
"too fast" code, an SMTP hiccup) is retried up to ``attempts`` times, waiting ``base_delay``
seconds, then twice as long each time (at most a minute; a ``Retry-After`` header wins). A
failure that will not pass (HTTP 4xx, a chat API's error code, a missing secret, a refused
recipient) stops at once. Errors never show a webhook URL: it holds the key.
"""

from __future__ import annotations

import smtplib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from finlens.alerts import formats
from finlens.alerts.compose import Message
from finlens.alerts.secrets import secret
from finlens_common.settings import SMTP_PASSWORD_ENV, smtp_settings
from semantic.catalog.alert_specs import Channel

RETRY_CODES = {"wecom": {45009, -1}, "dingtalk": {130101, -1}, "feishu": {11232, 9499}}
MAX_DELAY = 60.0


class TryAgain(Exception):
    """A failure worth another attempt; ``wait`` is the server's own Retry-After, if any."""

    def __init__(self, message: str, wait: float | None = None):
        super().__init__(message)
        self.wait = wait


class GiveUp(Exception):
    """A failure another attempt will not fix."""


@dataclass(frozen=True)
class Result:
    channel: str
    status: str  # sent or failed
    attempts: int
    error: str | None = None


@dataclass
class Sender:
    """Delivers to channels; ``sleep`` and ``base_delay`` are the backoff's clock (tests use tiny delays)."""

    attempts: int = 4
    base_delay: float = 1.0
    timeout: float = 10.0
    sleep: Callable[[float], None] = time.sleep

    def send(self, channel: Channel, message: Message) -> Result:
        try:
            action = self._action(channel, message)
        except GiveUp as err:
            return Result(channel.name, "failed", 0, f"channel {channel.name!r}: {err}")
        for attempt in range(1, self.attempts + 1):
            try:
                action()
                return Result(channel.name, "sent", attempt)
            except GiveUp as err:
                return Result(channel.name, "failed", attempt, f"channel {channel.name!r}: {err}")
            except TryAgain as err:
                if attempt == self.attempts:
                    return Result(
                        channel.name, "failed", attempt, f"channel {channel.name!r}: {err} (after {attempt} attempts)"
                    )
                delay = min(MAX_DELAY, self.base_delay * 2 ** (attempt - 1))
                self.sleep(min(MAX_DELAY, err.wait) if err.wait is not None else delay)
        raise AssertionError("unreachable")

    def _action(self, channel: Channel, message: Message) -> Callable[[], None]:
        if channel.type == "email":
            return lambda: self._email(channel, message)
        assert channel.url_env is not None
        url = secret(channel.url_env)
        if not url:
            raise GiveUp(f"the environment variable {channel.url_env} (or that Streamlit secret) is not set")
        key = secret(channel.secret_env) if channel.secret_env else None
        if channel.secret_env and not key:
            raise GiveUp(f"the environment variable {channel.secret_env} (or that Streamlit secret) is not set")
        if channel.type == "wecom":
            posts = formats.wecom(url, message)
        elif channel.type == "dingtalk":
            posts = formats.dingtalk(url, message, key)
        elif channel.type == "feishu":
            posts = formats.feishu(url, message, key)
        elif channel.type == "slack":
            posts = formats.slack(url, message)
        else:
            posts = formats.webhook(url, message, key)
        done: set[int] = set()  # a multi-part message (WeCom's text, then its image) resumes where it failed

        def post_all() -> None:
            for index, post in enumerate(posts):
                if index not in done:
                    self._post(channel.type, post)
                    done.add(index)

        return post_all

    def _post(self, kind: str, post: formats.Post) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8", **post.headers}
        try:
            response = requests.post(post.url, data=post.data(), headers=headers, timeout=self.timeout)
        except requests.Timeout:
            raise TryAgain(f"no answer within {self.timeout:g} s") from None
        except requests.RequestException as err:
            raise TryAgain(f"cannot reach the webhook ({type(err).__name__})") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise TryAgain(f"HTTP {response.status_code}", _retry_after(response.headers.get("Retry-After")))
        if response.status_code >= 300:
            raise GiveUp(f"HTTP {response.status_code}: {response.text[:200]!r}")
        if kind in RETRY_CODES:
            try:
                answer = response.json()
            except ValueError:
                raise GiveUp(f"the {kind} webhook did not answer JSON: {response.text[:200]!r}") from None
            code = (
                answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
                if isinstance(answer, dict)
                else 0
            )
            if code not in (0, None):
                detail = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
                problem = f"the {kind} webhook refused the message: code {code} {str(detail)[:200]}"
                if code in RETRY_CODES[kind]:
                    raise TryAgain(problem)
                raise GiveUp(problem)

    def _email(self, channel: Channel, message: Message) -> None:
        settings = smtp_settings()
        host = settings["host"]
        if not host:
            raise GiveUp("no SMTP server: set FINLENS_SMTP_HOST (and FINLENS_SMTP_PORT, FINLENS_SMTP_FROM)")
        security = (settings["security"] or "none").lower()
        port = int(settings["port"] or (465 if security == "ssl" else 587 if security == "starttls" else 25))
        sender = settings["sender"] or f"finlens@{socket.getfqdn()}"
        mail = formats.email(message, sender, channel.to)
        try:
            client = (
                smtplib.SMTP_SSL(host, port, timeout=self.timeout)
                if security == "ssl"
                else smtplib.SMTP(host, port, timeout=self.timeout)
            )
            with client:
                if security == "starttls":
                    client.starttls()
                if settings["user"]:
                    client.login(settings["user"], secret(SMTP_PASSWORD_ENV) or "")
                client.send_message(mail)
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as err:
            raise GiveUp(f"the SMTP server refused: {type(err).__name__}") from None
        except (smtplib.SMTPException, OSError) as err:
            raise TryAgain(f"SMTP {host}:{port}: {type(err).__name__}: {str(err)[:120]}") from None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
