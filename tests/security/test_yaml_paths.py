"""Analysts' YAML as an attack path: metric, dimension, session and segment snippets, board filters, settings.

Each hostile snippet sits in a copy of the shipped catalog; ``finlens validate``
must refuse every one with ``file:line: message`` at the snippet's own line,
never a traceback, and the loader must stay within its bounds (aliases,
nesting, size, encoding, impossible dates).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from finlens.cli import main
from finlens_common.errors import CatalogError
from semantic.catalog.loader import load_catalog
from tests.security.hostile import FILTERS

SHIPPED = Path(__file__).resolve().parents[2] / "metrics"
# functions the issue found accepted and executed from metric YAML, on the three engines
ENGINE_CALLS = {
    "pg_read_file": "pg_read_file('/etc/passwd') IS NOT NULL",
    "pg_ls_dir": "pg_ls_dir('.') IS NOT NULL",
    "lo_from_bytea": "lo_from_bytea(0, 'x') > 0",
    "lo_export": "lo_export(1, '/tmp/x') > 0",
    "set_config": "set_config('default_transaction_read_only', 'off', false) = 'off'",
    "pg_sleep": "pg_sleep(5) IS NULL",
    "file": "length(file('/etc/passwd')) > 0",
    "url": "length(url('http://127.0.0.1:9/x')) > 0",
    "getsetting": "getSetting('readonly') = 0",
    "current_setting": "current_setting('memory_limit') = 'x'",
    "getenv": "getenv('HOME') = 'x'",
    "read_text": "read_text('/etc/passwd') IS NOT NULL",
}


def catalog_copy(tmp_path: Path) -> Path:
    root = tmp_path / "metrics"
    shutil.copytree(SHIPPED, root)
    return root


def validate(capsys, root: Path) -> list[str]:
    code = main(["validate", str(root)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and out == ""
    assert code == 1, err
    return err.splitlines()


def metrics_file(snippets: dict[str, str]) -> tuple[str, dict[str, int]]:
    """A metrics file with one count metric per snippet; returns the text and each snippet's line."""
    lines, where = ["metrics:"], {}
    for name, snippet in snippets.items():
        lines += [
            f"  - name: hostile_{name}",
            "    type: count",
            "    label: {zh: x, en: x}",
            "    business_line: platform",
        ]
        where[name] = len(lines) + 1
        lines.append(f"    filter: {json.dumps(snippet)}")
    return "\n".join(lines) + "\n", where


@pytest.mark.parametrize("key", ["filter", "expr"])
def test_every_hostile_metric_snippet_is_refused_at_its_line(capsys, tmp_path, scene, key):
    root = catalog_copy(tmp_path)
    # a bare column is a fine metric filter (``is_success``) and expression, so that one entry is left out
    snippets = {
        name: scene.fill(text) for name, text in {**FILTERS, **ENGINE_CALLS}.items() if name != "not_a_condition"
    }
    text, lines = metrics_file(snippets)
    if key == "expr":
        text = text.replace("type: count", "type: sum").replace("    filter: ", "    expr: ")
    (root / "catalog" / "hostile.yml").write_text(text)
    errors = validate(capsys, root)
    for name, line in lines.items():
        located = [e for e in errors if f"hostile.yml:{line}: " in e]
        assert len(located) == 1, (name, errors[:5])
        assert f"metric 'hostile_{name}'" in located[0]
    scene.assert_untouched(*errors)


def test_engine_functions_are_named_in_the_refusal(capsys, tmp_path):
    root = catalog_copy(tmp_path)
    text, lines = metrics_file(ENGINE_CALLS)
    (root / "catalog" / "hostile.yml").write_text(text)
    errors = validate(capsys, root)
    for name, line in lines.items():
        (message,) = [e for e in errors if f"hostile.yml:{line}: " in e]
        assert f"may not call {name.upper()}" in message


