"""Drill-downs as URLs: what was clicked travels in query parameters between pages.

A click on a tile, bar, point, funnel step or heatmap cell becomes a
:class:`Target` (metric, clicked values, where it leads); its query
parameters open the breakdown or user-list page, so every drill view is a
link that can be copied too.

A link is also something anyone can type, so :func:`from_params` checks every
parameter against the catalog before a query sees it: a metric and dimensions
that exist, a filter that passes the expression checker, days in range,
bounded numbers and text. Each bad parameter is one ``st.error`` line, and
the page then shows no drill rather than a guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from finlens_common.errors import QueryError
from semantic.catalog.catalog import Catalog
from semantic.catalog.days import DayError, as_day
from semantic.catalog.expression_guard import parse_user_filter
from semantic.catalog.expressions import SnippetError, did_you_mean
from semantic.catalog.specs import GRAINS
from semantic.drill.users import Drill

BREAKDOWN_PAGE = "finlens/pages/breakdown.py"
USERS_PAGE = "finlens/pages/users.py"
SEQUENCE_PAGE = "finlens/pages/sequence.py"
NULL = "∅"
KEYS = ("m", "by", "sel", "bucket", "grain", "step", "dropped", "cohort", "period", "retained", "where", "user", "p")
MAX_PARAM_LENGTH = 4000  # characters of one URL parameter (a filter's own limit)
MAX_SELECTIONS = 10  # clicked values one drill narrows by
MAX_STEP = 100  # funnel steps
MAX_PERIOD = 366  # retention periods
MAX_USER_ID = 200  # characters of a user id
BUCKET = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")


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
        return Drill(
            filters=self.filters,
            bucket=self.bucket,
            step=self.step,
            dropped=self.dropped,
            cohort=self.cohort,
            period=self.period,
            retained=self.retained,
        )

    def narrowed(self, name: str, value: Any) -> Target:
        """This target with one more clicked value (and no breakdown)."""
        return Target(**{**self.__dict__, "filters": (*self.filters, (name, value)), "by": None, "extra": {}})


def from_params() -> Target | None:
    """The checked target in the current URL; None when there is none or a parameter is refused (shown)."""
    from finlens.app import state as app_state

    params = {key: st.query_params.get_all(key) for key in KEYS}
    try:
        return parse_target(app_state.catalog(), params)
    except QueryError as err:
        st.error(str(err))
        return None


def parse_target(catalog: Catalog, params: Mapping[str, list[str]]) -> Target | None:
    """A :class:`Target` from URL parameters (each a list of values), every one checked against ``catalog``.

    Raises:
        QueryError: one line naming the parameter and what is wrong with it.
    """

    def one(key: str) -> str | None:
        values = params.get(key) or []
        if len(values) > 1:
            raise QueryError(f"URL parameter {key!r} is given {len(values)} times; give it once")
        value = values[0] if values else None
        if value is not None and len(value) > MAX_PARAM_LENGTH:
            raise QueryError(f"URL parameter {key!r} is {len(value):,} characters long; at most {MAX_PARAM_LENGTH:,}")
        return value or None

    metric_name = one("m")
    if metric_name is None:
        return None
    if metric_name not in catalog.metrics:
        raise QueryError(
            f"URL parameter 'm': unknown metric {metric_name!r}{did_you_mean(metric_name, catalog.metrics)}"
        )
    metric = catalog.metrics[metric_name]
    usable = {d.name for d in catalog.dimensions_for(metric.model)}
    selections = params.get("sel") or []
    if len(selections) > MAX_SELECTIONS:
        raise QueryError(f"URL parameter 'sel' is given {len(selections)} times; at most {MAX_SELECTIONS}")
    filters = []
    for item in selections:
        name, colon, value = item.partition(":")
        if not colon or name not in usable:
            raise QueryError(
                f"URL parameter 'sel': {item[:60]!r} is not DIMENSION:VALUE for a dimension of {metric_name!r}"
                f"{did_you_mean(name, usable)}"
            )
        if len(value) > MAX_PARAM_LENGTH:
            raise QueryError(
                f"URL parameter 'sel': the value for {name!r} is longer than {MAX_PARAM_LENGTH:,} characters"
            )
        filters.append((name, None if value == NULL else value))
    by = one("by")
    if by is not None and by not in usable:
        raise QueryError(
            f"URL parameter 'by': unknown dimension {by[:60]!r} for {metric_name!r}{did_you_mean(by, usable)}"
        )
    where = one("where")
    if where is not None:
        try:
            parse_user_filter(where, usable, "URL parameter 'where'")
        except SnippetError as err:
            raise QueryError(str(err)) from None
    grain = one("grain")
    if grain is not None and grain not in GRAINS:
        raise QueryError(f"URL parameter 'grain': {grain[:20]!r} is not one of {', '.join(GRAINS)}")
    bucket, cohort = one("bucket"), one("cohort")
    for key, value in (("bucket", bucket), ("cohort", cohort)):
        if value is not None:
            if not BUCKET.match(value):
                raise QueryError(
                    f"URL parameter {key!r}: {value[:40]!r} is not a day (YYYY-MM-DD, or YYYY-MM-DD HH:00:00 for hours)"
                )
            try:
                as_day(value[:10])
            except DayError as err:
                raise QueryError(f"URL parameter {key!r}: {err}") from None
    return Target(
        metric=metric_name,
        filters=tuple(filters),
        by=by,
        bucket=bucket,
        grain=grain,
        step=_number(one("step"), "step", 1, MAX_STEP),
        dropped=_flag(one("dropped"), "dropped"),
        cohort=cohort,
        period=_number(one("period"), "period", 0, MAX_PERIOD),
        retained=None if one("retained") is None else _flag(one("retained"), "retained"),
        where=where,
    )


def user_param() -> str:
    """The ``user`` URL parameter: a user id of printable text within :data:`MAX_USER_ID` characters, else ''."""
    raw = st.query_params.get("user", "")
    if len(raw) > MAX_USER_ID or not raw.isprintable():
        st.error(f"URL parameter 'user': not a user id (printable text of at most {MAX_USER_ID} characters)")
        return ""
    return raw.strip()


def _number(raw: str | None, key: str, low: int, high: int) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6 and low <= int(raw) <= high):
        raise QueryError(f"URL parameter {key!r}: {raw[:20]!r} is not a whole number from {low} to {high}")
    return int(raw)


def _flag(raw: str | None, key: str) -> bool:
    if raw not in (None, "0", "1"):
        raise QueryError(f"URL parameter {key!r}: {raw[:20]!r} is not 0 or 1")
    return raw == "1"


PAGE_PATHS = {BREAKDOWN_PAGE: "breakdown", USERS_PAGE: "users", SEQUENCE_PAGE: "sequence"}
KEPT = ("lang", "range", "compare")  # the sidebar's parameters travel with every drill link (and ``f_*``)
NAVIGATION_KEY = "finlens_navigating_to"  # the last drill link opened (what the browser is sent to)


def link(page: str, params: Mapping[str, str | list[str]]) -> str:
    """The relative URL of ``page`` on ``params`` plus the sidebar's current choices (a shareable drill link)."""
    kept: dict[str, list[str]] = {
        key: st.query_params.get_all(key) for key in st.query_params if key in KEPT or key.startswith("f_")
    }
    for key, value in params.items():
        kept[key] = [value] if isinstance(value, str) else list(value)
    return f"{PAGE_PATHS[page]}?{urlencode(kept, doseq=True)}"


def go(page: str, target: Target) -> None:
    """Open ``page`` on ``target``: one browser history entry holding exactly that view.

    ``st.switch_page(query_params=...)`` writes the new parameters into the current page's URL first
    (one history entry) and then changes page (a second), so Back led to the old page under the new
    parameters: a view nobody saw (all 1,023 users instead of the 421 of the clicked bar). Instead the
    browser is sent the link itself: ``history.pushState`` of the exact URL and a ``popstate``, which the
    app answers as it answers Back and Forward, by running that page on that URL.
    """
    follow(link(page, target.params()))


def open_user(user_id: str) -> None:
    """Open one user's event sequence."""
    follow(link(SEQUENCE_PAGE, {"user": str(user_id)}))


def follow(url: str) -> None:
    """Send the browser to ``url`` (relative, built by :func:`link`) as one history entry, and end this run."""
    st.session_state[NAVIGATION_KEY] = url
    target = json.dumps(url).replace("<", "\\u003c")  # urlencoded already; never a closing tag in the script
    st.html(
        "<script>window.history.pushState({}, '', " + target + ");"
        "window.dispatchEvent(new PopStateEvent('popstate'));</script>",
        unsafe_allow_javascript=True,
    )
    st.stop()
