"""The layout a newcomer can walk: small modules, no import cycles, a README per folder, one reader of model rows."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("finlens", "finlens_common", "semantic", "connectors", "ingest")
MAX_LINES = 400


def product_modules() -> list[Path]:
    return [*(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")), ROOT / "streamlit_app.py"]


def test_no_module_is_over_400_lines():
    long = {
        str(p.relative_to(ROOT)): n for p in product_modules() if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_module_postpones_annotations():
    missing = [
        str(p.relative_to(ROOT)) for p in product_modules() if "from __future__ import annotations" not in p.read_text()
    ]
    assert missing == []


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module: the import cycles."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycle_between_modules():
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    assert strongly_connected(graph) == []


def test_a_cycle_is_found_when_there_is_one():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert strongly_connected(graph) == [["a.x", "a.y"]]


def test_every_folder_says_what_it_owns():
    folders = [ROOT / name for name in (*PACKAGES, "metrics", "bench", "tests")]
    folders += [p.parent for package in PACKAGES for p in (ROOT / package).rglob("__init__.py")]
    missing = sorted({str(f.relative_to(ROOT)) for f in folders if not (f / "README.md").is_file()})
    assert missing == []


def test_only_the_reader_names_a_model_table():
    """Row policies and rollups hook into ``semantic/compiler/reader.py``; no other module may read a table itself."""
    readers = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "semantic").rglob("*.py")
        if re.search(r"exp\.to_table\(|exp\.Table\(this=exp\.to_identifier\(model", p.read_text())
    ]
    assert readers == ["semantic/compiler/reader.py"]
