"""The catalog as the files under ``metrics/`` say now: a version that changes when a file does, and its problems.

Analysts save YAML while the app runs; the app must show a new metric without a
restart. :func:`version` is a fingerprint of every YAML file's path, size and
modification time (a few dozen ``stat`` calls per run), and the cached catalog,
boards and marketing specs are keyed by it, so the first run after a save loads the
new definitions and every later run reuses them. Results stay cached by their SQL,
so only the questions whose SQL changed run again.

A broken file does not take the app down: the catalog is loaded leniently
(``semantic/catalog/partial.py``) and :func:`show_problems` lists each problem on its
own line as ``file:line: message`` above the page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from finlens.app.i18n import t
from finlens_common.settings import metrics_root

YAML_SUFFIXES = (".yml", ".yaml")
MAX_SHOWN = 30  # problems listed in the banner; the rest are counted
MAX_SESSIONS = 1000
_PER_RUN: dict[str, tuple[object, str]] = {}  # session id -> (the run's cursors dict, the version it saw)


def version() -> str:
    """A fingerprint of the catalog folder's YAML files (path, size, mtime): equal as long as no file changed.

    Looked at once per script run (pages ask for the catalog dozens of times in a run; each look walks the
    folder): the run's context gets a new ``cursors`` dict at the start of every run, which marks the run.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return _scan()
    held = _PER_RUN.get(ctx.session_id)
    if held is not None and held[0] is ctx.cursors:
        return held[1]
    value = _scan()
    _PER_RUN[ctx.session_id] = (ctx.cursors, value)
    while len(_PER_RUN) > MAX_SESSIONS:
        _PER_RUN.pop(next(iter(_PER_RUN)), None)
    return value


def _scan() -> str:
    root = metrics_root()
    digest = hashlib.blake2b(str(root).encode(), digest_size=12)
    try:
        paths = sorted(p for p in root.rglob("*") if p.suffix in YAML_SUFFIXES)
    except OSError:
        return digest.hexdigest()
    for path in paths:
        try:
            stat = path.stat()
        except OSError:  # removed while we looked
            continue
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def show_problems(problems: Sequence[object], language: str) -> None:
    """One warning, then every problem on its own line as ``file:line: message`` (as ``finlens validate`` prints them).

    The pages that do not depend on the broken definitions keep working; the lines are shown as written
    (monospace, no markdown), so a path or a name with ``_`` reads exactly as in the file.
    """
    if not problems:
        return
    lines = [str(p) for p in problems[:MAX_SHOWN]]
    if len(problems) > MAX_SHOWN:
        lines.append(t("catalog.more_problems", language, n=len(problems) - MAX_SHOWN))
    with st.container(key="catalog_problems"):
        st.warning(t("catalog.problems", language, n=len(problems)), icon="⚠️")
        st.code("\n".join(lines), language=None, wrap_lines=True)
