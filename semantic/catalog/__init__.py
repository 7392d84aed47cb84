"""The catalog: the YAML under ``metrics/`` read into typed, validated specs (see README.md here)."""

from __future__ import annotations
