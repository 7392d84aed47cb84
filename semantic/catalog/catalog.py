"""The whole catalog: every model, dimension, metric and segment, validated together.

Kept apart from the single specs (``specs.py``, ``segment_specs.py``) so that
each of those can be read without the other; this is where they meet.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from semantic.catalog.access_specs import Role
from semantic.catalog.segment_specs import Segment
from semantic.catalog.specs import Dimension, Metric, Model


@dataclass(frozen=True)
class Catalog:
    """Every model, dimension and metric, validated together."""

    models: dict[str, Model]
    dimensions: dict[str, Dimension]
    metrics: dict[str, Metric]
    root: str = field(default="")
    segments: dict[str, Segment] = field(default_factory=dict)
    allowed_functions: frozenset[str] = frozenset()  # settings.yml: more functions YAML snippets may call
    role: Role | None = None  # set by for_role: every query compiled from this catalog sees only the role's rows
    rollups: frozenset[str] | None = None  # current in the warehouse (compiler/rollup_state.py); None: not looked up

    def for_role(self, role: Role) -> Catalog:
        """This catalog as ``role`` sees it: the compiler applies the role's row filters to every read of a model."""
        return replace(self, role=role)

    def metric(self, name: str) -> Metric:
        return self.metrics[name]

    def dimensions_for(self, model: str) -> list[Dimension]:
        """Dimensions usable with metrics of ``model``: its own and those of models it joins."""
        reachable = {model} | {join.model for join in self.models[model].joins}
        return [d for d in self.dimensions.values() if d.model in reachable]
