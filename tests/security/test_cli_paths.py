"""Every command-line path from a person's filter text to SQL, attacked with the whole corpus on three engines.

For each path and hostile filter: exit status 2, one line on stderr, nothing on
stdout, the canary's secret nowhere, no file written, and the warehouse's rows
and tables unchanged.
"""

from __future__ import annotations

import json

import pytest

from connectors import connect
from finlens.cli import main
from semantic.compiler.dialects import DIALECTS
from tests.security.conftest import ENGINES
from tests.security.hostile import FILTERS, checksum, one_line_error


@pytest.fixture(scope="module")
def before(engine_urls):
    """Each engine's checksum before any attack in this module."""
    sums = {}
    for engine, (url, _) in engine_urls.items():
        with connect(url) as warehouse:
            sums[engine] = checksum(warehouse)
    return sums


def refused(capsys, *argv: str) -> tuple[str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2, (argv[:2], err)
    assert out == "" and one_line_error(err), err
    return out, err


def unchanged(engine_urls, engine: str, before: dict[str, str]) -> None:
    with connect(engine_urls[engine][0]) as warehouse:
        assert checksum(warehouse) == before[engine]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(FILTERS))
def test_query_where(capsys, engine_urls, before, scene, engine, name):
    out, err = refused(
        capsys, "query", "pv", "uv", "--where", scene.fill(FILTERS[name]), "--warehouse", engine_urls[engine][0]
    )
    scene.assert_untouched(out, err)
    unchanged(engine_urls, engine, before)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_compile_where_for_every_dialect(capsys, scene, name):
    for dialect in DIALECTS:
        out, err = refused(capsys, "compile", "pv", "--where", scene.fill(FILTERS[name]), "--dialect", dialect)
        scene.assert_untouched(out, err)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(FILTERS))
def test_segment_define_filter(capsys, engine_urls, before, scene, tmp_path, engine, name):
    definition = tmp_path / "segment.json"
    definition.write_text(json.dumps({"did": "register", "filter": scene.fill(FILTERS[name])}))
    out, err = refused(
        capsys, "segment", "--define", str(definition), "--as-of", "2026-10-03", "--warehouse", engine_urls[engine][0]
    )
    scene.assert_untouched(out, err)
    unchanged(engine_urls, engine, before)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(FILTERS))
def test_channels_where(capsys, engine_urls, before, scene, engine, name):
    out, err = refused(
        capsys,
        "channels",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-03",
        "--where",
        scene.fill(FILTERS[name]),
        "--warehouse",
        engine_urls[engine][0],
    )
    scene.assert_untouched(out, err)
    unchanged(engine_urls, engine, before)


@pytest.mark.parametrize("engine", ENGINES)
def test_dates_outside_the_calendar_are_one_line(capsys, engine_urls, engine):
    for argv in (
        ["query", "pv", "--from", "9999-12-31"],
        ["query", "pv", "--to", "0001-01-01"],
        ["query", "pv", "--from", "2026-13-01"],
        ["segment", "jan_credit_never_invested", "--as-of", "9999-12-31"],
    ):
        refused(capsys, *argv, "--warehouse", engine_urls[engine][0])


def test_argparse_mistakes_are_one_line(capsys):
    for argv in (["query"], ["query", "pv", "--limit", "many"], ["nosuch"], ["list", "widgets"], ["compile", "pv"]):
        refused(capsys, *argv)


def test_comments_never_reach_the_sql(capsys):
    """A comment means nothing in a condition; it is dropped, so ``*/`` in one cannot end anything in the SQL."""
    for dialect in DIALECTS:
        assert main(["compile", "pv", "--where", "platform = 'x' -- */ OR 1=1 /*", "--dialect", dialect]) == 0
        sql = capsys.readouterr().out
        assert "1 = 1" not in sql and "1=1" not in sql and "*/" not in sql.replace("/* ", "").replace(" */", "")


@pytest.mark.parametrize(
    "condition, message",
    [
        ("{user: register_channel, eq: .inf}", "'eq' takes plain text, numbers"),
        ("{user: register_channel, eq: .nan}", "'eq' takes plain text, numbers"),
        ("{user: register_channel, in: [[1, 2], {a: b}]}", "'in' takes plain text, numbers"),
        (
            "{user: register_channel, in: [" + ", ".join(str(i) for i in range(1001)) + "]}",
            "'in' lists 1001 values; at most 1000",
        ),
        ("{user: register_channel, between: [a, 1]}", "'between' needs two values of the same kind"),
        ("{user: register_channel, between: [null, 1]}", "'between' takes plain text, numbers"),
        ("{user: register_channel, eq: 1208925819614629174706176}", "a whole number larger than 64 bits"),
        ("{did: register, filter: [\"platform = 'iOS'\"]}", "'filter' must be a SQL condition written as text"),
        ("{did: P2P_invest, sum: amount, gte: .inf}", "'gte' takes plain text, numbers"),
    ],
)
def test_segment_values_are_plain(capsys, engine_urls, tmp_path, condition, message):
    definition = tmp_path / "segment.yml"
    definition.write_text(condition)
    _, err = refused(
        capsys, "segment", "--define", str(definition), "--as-of", "2026-10-03", "--warehouse", engine_urls["duckdb"][0]
    )
    assert message in err


@pytest.mark.parametrize(
    "text",
    [
        "{user: register_channel, eq: !!int 0x" + "f" * 5000 + "}",
        "{user: register_channel, eq: !!set {a, b}}",
        "{user: register_channel, eq: !!binary aGVsbG8=}",
        "{user: register_channel, eq: !!python/object:os.system x}",
    ],
)
def test_segment_yaml_tags_are_one_line(capsys, engine_urls, tmp_path, text):
    definition = tmp_path / "segment.yml"
    definition.write_text(text)
    refused(
        capsys, "segment", "--define", str(definition), "--as-of", "2026-10-03", "--warehouse", engine_urls["duckdb"][0]
    )


def test_limit_is_bounded(capsys, engine_urls):
    _, err = refused(
        capsys, "query", "pv", "--limit", "99999999999999999999999", "--warehouse", engine_urls["duckdb"][0]
    )
    assert "limit must be from 1 to 10,000,000" in err
