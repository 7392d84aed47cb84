"""Alerts, subscriptions and the channels they notify, as declared in ``metrics/alerts`` and ``metrics/subscriptions``.

Specs only: what the YAML means, checked by ``alert_parser.py`` / ``subscription_parser.py``.
Channels name the environment variables that hold their secrets (a webhook URL, a signing
secret), never the secrets themselves: a repository must not carry them.
"""

from __future__ import annotations

from dataclasses import dataclass

from semantic.catalog.specs import Label, Source

ALERT_GRAINS = ("hour", "day")
CHANNEL_TYPES = ("wecom", "dingtalk", "feishu", "slack", "webhook", "email")
CHANGE_BASELINES = ("previous_period", "same_weekday_last_week")
DIRECTIONS = ("up", "down", "both")
SEASONALITIES = ("none", "daily", "weekly")


@dataclass(frozen=True)
class MetricRef:
    """What an alert watches: a catalog metric, a funnel step or a retention period.

    ``kind``: ``metric`` (any non-funnel, non-retention metric), ``funnel_step`` (conversion from step 1 to
    ``step``), ``funnel_users`` (users reaching ``step``), ``retention_rate`` (share of the cohort returning in
    period ``period``), ``retention_cohort`` (cohort size).
    """

    text: str
    metric: str
    kind: str
    step: int | None = None
    period: int | None = None

    @property
    def is_rate(self) -> bool:
        return self.kind in ("funnel_step", "retention_rate")


@dataclass(frozen=True)
class Condition:
    """Exactly one kind: ``threshold`` (above / below), ``change`` or ``anomaly``.

    ``change`` fires when ``|value - baseline| / |baseline|`` exceeds ``by_more_than`` in ``direction``;
    ``anomaly`` when the value leaves the seasonal band (``semantic/README.md``, Alerts).
    """

    kind: str
    above: float | None = None
    below: float | None = None
    vs: str | None = None
    by_more_than: float | None = None
    baseline_periods: int | None = None
    sensitivity: float | None = None
    seasonality: str | None = None
    direction: str = "both"


@dataclass(frozen=True)
class MinVolume:
    """Do not evaluate a period (nor use it as a baseline) whose volume is below ``at_least``."""

    metric: MetricRef
    at_least: float


@dataclass(frozen=True)
class Alert:
    """One watched number, evaluated per ``by`` value for each ``grain`` period on ``schedule``."""

    name: str
    label: Label
    description: str
    metric: MetricRef
    by: tuple[str, ...]
    where: str | None
    grain: str
    condition: Condition
    min_volume: MinVolume | None
    schedule: str
    notify: tuple[str, ...]
    cooldown_seconds: int
    source: Source


@dataclass(frozen=True)
class Channel:
    """Where messages go. Secrets come from the environment variables named here (or Streamlit secrets)."""

    name: str
    type: str
    url_env: str | None
    secret_env: str | None
    to: tuple[str, ...]
    source: Source


@dataclass(frozen=True)
class Subscription:
    """A board sent on a schedule: its last ``days`` complete days against the comparison, under its filters."""

    name: str
    label: Label
    board: str
    days: int
    compare: str
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    where: str | None
    language: str | None
    schedule: str
    notify: tuple[str, ...]
    source: Source


@dataclass(frozen=True)
class Notifications:
    """Every alert, subscription and channel of a catalog folder."""

    alerts: dict[str, Alert]
    subscriptions: dict[str, Subscription]
    channels: dict[str, Channel]
