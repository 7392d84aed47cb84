"""finlens: metrics-as-code behaviour analytics for financial apps.

The packages beside this one do the work: ``semantic`` (YAML to SQL),
``connectors`` (warehouses), ``ingest`` (demo data and importers). This package
holds what they share: errors, settings and the command line.
"""

from __future__ import annotations

__version__ = "0.1.0"
