"""The finlens command line: outputs, and one-line errors with the documented exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from finlens.cli import main
from tests.warehouse_fixtures import make_warehouse

EVENTS = [
    dict(event_time="2026-03-10 09:00:00", event="$AppViewScreen", user_id="A", platform="iOS", page="home"),
    dict(event_time="2026-03-10 09:01:00", event="$AppViewScreen", user_id="A", platform="iOS", page="product_list"),
    dict(event_time="2026-03-10 10:00:00", event="$pageview", user_id="B", platform="Web", page="home"),
    dict(event_time="2026-03-11 10:00:00", event="$pageview", user_id="B", platform=None, page="home"),
    dict(event_time="2026-03-11 11:00:00", event="deposit", user_id="B", amount=100.5, is_success=True),
    dict(event_time="2026-03-11 11:05:00", event="deposit", user_id="B", amount=50.0, is_success=False),
]


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    return make_warehouse(tmp_path_factory.mktemp("cli") / "cli.duckdb", EVENTS)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_query_json_keys_by_grain_dimension_and_metric(capsys, url):
    code, out, err = run(
        capsys,
        "query",
        "pv",
        "deposit_amount",
        "--by",
        "platform",
        "--grain",
        "day",
        "--warehouse",
        url,
        "--format",
        "json",
    )
    assert (code, err) == (0, "")
    assert json.loads(out) == [
        {"day": "2026-03-10", "platform": "Web", "pv": 1, "deposit_amount": 0},
        {"day": "2026-03-10", "platform": "iOS", "pv": 2, "deposit_amount": 0},
        {"day": "2026-03-11", "platform": None, "pv": 1, "deposit_amount": 100.5},
    ]


def test_query_csv_and_table(capsys, url):
    code, out, _ = run(
        capsys, "query", "uv", "--from", "2026-03-11", "--to", "2026-03-11", "--warehouse", url, "--format", "csv"
    )
    assert code == 0 and list(csv.DictReader(io.StringIO(out))) == [{"uv": "1"}]
    code, out, _ = run(capsys, "query", "pv", "--by", "page", "--order-by=-pv", "--limit", "1", "--warehouse", url)
    assert code == 0
    assert out.splitlines()[2].split() == ["home", "3"] and out.splitlines()[-1] == "(1 row)"
    code, out, _ = run(
        capsys, "query", "pv", "--by", "page", "--order-by", "pv desc", "--warehouse", url, "--format", "json"
    )
    assert [r["page"] for r in json.loads(out)] == ["home", "product_list"]


def test_where_filter(capsys, url):
    code, out, _ = run(
        capsys, "query", "pv", "--where", "platform = 'iOS' OR platform IS NULL", "--warehouse", url, "--format", "json"
    )
    assert code == 0 and json.loads(out) == [{"pv": 3}]


def test_funnel_json_shape(capsys, url):
    code, out, _ = run(capsys, "query", "bind_card_funnel", "--warehouse", url, "--format", "json")
    assert code == 0
    assert json.loads(out) == [
        {
            "step": s,
            "step_name": n,
            "users": 0,
            "conversion_from_previous": None,
            "conversion_from_first": None,
            "median_seconds_to_convert": None,
            # the command line always gives the time to convert (from the previous step, on the deepest path)
            **{f"seconds_to_convert_p{p}": None for p in (10, 25, 50, 75, 90)},
        }
        for s, n in ((1, "register"), (2, "realname_auth"), (3, "bind_card"))
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "pvv"], "unknown metric 'pvv' (did you mean 'pv'?)"),
        (["query", "pv", "--by", "platfrom"], "unknown dimension 'platfrom' (did you mean 'platform'?)"),
        (["compile", "pv", "--dialect", "oracle"], "unknown dialect 'oracle'"),
        (["query", "pv", "--from", "2026-02-30"], "bad date '2026-02-30': use YYYY-MM-DD"),
        (["query", "pv", "--grain", "fortnight"], "unknown grain 'fortnight'"),
        (["query", "pv", "--where", "platform"], "is not a boolean expression"),
        (["query", "pv", "--where", "platform = 'iOS'; DROP TABLE events"], "must be a single expression"),
        (["query", "pv", "--where", "user_id IN (SELECT user_id FROM users)"], "may not contain a subquery"),
        (["query", "pv", "--where", "random() < 0.5"], "may not call function RAND"),
        (["query", "pv", "--where", "DROP TABLE events"], "not a DROP statement"),
        (["query", "pv", "--where", "amount > 5"], "unknown dimension 'amount'"),
        (["query", "bind_card_funnel", "pv"], "query it on its own"),
        (
            ["query", "pv", "--from", "2026-03-10", "--to", "2026-03-01"],
            "starts (2026-03-10) after it ends (2026-03-01)",
        ),
    ],
)
def test_bad_query_is_one_line_exit_2(capsys, url, args, message):
    code, out, err = run(capsys, *args, *(["--warehouse", url] if args[0] == "query" else []))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("finlens: error: ") and message in err


def test_missing_warehouse_file(capsys, tmp_path):
    code, _, err = run(capsys, "query", "pv", "--warehouse", f"duckdb:///{tmp_path}/nope.duckdb")
    assert code == 3 and "does not exist" in err and err.count("\n") == 1


def test_corrupt_warehouse_file(capsys, tmp_path):
    path = tmp_path / "bad.duckdb"
    path.write_bytes(b"not a database" * 1000)
    code, _, err = run(capsys, "query", "pv", "--warehouse", f"duckdb:///{path}")
    assert code == 3 and "not a valid DuckDB database" in err and err.count("\n") == 1


def test_locked_warehouse_file(capsys, tmp_path):
    path = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        code, _, err = run(capsys, "query", "pv", "--warehouse", f"duckdb:///{path}")
        assert code == 3 and "is locked by another process" in err and err.count("\n") == 1
    finally:
        holder.kill()
        holder.wait()


def test_unknown_scheme(capsys):
    code, _, err = run(capsys, "query", "pv", "--warehouse", "mysql://localhost/x")
    assert code == 3 and "unknown warehouse scheme 'mysql'" in err


def test_compile_prints_sql_for_each_dialect(capsys):
    for dialect in ("duckdb", "postgres", "clickhouse", "snowflake", "bigquery", "trino", "spark"):
        code, out, _ = run(capsys, "compile", "uv", "--by", "channel", "--grain", "week", "--dialect", dialect)
        assert code == 0 and out.startswith("WITH event_metrics AS (")


def test_list(capsys):
    code, out, _ = run(capsys, "list", "metrics", "--format", "json")
    names = {row["name"] for row in json.loads(out)}
    assert code == 0 and {"pv", "uv", "bind_card_funnel", "bind_card_retention"} <= names
    code, out, _ = run(capsys, "list", "dimensions", "--format", "json")
    assert {"platform", "register_channel"} <= {row["name"] for row in json.loads(out)}


def test_console_script_runs_without_traceback(url):
    result = subprocess.run(
        ["finlens", "query", "nope", "--warehouse", url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