def test_hostile_dimension_and_session_snippets_are_refused(capsys, tmp_path, scene):
    root = catalog_copy(tmp_path)
    model = (root / "models" / "events.yml").read_text()
    model = model.replace(
        "  click: \"event IN ('$AppClick', '$WebClick')\"",
        "  click: " + json.dumps(scene.fill(FILTERS["subquery_reads_a_file"])),
    )
    model = model.replace(
        "dimensions:\n",
        "dimensions:\n  - name: hostile_dimension\n"
        "    expr: " + json.dumps(scene.fill(FILTERS["clickhouse_file"])) + "\n    label: {zh: x, en: x}\n",
        1,
    )
    (root / "models" / "events.yml").write_text(model)
    errors = validate(capsys, root)
    click_line = next(i for i, text in enumerate(model.splitlines(), start=1) if text.startswith("  click: "))
    assert any(f"events.yml:{click_line}: model 'events' sessions: click may not" in e for e in errors), errors
    assert any("dimension 'hostile_dimension': expr may not call FILE" in e for e in errors), errors


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_hostile_segment_filter_in_a_segment_file(capsys, tmp_path, scene, name):
    root = catalog_copy(tmp_path)
    (root / "segments" / "hostile.yml").write_text(
        "segments:\n  - name: hostile\n    label: {zh: x, en: x}\n    where:\n      did: register\n"
        f"      filter: {json.dumps(scene.fill(FILTERS[name]))}\n"
    )
    errors = validate(capsys, root)
    assert [e for e in errors if "hostile.yml:6: segment 'hostile'" in e], errors
    scene.assert_untouched(*errors)


def test_hostile_board_filters_are_refused(capsys, tmp_path, scene):
    root = catalog_copy(tmp_path)
    board = ["board: hostile", "label: {zh: x, en: x}", "business_line: p2p", "charts:"]
    lines = {}
    for name, text in FILTERS.items():
        board += [
            f"  - name: c_{name}",
            "    label: {zh: x, en: x}",
            "    type: bar",
            "    metric: pv",
            "    by: platform",
        ]
        lines[name] = len(board) + 1
        board.append(f"    where: {json.dumps(scene.fill(text))}")
    (root / "boards" / "hostile.yml").write_text("\n".join(board) + "\n")
    errors = validate(capsys, root)
    for name, line in lines.items():
        assert [e for e in errors if f"hostile.yml:{line}: " in e], (name, errors[:3])


def test_a_project_cannot_allow_a_denied_function(capsys, tmp_path):
    root = catalog_copy(tmp_path)
    denied = (
        "pg_read_file",
        "read_csv",
        "getenv",
        "table_to_xml",
        "ts_rewrite",
        "ts_stat",
        "hascolumnintable",
        "dictget",
        "nextval",
        "which_secret",
        "current_query",
        "query",
        "setseed",
        "catboostevaluate",
        "getclienthttpheader",
    )
    (root / "settings.yml").write_text(f"expressions:\n  allow_functions: [date_trunc, {', '.join(denied)}]\n")
    errors = validate(capsys, root)
    assert len(errors) == len(denied)
    for name in denied:
        assert any(f"'{name}' is on the built-in deny-list" in e and "settings.yml:2:" in e for e in errors), errors


def test_a_project_may_allow_a_harmless_function(tmp_path):
    root = catalog_copy(tmp_path)
    (root / "settings.yml").write_text("expressions:\n  allow_functions: [date_trunc]\n")
    (root / "catalog" / "extra.yml").write_text(
        "metrics:\n  - name: october_events\n    type: count\n    label: {zh: x, en: x}\n    business_line: platform\n"
        "    filter: \"date_trunc('month', event_time) = DATE '2026-10-01'\"\n"
    )
    catalog = load_catalog(root)
    assert "october_events" in catalog.metrics
    (root / "settings.yml").unlink()
    with pytest.raises(
        CatalogError, match="extra.yml:6: metric 'october_events': filter may not call function TIMESTAMP_TRUNC"
    ):
        load_catalog(root)


# --- the loader's bounds (each was a traceback or a hang) ------------------------------------------------------------


def test_impossible_dates_in_yaml_are_messages(capsys, tmp_path):
    root = catalog_copy(tmp_path)
    (root / "catalog" / "dated.yml").write_text(
        "metrics:\n  - name: dated\n    type: count\n    label: {zh: x, en: x}\n    business_line: platform\n"
        "    description: 2026-13-01\n"
    )
    (root / "segments" / "dates.yml").write_text(
        "segments:\n  - name: dated\n    label: {zh: x, en: x}\n    where:\n      did: register\n      during: [2026-13-01, 2026-12-31]\n"
    )
    errors = validate(capsys, root)
    assert any("dates.yml:6: segment 'dated': 'during' needs days written YYYY-MM-DD" in e for e in errors), errors
    assert not any("dated.yml" in e for e in errors)  # a description that looks like a date is text


def test_deep_yaml_lists_are_refused(capsys, tmp_path):
    root = catalog_copy(tmp_path)
    (root / "catalog" / "deep.yml").write_text("metrics: " + "[" * 5000 + "]" * 5000 + "\n")
    errors = validate(capsys, root)
    assert any("deep.yml:1: nested more than 40 levels deep" in e for e in errors), errors


