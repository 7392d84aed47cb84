"""Drill-downs and lookups: the users behind a number, member lists, one user's events (see README.md here)."""

from __future__ import annotations
