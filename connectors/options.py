"""Connection options every network warehouse shares, read from the URL's query string.

``?connect_timeout=10&query_timeout=300`` (seconds). Defaults keep a bad host
from hanging the CLI or the app: 10 s to connect, 300 s per query.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from finlens_common.errors import WarehouseError

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_QUERY_TIMEOUT = 300.0


@dataclass(frozen=True)
class ConnectionOptions:
    connect_timeout: float
    query_timeout: float
    extra: dict[str, str]


def connection_options(url: str, redacted: str) -> ConnectionOptions:
    """Timeouts (and any other query parameters) from ``url``; one-line error for a bad value."""
    params = dict(parse_qsl(urlsplit(url).query))
    values = {}
    for name, default in (("connect_timeout", DEFAULT_CONNECT_TIMEOUT), ("query_timeout", DEFAULT_QUERY_TIMEOUT)):
        text = params.pop(name, None)
        try:
            values[name] = float(text) if text is not None else default
        except ValueError:
            raise WarehouseError(f"warehouse {redacted}: {name} must be a number of seconds, not {text!r}") from None
        if values[name] <= 0:
            raise WarehouseError(f"warehouse {redacted}: {name} must be positive, not {text!r}")
    return ConnectionOptions(values["connect_timeout"], values["query_timeout"], params)


def local_path(url: str) -> str:
    """The path a file-backed warehouse URL names: ``scheme:///relative``, ``scheme:////absolute``
    (SQLAlchemy's convention), ``:memory:`` for in-memory DuckDB."""
    parts = urlsplit(url)
    path = (parts.netloc + parts.path) if parts.netloc else parts.path
    path = path[1:] if path.startswith("/") else path
    if not path:
        raise WarehouseError(
            f"warehouse URL {url!r} names no file; write {parts.scheme}:///relative/path or {parts.scheme}:////absolute/path"
        )
    return path