def test_deeply_nested_segment_conditions_are_refused(capsys, tmp_path):
    root = catalog_copy(tmp_path)
    condition = "{did: register}"
    for _ in range(400):
        condition = "{not: " + condition + "}"
    (root / "segments" / "deep.yml").write_text(
        f"segments:\n  - name: deep\n    label: {{zh: x, en: x}}\n    where: {condition}\n"
    )
    errors = validate(capsys, root)
    assert any("deep.yml:4: nested more than 40 levels deep" in e for e in errors), errors
    condition = "{did: register}"
    for _ in range(12):
        condition = "{not: " + condition + "}"
    (root / "segments" / "deep.yml").write_text(
        f"segments:\n  - name: deep\n    label: {{zh: x, en: x}}\n    where: {condition}\n"
    )
    errors = validate(capsys, root)
    assert any("deep.yml:4: segment 'deep'" in e and "nest more than 10 levels" in e for e in errors), errors


def test_a_non_utf8_segment_file_is_a_message(capsys, tmp_path):
    root = catalog_copy(tmp_path)
    (root / "segments" / "latin1.yml").write_bytes("segments:\n  - name: caf\xe9\n".encode("latin-1"))
    errors = validate(capsys, root)
    assert any("latin1.yml:2: not UTF-8 text (byte 0xe9)" in e for e in errors), errors
    code = main(["segment", "--define", str(root / "segments" / "latin1.yml"), "--as-of", "2026-10-01"])
    assert code == 2 and "latin1.yml:2: not UTF-8 text" in capsys.readouterr().err


def test_an_alias_bomb_is_refused_at_once(capsys, tmp_path):
    root = catalog_copy(tmp_path)
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in range(8):
        bomb.append(
            f"{chr(98 + level)}: &{chr(98 + level)} [" + ", ".join(f"*{chr(97 + level)}" for _ in range(9)) + "]"
        )
    (root / "segments" / "bomb.yml").write_text("\n".join(bomb) + "\nsegments: []\n")
    errors = validate(capsys, root)  # the old loader grew memory for 67 s, then failed
    assert any("bomb.yml:2: YAML aliases (*name) are not allowed" in e for e in errors), errors


def test_an_oversized_yaml_file_is_refused(capsys, tmp_path):
    root = catalog_copy(tmp_path)
    (root / "catalog" / "huge.yml").write_text("metrics: []\n# " + "x" * 1_100_000 + "\n")
    errors = validate(capsys, root)
    assert any("huge.yml:1: file is larger than 1,000,000 bytes" in e for e in errors), errors


@pytest.mark.parametrize(
    "file, old",
    [
        ("marketing/intent.yml", "filter: \"page = 'product_list'\""),
        ("marketing/intent.yml", "  filter: \"page = 'product_detail'\"\n  dwell"),
        ("marketing/lifecycle.yml", "filter: is_success, amount: amount"),
        ("marketing/distributions.yml", "    filter: is_success"),
    ],
)
def test_hostile_marketing_snippets_are_refused_at_their_line(capsys, tmp_path, scene, file, old):
    root = catalog_copy(tmp_path)
    text = (root / file).read_text()
    line = text[: text.index(old)].count("\n") + 1  # the snippet's own line in the shipped file
    hostile = json.dumps(scene.fill(FILTERS["subquery_reads_a_file"]))
    new = old.replace("\"page = 'product_list'\"", hostile).replace("\"page = 'product_detail'\"", hostile)
    new = new.replace("filter: is_success", f"filter: {hostile}")
    assert old in text and new != old
    (root / file).write_text(text.replace(old, new, 1))
    errors = validate(capsys, root)
    assert any(f"{Path(file).name}:{line}: " in e and "may not call READ_TEXT" in e for e in errors), errors
    scene.assert_untouched(*errors)


def test_tracking_plan_property_names_are_plain_names(capsys, tmp_path):
    plan = tmp_path / "plan.yml"
    plan.write_text(
        "owner: me\nevents:\n  - name: deposit\n    properties:\n"
        '      - {name: "amount\\"; DROP TABLE users; --", type: number}\n'
    )
    code = main(["check-tracking", "--plan", str(plan)])
    err = capsys.readouterr().err
    assert code == 1 and f"{plan}:5: event 'deposit': property name" in err and err.count("\n") == 1
