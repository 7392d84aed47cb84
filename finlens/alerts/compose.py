"""Alert messages in the deployment's language: what fired, its value, baseline and bounds, a chart and a link.

A :class:`Message` holds the content once; ``formats.py`` shapes it for each channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from finlens.alerts.links import alert_view
from finlens.alerts.words import word
from semantic.analyses.alert_eval import Evaluation
from semantic.catalog.alert_specs import Alert, MetricRef
from semantic.catalog.catalog import Catalog
from semantic.catalog.formatting import format_value
from semantic.catalog.specs import FunnelMetric


@dataclass(frozen=True)
class Message:
    """One message: a title, a sentence, labelled lines, a link, an optional PNG, and the data behind it."""

    kind: str  # fired, resolved, digest
    language: str
    title: str
    summary: str
    fields: tuple[tuple[str, str], ...]
    link: str
    image: bytes | None = None
    image_url: str | None = None
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()  # digests: a heading and its lines
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def link_text(self) -> str:
        return word("open_app", self.language)

    def plain(self) -> str:
        lines = [self.title, "", self.summary, ""] if self.summary else [self.title, ""]
        lines += [f"{label}: {value}" for label, value in self.fields]
        for heading, items in self.sections:
            lines += ["", heading, *items]
        lines += ["", f"{self.link_text}: {self.link}"]
        return "\n".join(lines)


def metric_label(catalog: Catalog, ref: MetricRef, language: str) -> str:
    """How people read what an alert watches: the metric's label, or the funnel step's or retention day's."""
    metric = catalog.metrics[ref.metric]
    label = metric.label.get(language)
    if ref.kind in ("funnel_step", "funnel_users") and isinstance(metric, FunnelMetric) and ref.step:
        step = metric.steps[ref.step - 1].label.get(language)
        return word("conversion_to" if ref.kind == "funnel_step" else "users_at", language, funnel=label, step=step)
    if ref.kind == "retention_rate":
        return word("retention_day", language, retention=label, n=ref.period)
    if ref.kind == "retention_cohort":
        return word("cohort_size", language, retention=label)
    return label


def metric_format(catalog: Catalog, ref: MetricRef) -> str:
    if ref.is_rate:
        return "percent"
    if ref.kind != "metric":
        return "number"
    return catalog.metrics[ref.metric].format


def by_label(catalog: Catalog, by: dict[str, Any], language: str) -> str:
    """``应用版本 5.2.0`` / ``App version 5.2.0, Platform iOS``; empty without ``by``."""
    parts = []
    for name, value in by.items():
        dimension = catalog.dimensions[name]
        shown = "∅" if value is None else dimension.value_label(value, language)
        parts.append(f"{dimension.label.get(language)} {shown}")
    return ", ".join(parts)


def rule_text(evaluation: Evaluation, fmt: str, language: str) -> str:
    o = evaluation.outcome
    if o.low is not None and o.high is not None:
        return word("outside", language, low=format_value(o.low, fmt), high=format_value(o.high, fmt))
    if o.high is not None:
        return word("above", language, value=format_value(o.high, fmt))
    return word("below", language, value=format_value(o.low, fmt))


def condition_text(alert: Alert, fmt: str, language: str) -> str:
    c = alert.condition
    if c.kind == "threshold":
        sides = []
        if c.above is not None:
            sides.append(word("above", language, value=format_value(c.above, fmt)))
        if c.below is not None:
            sides.append(word("below", language, value=format_value(c.below, fmt)))
        return " / ".join(sides)
    if c.kind == "change":
        return word("change", language, share=format_value(c.by_more_than, "percent"), vs=word(f"vs_{c.vs}", language))
    return word("anomaly", language, sensitivity=f"{c.sensitivity:g}", periods=c.baseline_periods)


def alert_message(
    catalog: Catalog,
    alert: Alert,
    evaluation: Evaluation,
    kind: str,
    language: str,
    *,
    opened_period: str | None = None,
    image: bytes | None = None,
    image_url: str | None = None,
) -> Message:
    """The announcement (``kind`` fired) or the recovery (``resolved``) of ``evaluation``'s incident."""
    fmt = metric_format(catalog, alert.metric)
    o = evaluation.outcome
    where = by_label(catalog, evaluation.by, language)
    label = alert.label.get(language) + (f" · {where}" if where else "")
    value = format_value(o.value, fmt)
    rule = rule_text(evaluation, fmt, language)
    summary = (
        word("fired_because", language, value=value, rule=rule)
        if kind == "fired"
        else word("resolved_because", language, value=value, rule=word("band", language))
    )
    grain = word(f"grain_{evaluation.period.grain}", language)
    fields: list[tuple[str, str]] = [
        (word("metric", language), metric_label(catalog, alert.metric, language)),
        (word("segment", language), where or word("all", language)),
        (word("period", language), f"{evaluation.period.label} ({grain})"),
        (word("value", language), value),
    ]
    if alert.condition.kind == "threshold":
        fields.append((word("threshold", language), condition_text(alert, fmt, language)))
    else:
        baseline_word = "expected" if alert.condition.kind == "anomaly" else "baseline"
        fields.append((word(baseline_word, language), format_value(o.baseline, fmt)))
        low = format_value(o.low, fmt) if o.low is not None else "−∞"
        high = format_value(o.high, fmt) if o.high is not None else "+∞"
        fields.append((word("band", language), f"{low} – {high}"))
        fields.append((word("condition", language), condition_text(alert, fmt, language)))
    if o.volume is not None and alert.min_volume is not None:
        volume_label = metric_label(catalog, alert.min_volume.metric, language)
        fields.append((word("volume", language), f"{format_value(o.volume, 'number')} ({volume_label})"))
    if alert.where:
        fields.append((word("filter", language), alert.where))
    if opened_period and kind == "resolved":
        fields.append((word("since", language), opened_period))
    return Message(
        kind=kind,
        language=language,
        title=word(f"{kind}_title", language, label=label),
        summary=summary,
        fields=tuple(fields),
        link=alert_view(alert.name, evaluation.key, language),
        image=image,
        image_url=image_url,
        data={"kind": f"alert_{kind}", **evaluation.to_json(), "label": label, "opened_period": opened_period},
    )
