"""The words of alert and digest messages, one catalog per language (``locales/en.yml``, ``locales/zh.yml``).

Apart from the app's catalog because messages are written where no page runs (``finlens alerts
serve``); ``tests/test_alert_messages.py`` keeps the two languages' keys and placeholders equal.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

LOCALES = Path(__file__).resolve().parent / "locales"


@cache
def catalog(language: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in yaml.safe_load((LOCALES / f"{language}.yml").read_text("utf-8")).items()}


def word(key: str, language: str, **values: Any) -> str:
    """``key`` in ``language`` (zh or en), placeholders filled; English when a language lacks it."""
    text = catalog(language if language in ("zh", "en") else "en").get(key) or catalog("en")[key]
    return text.format(**values) if values else text
