"""Typed field access on YAML mappings that records problems instead of raising.

Validation reports every mistake at once, so readers return a fallback and
note a :class:`~finlens_common.errors.CatalogProblem` at the offending key's line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlglot import exp

from finlens_common.errors import CatalogProblem
from semantic.catalog.expression_guard import parse_yaml_snippet
from semantic.catalog.expressions import SnippetError, did_you_mean
from semantic.catalog.specs import Label
from semantic.catalog.yaml_lines import LineList, LineMap

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_INTEGER = 1_000_000_000
MAX_DAYS = 36_600  # a window of days: a hundred years at most, so date arithmetic never leaves the calendar


def parse_duration(text: object) -> int:
    """Seconds in a duration such as ``30m``, ``7d`` or ``1800s``.

    >>> parse_duration("7d"), parse_duration("30m")
    (604800, 1800)
    """
    match = _DURATION.match(str(text)) if isinstance(text, (str, int)) and len(str(text)) <= 20 else None
    if not match:
        raise ValueError(
            f"{str(text)[:40]!r} is not a duration; write a number and a unit s, m, h, d or w, e.g. 30m or 7d"
        )
    seconds = int(match.group(1)) * _DURATION_SECONDS[match.group(2)]
    if not 0 < seconds <= MAX_DAYS * 86400:
        raise ValueError(f"{text!r} is not a duration from 1 second to {MAX_DAYS:,} days")
    return seconds


class Problems:
    """Collects catalog problems across files, and carries what the project allows while reading them.

    Args:
        extra_functions: functions the project's ``metrics/settings.yml`` allows in YAML snippets
            (lower case); the built-in deny-list still wins.
    """

    def __init__(self, extra_functions: frozenset[str] = frozenset()) -> None:
        self.items: list[CatalogProblem] = []
        self.extra_functions = extra_functions

    def add(self, file: str, line: int, message: str) -> None:
        self.items.append(CatalogProblem(file, line, message))


class Fields:
    """Reads one YAML mapping's keys, checking types and reporting at ``file:line``.

    Args:
        mapping: the mapping (a :class:`LineMap` from ``load_yaml``).
        file: the file's path as shown in messages.
        what: how to call this mapping in messages (``metric 'pv'``).
        allowed: every key the mapping may have; others are reported.
    """

    def __init__(self, mapping: LineMap, file: str, problems: Problems, what: str, allowed: Iterable[str]):
        self.mapping = mapping
        self.file = file
        self.problems = problems
        self.what = what
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                self.error(str(key), f"{what}: unknown key {key!r}{did_you_mean(str(key), allowed)}")

    def line(self, key: str | None = None) -> int:
        return self.mapping.line_of(key) if key else self.mapping.line

    def error(self, key: str | None, message: str) -> None:
        self.problems.add(self.file, self.line(key), message)

    def has(self, key: str) -> bool:
        return key in self.mapping

    def raw(self, key: str) -> Any:
        return self.mapping.get(key)

    def string(self, key: str, *, required: bool = True, default: str | None = None) -> str | None:
        if key not in self.mapping or self.mapping[key] is None:
            if required:
                self.error(None, f"{self.what}: missing required key {key!r}")
            return default
        value = self.mapping[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(key, f"{self.what}: {key!r} must be a string, not {_kind(value)}")
            return default
        return str(value)

    def description(self, key: str = "description") -> tuple[str, str]:
        """A description as ``(en, zh)``: a plain string (the same in both languages) or ``{zh: ..., en: ...}``."""
        value = self.mapping.get(key)
        if isinstance(value, LineMap):
            label = self.label(key)
            return label.en, label.zh
        return self.string(key, required=False, default="") or "", ""

    def event_names(self, key: str = "event") -> tuple[str, ...] | None:
        """An event name or a list of them (a step matched by any)."""
        value = self.mapping.get(key)
        if isinstance(value, str) and value:
            return (value,)
        if isinstance(value, LineList) and value and all(isinstance(v, str) and v for v in value):
            return tuple(value)
        if value is None:
            self.error(None, f"{self.what}: missing required key {key!r}")
        else:
            self.error(key, f"{self.what}: {key!r} must be an event name or a list of event names")
        return None

    def name(self, key: str = "name") -> str | None:
        value = self.string(key)
        if value is not None and not _NAME.match(value):
            self.error(key, f"{self.what}: name {value!r} must be lower_snake_case (letters, digits, _)")
        return value

    def choice(self, key: str, options: Iterable[str], *, default: str | None = None) -> str | None:
        options = list(options)
        value = self.string(key, required=default is None, default=default)
        if value is None:
            return None
        if value.lower() not in options:
            self.error(
                key,
                f"{self.what}: {key} {value!r} is not one of {', '.join(options)}{did_you_mean(value.lower(), options)}",
            )
            return default
        return value.lower()

    def integer(
        self, key: str, *, default: int | None = None, minimum: int = 1, maximum: int = MAX_INTEGER
    ) -> int | None:
        value = self.mapping.get(key, default)
        if value is None:
            self.error(None, f"{self.what}: missing required key {key!r}")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(key, f"{self.what}: {key!r} must be a whole number >= {minimum}, not {value!r}")
            return default
        if value > maximum:
            self.error(key, f"{self.what}: {key!r} must be at most {maximum:,}, not {value!r}")
            return default
        return value

    def duration(self, key: str, *, default: str | None = None) -> int | None:
        value = self.mapping.get(key, default)
        if value is None:
            self.error(None, f"{self.what}: missing required key {key!r}")
            return None
        try:
            return parse_duration(value)
        except ValueError as err:
            self.error(key, f"{self.what}: {key}: {err}")
            return None

    def label(self, key: str = "label") -> Label:
        value = self.mapping.get(key)
        if (
            not isinstance(value, LineMap)
            or not isinstance(value.get("zh"), str)
            or not isinstance(value.get("en"), str)
        ):
            self.error(
                key if key in self.mapping else None, f"{self.what}: {key!r} must be a mapping with zh and en strings"
            )
            return Label(zh="", en="")
        Fields(value, self.file, self.problems, f"{self.what} {key}", ("zh", "en"))
        return Label(zh=value["zh"], en=value["en"])

    def mapping_at(self, key: str, *, required: bool = True) -> LineMap | None:
        value = self.mapping.get(key)
        if value is None:
            if required:
                self.error(None, f"{self.what}: missing required key {key!r}")
            return None
        if not isinstance(value, LineMap):
            self.error(key, f"{self.what}: {key!r} must be a mapping, not {_kind(value)}")
            return None
        return value

    def list_at(self, key: str, *, required: bool = True) -> LineList | None:
        value = self.mapping.get(key)
        if value is None:
            if required:
                self.error(None, f"{self.what}: missing required key {key!r}")
            return None
        if not isinstance(value, LineList):
            self.error(key, f"{self.what}: {key!r} must be a list, not {_kind(value)}")
            return None
        return value

    def snippet(self, key: str, names: Iterable[str] | None, *, required: bool = False) -> exp.Expr | None:
        """Parse a row-level SQL snippet over ``names`` through the one expression checker.

        Every problem (syntax, a name, a function, a bound) is reported at the key's line.
        ``names`` None accepts any plain name (derived metrics name other metrics, checked later).
        """
        if key not in self.mapping or self.mapping[key] is None:
            if required:
                self.error(None, f"{self.what}: missing required key {key!r}")
            return None
        try:
            return parse_yaml_snippet(self.mapping[key], names, f"{self.what}: {key}", self.problems.extra_functions)
        except SnippetError as err:
            self.error(key, str(err))
            return None


def _kind(value: Any) -> str:
    if isinstance(value, LineMap):
        return "a mapping"
    if isinstance(value, LineList):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    return type(value).__name__
