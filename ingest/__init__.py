"""Getting data into a warehouse: the canonical schema, the demo generator, importers."""

from __future__ import annotations
