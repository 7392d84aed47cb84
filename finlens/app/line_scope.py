"""Which numbers apply to the business lines chosen in the sidebar.

Registrations, card bindings and new users are platform events: under a "forex" filter
they are not 0, they do not apply. A metric is *not applicable* to the chosen lines when,
over the whole data, it has events in some line but none in those chosen; the page then
says on which lines it is counted instead of printing a 0 (a metric with events in the
line and none in the range still shows its 0).
"""

from __future__ import annotations

from dataclasses import replace

from finlens.app import state as app_state
from finlens.app.filters import Filters
from finlens.app.i18n import section

LINE = "business_line"

text = section("board")


def applicability(metrics: tuple[str, ...], filters: Filters, *, where: str | None = None) -> dict[str, list[str]]:
    """Under a business-line filter: the metrics that have no event in the chosen lines, and the lines they do have.

    A metric absent from the answer applies (or no line is chosen). The question is asked over the whole
    data, not only the range, so a quiet week in the line still shows its 0.
    """
    chosen = dict(filters.values).get(LINE)
    catalog = app_state.catalog()
    if not chosen or LINE not in catalog.dimensions:
        return {}
    others = replace(
        filters,
        values=tuple(v for v in filters.values if v[0] != LINE),
        start=filters.data_start or filters.start,
        end=filters.data_end or filters.end,
    )
    single = [m for m in metrics if catalog.metrics[m].type in ("funnel", "retention")]
    batches = [(m,) for m in single] + (
        [tuple(m for m in metrics if m not in single)] if len(single) < len(metrics) else []
    )
    out: dict[str, list[str]] = {}
    for batch in batches:  # aggregate metrics in one query; a funnel or retention alone
        rows = app_state.run(others.query(batch, extra_where=where, dimensions=(LINE,))).rows
        for name in batch:
            column = {"funnel": "users", "retention": "cohort_size"}.get(catalog.metrics[name].type, name)
            lines = sorted({str(r[LINE]) for r in rows if r.get(column) and r[LINE] is not None})
            if lines and not set(lines) & set(chosen):
                out[name] = lines
    return out


def not_applicable_note(metric: str, lines: list[str], filters: Filters) -> str:
    """Why a number is not shown: on which lines the metric is counted, and which are chosen."""
    catalog = app_state.catalog()
    dim, lang = catalog.dimensions[LINE], filters.language
    chosen = dict(filters.values).get(LINE) or ()
    return text(
        "not_applicable_note",
        lang,
        metric=catalog.metrics[metric].label.get(lang),
        lines=", ".join(dim.value_label(v, lang) for v in lines),
        chosen=", ".join(dim.value_label(v, lang) for v in chosen),
    )
