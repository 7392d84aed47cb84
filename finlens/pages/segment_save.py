"""Saving a built segment: a new file under ``metrics/segments/`` when the catalog folder may be written, else its YAML.

The file holds exactly what a hand-written one would (``segments: [{name, label,
description, where}]``), is checked by the same parser before it is written,
and is never written over an existing file or name. A catalog served read-only
(a deployment from git, ``FINLENS_CATALOG_READONLY=1``, or a folder the app may
not write) gets the file to download and the YAML to copy into a pull request
instead. The app reloads the catalog when the file appears
(``finlens/app/catalog_files.py``), so the saved segment is listed at once.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import streamlit as st
import yaml

from finlens.app import state as app_state
from finlens.app.i18n import plain, section
from finlens_common.errors import QueryError
from finlens_common.settings import catalog_read_only
from semantic.analyses.segments import parse_segment_text

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_TEXT = 200

text = section("segment_save")


def segment_file(name: str, label_zh: str, label_en: str, description: str, condition: str) -> str:
    """The YAML of a segments file holding this one segment."""
    entry: dict = {"name": name, "label": {"zh": label_zh, "en": label_en}}
    if description:
        entry["description"] = description
    entry["where"] = json.loads(condition)
    return yaml.safe_dump({"segments": [entry]}, allow_unicode=True, sort_keys=False)


def folder() -> Path:
    return Path(app_state.catalog().root) / "segments"


def writable(target: Path) -> bool:
    """Whether the app may write the catalog: not declared read-only, and the folder (or its parent) writable."""
    if catalog_read_only():
        return False
    existing = target if target.exists() else target.parent
    return existing.is_dir() and os.access(existing, os.W_OK)


def problems(name: str, label_zh: str, label_en: str, description: str, condition: str) -> list[str]:
    """What keeps the segment from being saved, one line each (empty: it may be saved)."""
    catalog = app_state.catalog()
    found = []
    if not NAME.match(name):
        found.append("name")
    elif name in catalog.segments or (folder() / f"{name}.yml").exists():
        found.append("taken")
    if not label_zh.strip() or not label_en.strip():
        found.append("labels")
    if any(len(v) > MAX_TEXT or not v.isprintable() for v in (label_zh, label_en, description)):
        found.append("text")
    try:
        parse_segment_text(catalog, condition, name=name or "built", file="builder")
    except QueryError:
        found.append("condition")
    return found


def save_panel(condition: str, lang: str) -> None:
    """Name, labels and description of the built segment; save it, or download and copy its YAML."""
    with st.expander(text("title", lang)):
        left, middle, right = st.columns(3)
        name = left.text_input(
            text("name", lang), key="seg_save_name", max_chars=63, placeholder="card_no_invest_7d"
        ).strip()
        label_zh = middle.text_input(text("label_zh", lang), key="seg_save_zh", max_chars=MAX_TEXT).strip()
        label_en = right.text_input(text("label_en", lang), key="seg_save_en", max_chars=MAX_TEXT).strip()
        description = st.text_input(text("description", lang), key="seg_save_description", max_chars=MAX_TEXT).strip()
        wrong = problems(name, label_zh, label_en, description, condition)
        for problem in wrong:
            st.caption(text(f"problem_{problem}", lang, name=plain(name)))
        content = segment_file(name or "my_segment", label_zh, label_en, description, condition)
        target = folder() / f"{name}.yml"
        if writable(folder()):
            if st.button(
                text("save", lang, path=f"segments/{name or '…'}.yml"),
                key="seg_save",
                disabled=bool(wrong),
                type="primary",
            ):
                write(target, content)
                st.query_params["segment"] = name  # the catalog reloads on the next run, with the new file
                st.rerun()
        else:
            st.info(text("read_only", lang))
        st.download_button(
            text("download", lang),
            content,
            file_name=f"{name or 'my_segment'}.yml",
            mime="text/yaml",
            key="seg_download",
            disabled=bool(wrong),
        )
        st.code(content, language="yaml")


def write(target: Path, content: str) -> None:
    """Create ``target`` with ``content`` (never over an existing file), through a temporary file and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    with open(temporary, "x", encoding="utf-8") as out:
        out.write(content)
    try:
        os.link(temporary, target)  # fails when the target exists: a name is never taken twice
    finally:
        temporary.unlink(missing_ok=True)
