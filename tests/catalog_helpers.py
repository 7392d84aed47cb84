"""Catalogs for tests: the shipped models plus metric YAML written by the test."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from finlens_common.settings import DEFAULT_METRICS_ROOT as DEFAULT_ROOT
from semantic import load_catalog


def catalog_dir_with(tmp_path: Path, metrics_yaml: str, *, keep_shipped: bool = False) -> Path:
    """A catalog folder: shipped models, optionally shipped metrics, and ``metrics_yaml`` as catalog/extra.yml."""
    root = tmp_path / "catalog_root"
    shutil.copytree(DEFAULT_ROOT / "models", root / "models")
    (root / "catalog").mkdir()
    if keep_shipped:
        for path in (DEFAULT_ROOT / "catalog").glob("*.yml"):
            shutil.copy(path, root / "catalog" / path.name)
    (root / "catalog" / "extra.yml").write_text(textwrap.dedent(metrics_yaml).lstrip(), encoding="utf-8")
    return root


def catalog_with(tmp_path: Path, metrics_yaml: str, *, keep_shipped: bool = False):
    return load_catalog(catalog_dir_with(tmp_path, metrics_yaml, keep_shipped=keep_shipped))
