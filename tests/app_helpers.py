"""A small demo warehouse shared by the app tests (AppTest and the real browser)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs

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


def clear_app_caches() -> None:
    """Empty Streamlit's process-wide caches; a released warehouse connection is closed (``on_release``).

    An AppTest's results and connections outlive it in the process: another test's catalog or
    warehouse must not inherit them, and chdb serves one data folder per process until its session closes.
    """
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()


def problems(at) -> list[str]:
    """Exceptions and error elements an AppTest run rendered."""
    return [e.value for e in at.exception] + [e.value for e in at.error]


def warnings(at) -> list[str]:
    """The page's warnings, without the banner every page shows when no sign-in is configured (the demo)."""
    from finlens.app.i18n import t

    banners = {t("access.no_sign_in", language) for language in ("en", "zh")}
    return [w.value for w in at.warning if w.value not in banners]


def follow(at):
    """Open the drill link the last run sent the browser to, as the browser does (an AppTest runs no JavaScript).

    A click on a tile, bar, pill or row ends its run by sending the browser one link
    (``finlens.app.drill.follow``); the browser opens that page on those parameters.
    """
    from finlens.app.drill import NAVIGATION_KEY, PAGE_PATHS

    assert NAVIGATION_KEY in at.session_state, "the run opened no drill link"
    url = at.session_state[NAVIGATION_KEY]
    del at.session_state[NAVIGATION_KEY]
    path, _, query = url.partition("?")
    pages = {name: page for page, name in PAGE_PATHS.items()}
    at.query_params.clear()
    at.query_params.update(parse_qs(query, keep_blank_values=True))
    return at.switch_page(pages[path]).run()


def unescaped(text: str) -> str:
    """Markdown text as it reads on screen: the backslashes that keep typed text literal removed."""
    import re

    return re.sub(r"\\([\\`*_{}\[\]()<>#+\-.!|~$:])", r"\1", text)


def sign_in(at, email: str, groups: tuple[str, ...] = ()):
    """Make ``at`` an OIDC deployment (an ``[auth]`` secret) with ``email`` signed in, holding ``groups``."""
    at.secrets = {"auth": {"client_id": "finlens", "client_secret": "test", "redirect_uri": "http://x/oauth2callback"}}
    at.user = {"is_logged_in": True, "email": email, "groups": list(groups)}
    return at


def open_url_path(at, url_path: str):
    """Open the page the URL ``/<url_path>`` routes to, as a typed link does (also a page the menu does not show)."""
    at._page_hash = next(  # noqa: SLF001 - AppTest.switch_page only takes files; a refused page is not one
        page_hash
        for page_hash, info in at._registered_pages.items()
        if info.get("url_pathname") == url_path  # noqa: SLF001
    )
    return at.run()
