"""The compiler: a question resolved against the catalog, built as one SQL statement per dialect (see README.md here)."""

from __future__ import annotations
