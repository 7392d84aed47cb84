"""Every marketing file (and every path analysis) checked at once, for ``finlens validate``: each analysis reads its own file."""

from __future__ import annotations

from pathlib import Path

from finlens_common.errors import CatalogProblem
from semantic.analyses.channel_quality import channel_problems
from semantic.analyses.distributions import distribution_problems
from semantic.analyses.experiments import experiment_problems
from semantic.analyses.intent import intent_problems
from semantic.analyses.lifecycle import lifecycle_problems
from semantic.analyses.paths import path_problems
from semantic.catalog.catalog import Catalog

CHECKS = (
    intent_problems,
    lifecycle_problems,
    experiment_problems,
    channel_problems,
    distribution_problems,
    path_problems,
)


def marketing_problems(catalog: Catalog, root: str | Path | None = None) -> list[CatalogProblem]:
    """Every problem in every marketing file under ``root`` (default: the catalog's own folder)."""
    return [problem for check in CHECKS for problem in check(catalog, root)[1]]
