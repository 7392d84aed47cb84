"""The real-time collector: Sensors SDK batches over HTTP, durable before acknowledged, loaded by the import's path."""

from __future__ import annotations

from ingest.collector.run import Options, serve
from ingest.collector.service import Settings

__all__ = ["Options", "Settings", "serve"]
