"""What the app's pages share: cached results, the sidebar, URL state, drill targets, charts, words (see README.md)."""

from __future__ import annotations
