"""What purchase intent means, as typed specs: the weighted events, the tiers, the product preference.

:mod:`semantic.analyses.intent` reads them from ``metrics/marketing/intent.yml``, where every rule is documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlglot import exp

from semantic.catalog.specs import Label, Source


@dataclass(frozen=True)
class WeightRule:
    """Events (any of the names) matching an optional filter add ``weight`` to a user's score."""

    events: tuple[str, ...]
    filter: exp.Expr | None
    weight: int | float
    label: Label
    source: Source


@dataclass(frozen=True)
class Tier:
    """The users ranked within the top ``top`` share (cumulative), minus the tiers above."""

    name: str
    top: Fraction
    label: Label


@dataclass(frozen=True)
class ScoreSpec:
    """The purchase-intent score: weighted events summed per user over the window, and its tiers."""

    name: str
    label: Label
    description: str
    window_days: int
    model: str
    rules: tuple[WeightRule, ...]
    tiers: tuple[Tier, ...]
    source: Source


@dataclass(frozen=True)
class PreferenceSpec:
    """Each user's share of dwell time by ``by`` on the matching events; preferred above ``threshold``."""

    window_days: int
    model: str
    events: tuple[str, ...]
    filter: exp.Expr | None
    dwell: str
    by: str
    threshold: Fraction
    source: Source


@dataclass(frozen=True)
class IntentSpec:
    """``metrics/marketing/intent.yml``: the score with its tiers, and the preference."""

    score: ScoreSpec
    preference: PreferenceSpec
    file: str
