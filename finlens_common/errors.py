"""One error hierarchy for the whole project.

Every error a person can cause (a YAML typo, an unknown metric at the CLI, an
unreachable warehouse) is a :class:`FinlensError` whose ``str()`` is a
complete one-line message written for the person at the keyboard. The CLI
prints it and exits with the error's ``exit_code``; nothing else is caught.
"""

from __future__ import annotations

from dataclasses import dataclass


class FinlensError(Exception):
    """Base class: a problem the user can fix; ``str(err)`` says what and where."""

    exit_code = 1


@dataclass(frozen=True)
class CatalogProblem:
    """One mistake in the YAML catalog, located at ``file:line``."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class CatalogError(FinlensError):
    """The YAML catalog is invalid; carries every problem found, not just the first."""

    exit_code = 1

    def __init__(self, problems: list[CatalogProblem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class QueryError(FinlensError):
    """A query asks for something the catalog cannot answer (unknown name, bad date, bad filter)."""

    exit_code = 2


class WarehouseError(FinlensError):
    """The warehouse cannot be reached, opened or queried."""

    exit_code = 3


class IngestError(FinlensError):
    """Data could not be generated or imported."""

    exit_code = 4
