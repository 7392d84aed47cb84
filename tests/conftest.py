from __future__ import annotations

import sys

import pytest

from semantic import load_catalog
from tests.app_helpers import clear_app_caches


@pytest.fixture(scope="session")
def catalog():
    """The shipped catalog in metrics/ (named explicitly: the first test asking may have FINLENS_METRICS set to a copy)."""
    from finlens_common.settings import DEFAULT_METRICS_ROOT

    return load_catalog(DEFAULT_METRICS_ROOT)


@pytest.fixture(autouse=True)
def audit_trail(tmp_path_factory, monkeypatch):
    """Every test writes its audit trail to a file of its own, never to the project's data/ folder."""
    path = tmp_path_factory.mktemp("audit") / "audit.sqlite"
    monkeypatch.setenv("FINLENS_AUDIT", str(path))
    return path


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server on 127.0.0.1 for the whole session (see tests/pg_server.py)."""
    from tests.pg_server import find_bindir, start_postgres

    if find_bindir() is None:
        pytest.fail("PostgreSQL server binaries missing: scripts/install-postgres installs them")
    server = start_postgres()
    yield server
    server.stop()


MAIN_MODULE = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def fresh_app_state():
    """What an AppTest leaves behind in the process must not reach the next test.

    Streamlit's caches live for the process, so an AppTest pointed at another catalog (FINLENS_METRICS)
    or warehouse would hand its catalog and results on. And running the app script leaves it as
    ``__main__``, which worker processes started with "spawn" (the Sensors importer's) would run again.
    """
    clear_app_caches()
    yield
    sys.modules["__main__"] = MAIN_MODULE
