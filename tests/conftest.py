from __future__ import annotations

import pytest

from semantic import load_catalog


@pytest.fixture(scope="session")
def catalog():
    """The shipped catalog in metrics/."""
    return load_catalog()


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server on 127.0.0.1 for the whole session (see tests/pg_server.py)."""
    from tests.pg_server import find_bindir, start_postgres

    if find_bindir() is None:
        pytest.fail("PostgreSQL server binaries missing: scripts/install-postgres installs them")
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_app_caches():
    """Streamlit's caches live for the process: an AppTest pointed at another catalog (FINLENS_METRICS) or
    warehouse must not leave its catalog or results to the next test."""
    import sys

    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()
    yield
