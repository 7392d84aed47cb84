"""The app's words in Chinese and English: one message catalog per language (``locales/zh.yml``, ``locales/en.yml``).

Metric, dimension and board labels come from the YAML under ``metrics/``; the
app's own words come from here. Keys are ``section.key``, a section per page
that has words of its own (``intent.tiers``); a key without a section is in
``common``. ``tests/test_i18n.py`` fails when a key is missing from either
catalog or a code asks for a key neither has.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("en", "zh")
MISSING: set[str] = set()  # keys asked for that a catalog lacks (tests/test_i18n.py renders every page and reads this)
LOCALES = Path(__file__).resolve().parent / "locales"
_MARKDOWN = {ord(ch): "\\" + ch for ch in "\\`*_{}[]()<>#+-.!|~$:"}


@cache
def catalog(language: str) -> dict[str, str]:
    """Every message of ``language`` by its dotted key."""
    document = yaml.safe_load((LOCALES / f"{language}.yml").read_text(encoding="utf-8"))
    return {f"{section}.{key}": str(text) for section, texts in document.items() for key, text in texts.items()}


def t(key: str, language: str = "en", **values: Any) -> str:
    """``key``'s text in ``language`` (zh or en), with ``{placeholders}`` filled from ``values``.

    A key missing from the language falls back to English, then to the key itself (a visible bug, never a crash).
    """
    dotted = key if "." in key else f"common.{key}"
    text = catalog(language if language in LANGUAGES else "en").get(dotted)
    if text is None:
        MISSING.add(f"{language}:{dotted}")
        text = catalog("en").get(dotted, key)
    return text.format(**values) if values else text


def section(name: str) -> Callable[..., str]:
    """``t`` for one page's section: ``text = section("intent")`` then ``text("tiers", lang)``."""

    def text(key: str, language: str = "en", **values: Any) -> str:
        return t(f"{name}.{key}", language, **values)

    return text


def plain(text: object) -> str:
    """``text`` shown as typed inside Streamlit markdown (captions, titles): no links, emphasis or LaTeX from a URL."""
    return str(text).translate(_MARKDOWN)
