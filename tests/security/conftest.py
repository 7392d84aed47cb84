"""Warehouses on the three engines holding a few rows, a scene per test, a catalog loaded once."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

import semantic
import semantic.catalog.loader
from connectors import connect
from tests.security.hostile import Scene
from tests.warehouse_fixtures import load

EVENTS = [
    {
        "event_time": "2026-10-01 09:00:00",
        "event": "$AppViewScreen",
        "user_id": "u1",
        "platform": "iOS",
        "page": "home",
        "utm_source": "wechat",
        "business_line": "platform",
    },
    {
        "event_time": "2026-10-01 09:01:00",
        "event": "register",
        "user_id": "u1",
        "platform": "iOS",
        "business_line": "platform",
    },
    {
        "event_time": "2026-10-01 09:05:00",
        "event": "bind_card",
        "user_id": "u1",
        "platform": "iOS",
        "is_success": True,
        "business_line": "platform",
    },
    {
        "event_time": "2026-10-02 10:00:00",
        "event": "$AppViewScreen",
        "user_id": "u2",
        "platform": "Android",
        "page": "home",
        "utm_source": "seo",
        "business_line": "platform",
    },
    {
        "event_time": "2026-10-02 10:02:00",
        "event": "register",
        "user_id": "u2",
        "platform": "Android",
        "business_line": "platform",
    },
    {
        "event_time": "2026-10-03 11:00:00",
        "event": "P2P_invest",
        "user_id": "u1",
        "platform": "iOS",
        "amount": 1000.0,
        "is_success": True,
        "business_line": "p2p",
    },
]
USERS = [
    {"user_id": "u1", "register_time": "2026-10-01 09:01:00", "register_channel": "wechat", "register_platform": "iOS"},
    {
        "user_id": "u2",
        "register_time": "2026-10-02 10:02:00",
        "register_channel": "seo",
        "register_platform": "Android",
    },
]
ENGINES = ("duckdb", "postgres", "chdb")


@pytest.fixture(scope="session")
def engine_urls(tmp_path_factory, postgres_server):
    """engine → (URL to query with, URL the loader wrote with); PostgreSQL is queried as the SELECT-only role."""
    folder = tmp_path_factory.mktemp("security")
    chdb_dir = Path(tempfile.mkdtemp(prefix="finlens-security-chdb-"))
    owner = postgres_server.url.rsplit("/", 1)[0] + "/security"
    with connect(postgres_server.url, read_only=False) as admin:
        admin.execute("DROP DATABASE IF EXISTS security")
        admin.execute("CREATE DATABASE security")
    urls = {
        "duckdb": (f"duckdb:///{folder.as_posix()}/security.duckdb",) * 2,
        "postgres": (postgres_server.reader(owner), owner),
        "chdb": (f"chdb:///{chdb_dir.as_posix()}",) * 2,
    }
    for _, writer in urls.values():
        with connect(writer, read_only=False) as warehouse:
            load(warehouse, EVENTS, USERS)
    yield urls
    shutil.rmtree(chdb_dir, ignore_errors=True)


@pytest.fixture()
def scene(tmp_path) -> Scene:
    return Scene(tmp_path)


_CATALOGS: dict[str, semantic.Catalog] = {}


@pytest.fixture(autouse=True)
def catalog_loaded_once(monkeypatch):
    """Every CLI call in these tests reads the same catalog folders; load each once (the CLI re-reads per call)."""
    cache = _CATALOGS
    original = semantic.catalog.loader.load_catalog

    def cached(root=None):
        key = str(Path(root).resolve() if root is not None else semantic.catalog.loader.default_root().resolve())
        if key not in cache:
            cache[key] = original(root)
        return cache[key]

    monkeypatch.setattr(semantic, "load_catalog", cached)
    monkeypatch.setattr(semantic.catalog.loader, "load_catalog", cached)
