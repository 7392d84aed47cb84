from __future__ import annotations

import pytest

from semantic import load_catalog


@pytest.fixture(scope="session")
def catalog():
    """The shipped catalog in metrics/."""
    return load_catalog()
