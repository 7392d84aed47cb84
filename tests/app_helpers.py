"""A small demo warehouse shared by the app tests (AppTest and the real browser)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from connectors import connect

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"
DEMO_END = date(2026, 10, 31)


def make_demo(path: Path, users: int = 1500, days: int = 60) -> str:
    """Generate the demo into ``path`` (absolute) and return its URL."""
    from ingest.demo import generate_demo

    url = f"duckdb:///{path.resolve().as_posix()}"
    with connect(url, read_only=False) as warehouse:
        generate_demo(warehouse, users=users, days=days, end=DEMO_END)
    return url


def problems(at) -> list[str]:
    """Exceptions and error elements an AppTest run rendered."""
    return [e.value for e in at.exception] + [e.value for e in at.error]
