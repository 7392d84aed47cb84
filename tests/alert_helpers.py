"""Real receivers for alert messages, started by the tests on 127.0.0.1: an HTTP server and an SMTP server.

:class:`Receiver` is a plain ``http.server`` that records every POST (path, query, headers, JSON body) and
answers with the next scripted response (default 200 and ``{"errcode": 0, "code": 0}``, what WeCom,
DingTalk and Feishu answer). :class:`Mailbox` is aiosmtpd's SMTP server keeping every message it accepts.
"""

from __future__ import annotations

import email
import json
import shutil
import socket
import threading
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """An HTTP server on 127.0.0.1 that records POSTs; ``script`` holds (status, body) answers to give first."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                receiver.requests.append(
                    {
                        "path": parts.path,
                        "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                        "headers": dict(self.headers),
                        "raw": raw,
                        "json": json.loads(raw.decode("utf-8")),
                    }
                )
                status, body = receiver.script.pop(0) if receiver.script else (200, '{"errcode": 0, "code": 0}')
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def bodies(self, path: str | None = None) -> list[dict[str, Any]]:
        return [r["json"] for r in self.requests if path is None or r["path"] == path]


class _Keep:
    def __init__(self, messages: list[EmailMessage]) -> None:
        self.messages = messages

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


class Mailbox:
    """aiosmtpd's SMTP server on 127.0.0.1, keeping every accepted message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self.controller = Controller(_Keep(self.messages), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def environment(self) -> dict[str, str]:
        return {
            "FINLENS_SMTP_HOST": "127.0.0.1",
            "FINLENS_SMTP_PORT": str(self.port),
            "FINLENS_SMTP_FROM": "finlens@bank.test",
        }


def parts(message: EmailMessage) -> dict[str, Any]:
    """The plain text, the HTML and the inline images of an e-mail."""
    found: dict[str, Any] = {"images": []}
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/plain":
            found["text"] = part.get_content()
        elif kind == "text/html":
            found["html"] = part.get_content()
        elif kind == "image/png":
            found["images"].append((part["Content-ID"], part.get_content()))
    return found


def metrics_with(folder: Path, files: dict[str, str]) -> Path:
    """A copy of the shipped models, catalog and boards under ``folder``, plus ``files`` (relative path → YAML)."""
    root = folder / "metrics"
    for name in ("models", "catalog", "boards"):
        shutil.copytree(ROOT / "metrics" / name, root / name)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
