"""Drill-downs as URLs: what was clicked travels in query parameters between pages.

A click on a tile, bar, point, funnel step or heatmap cell becomes a
:class:`Target` (metric, clicked values, where it leads); its query
parameters open the breakdown or user-list page, so every drill view is a
link that can be copied too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from semantic.drill import Drill

BREAKDOWN_PAGE = "pages/breakdown.py"
USERS_PAGE = "pages/users.py"
SEQUENCE_PAGE = "pages/sequence.py"
NULL = "∅"
KEYS = ("m", "by", "sel", "bucket", "grain", "step", "dropped", "cohort", "period", "retained", "where", "user", "p")


@dataclass(frozen=True)
class Target:
    """What a click asks about: a metric under some clicked values, optionally broken down by ``by``."""

    metric: str
    filters: tuple[tuple[str, Any], ...] = ()
    by: str | None = None
    bucket: str | None = None
    grain: str | None = None
    step: int | None = None
    dropped: bool = False
    cohort: str | None = None
    period: int | None = None
    retained: bool | None = None
    where: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, str | list[str]]:
        """The query parameters that reproduce this target."""
        out: dict[str, str | list[str]] = {"m": self.metric}
        if self.filters:
            out["sel"] = [f"{name}:{NULL if value is None else value}" for name, value in self.filters]
        for key in ("by", "bucket", "grain", "step", "cohort", "period", "where"):
            value = getattr(self, key)
            if value is not None and value != "":
                out[key] = str(value)
        if self.dropped:
            out["dropped"] = "1"
        if self.retained is not None:
            out["retained"] = "1" if self.retained else "0"
        out.update(self.extra)
        return out

    def drill(self) -> Drill:
        return Drill(filters=self.filters, bucket=self.bucket, step=self.step, dropped=self.dropped,
                     cohort=self.cohort, period=self.period, retained=self.retained)

    def narrowed(self, name: str, value: Any) -> Target:
        """This target with one more clicked value (and no breakdown)."""
        return Target(**{**self.__dict__, "filters": (*self.filters, (name, value)), "by": None, "extra": {}})


def from_params() -> Target | None:
    """The target in the current URL, or None when there is none."""
    params = st.query_params
    metric = params.get("m")
    if not metric:
        return None
    filters = []
    for item in params.get_all("sel"):
        name, _, value = item.partition(":")
        filters.append((name, None if value == NULL else value))

    def number(key: str) -> int | None:
        raw = params.get(key)
        return int(raw) if raw and raw.lstrip("-").isdigit() else None

    retained = params.get("retained")
    return Target(
        metric=metric, filters=tuple(filters), by=params.get("by") or None, bucket=params.get("bucket") or None,
        grain=params.get("grain") or None, step=number("step"), dropped=params.get("dropped") == "1",
        cohort=params.get("cohort") or None, period=number("period"),
        retained=None if retained is None else retained == "1", where=params.get("where") or None,
    )


def go(page: str, target: Target) -> None:
    """Open ``page`` on ``target``; the sidebar's bound widgets put their own parameters back."""
    st.switch_page(page, query_params=target.params())
