"""Comparing two conversion rates: lift, a two-proportion z-test and a confidence interval.

Textbook formulas, written out so they can be checked by hand:

- rates ``p1 = x1 / n1`` (control) and ``p2 = x2 / n2`` (variant); absolute lift ``p2 - p1``,
  relative lift ``(p2 - p1) / p1`` (None when ``p1`` is 0);
- z-test with the pooled rate ``p = (x1 + x2) / (n1 + n2)``: ``z = (p2 - p1) / sqrt(p (1 - p) (1/n1 + 1/n2))``,
  two-sided p-value ``erfc(|z| / sqrt 2)``; None when there is no variation at all (p is 0 or 1);
- the confidence interval of ``p2 - p1`` uses the unpooled (Wald) standard error
  ``sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2)`` and the normal quantile of the confidence level.

The normal approximation wants roughly ten conversions and ten non-conversions per group;
:attr:`Comparison.small_sample` says when that does not hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class Comparison:
    """A variant against the control."""

    rate: float | None
    control_rate: float | None
    lift: float | None
    relative_lift: float | None
    z: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    small_sample: bool


def rate(converted: int, users: int) -> float | None:
    return converted / users if users else None


def compare(control: tuple[int, int], variant: tuple[int, int], confidence: float = 0.95) -> Comparison:
    """``control`` and ``variant`` as (converted, users).

    >>> c = compare((100, 1000), (130, 1000))
    >>> round(c.z, 4), round(c.p_value, 4), round(c.ci_low, 5), round(c.ci_high, 5)
    (2.1027, 0.0355, 0.00207, 0.05793)
    """
    (x1, n1), (x2, n2) = control, variant
    for converted, users in (control, variant):
        if users < 0 or converted < 0 or converted > users:
            raise ValueError(f"{converted} converted out of {users} users is not a proportion")
    p1, p2 = rate(x1, n1), rate(x2, n2)
    small = min(x1, n1 - x1, x2, n2 - x2) < 10
    if p1 is None or p2 is None:
        return Comparison(p2, p1, None, None, None, None, None, None, True)
    lift = p2 - p1
    relative = lift / p1 if p1 else None
    pooled = (x1 + x2) / (n1 + n2)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = lift / pooled_se if pooled_se else None
    p_value = math.erfc(abs(z) / math.sqrt(2)) if z is not None else None
    quantile = NormalDist().inv_cdf(0.5 + confidence / 2)
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return Comparison(p2, p1, lift, relative, z, p_value, lift - quantile * se, lift + quantile * se, small)
