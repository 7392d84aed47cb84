"""Analyses built on the compiler: segments, intent, lifecycle and RFM, channel quality, distributions, experiments.

See README.md here. Importing :mod:`semantic` registers their computed labels with the segment compiler.
"""

from __future__ import annotations
