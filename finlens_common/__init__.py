"""What every layer shares and nothing of the project's own: the error hierarchy and the settings."""

from __future__ import annotations
