"""Every YAML mistake is reported as ``file:line: message``, all at once, never as a traceback."""

from __future__ import annotations

import pytest

from finlens.cli import main
from finlens_common.errors import CatalogError
from semantic import load_catalog
from tests.catalog_helpers import catalog_dir_with

LABEL = "label: {zh: 甲, en: A}\n    format: number\n    business_line: platform"


def problems(tmp_path, yaml_text: str) -> list[str]:
    """The problems of the shipped catalog plus ``yaml_text``, as ``file:line: message`` (file name only)."""
    root = catalog_dir_with(tmp_path, yaml_text, keep_shipped=True)
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    return [f"{p.file.rsplit('/', 1)[-1]}:{p.line}: {p.message}" for p in caught.value.problems]


def test_shipped_catalog_is_valid(catalog):
    for name in (
        "pv",
        "uv",
        "sessions",
        "bounce_rate",
        "avg_session_duration",
        "avg_visit_depth",
        "clicks",
        "new_users",
        "registrations",
        "realname_users",
        "bind_card_users",
        "deposit_amount",
        "invest_amount",
        "invest_users",
        "error_rate",
        "bind_card_funnel",
        "invest_funnel",
        "bind_card_retention",
    ):
        assert name in catalog.metrics
    lines = {m.business_line for m in catalog.metrics.values()}
    assert lines == {"platform", "life", "forex", "p2p", "stock"}


def test_yaml_syntax_error_has_its_line(tmp_path):
    got = problems(tmp_path, "metrics:\n  - name: a\n    type: [count\n")
    assert len(got) == 1 and got[0].startswith("extra.yml:4: YAML syntax error")


def test_unknown_column_with_did_you_mean(tmp_path):
    got = problems(
        tmp_path,
        f"""
metrics:
  - name: typo
    type: count
    filter: "evnt = 'login'"
    {LABEL}
""",
    )
    assert got == ["extra.yml:4: metric 'typo': filter: unknown column 'evnt' (did you mean 'event'?)"]


def test_unknown_metric_reference(tmp_path):
    got = problems(
        tmp_path,
        f"""
metrics:
  - name: broken_ratio
    type: ratio
    numerator: pvv
    denominator: uv
    {LABEL}
""",
    )
    assert got == ["extra.yml:2: metric 'broken_ratio' refers to unknown metric 'pvv' (did you mean 'pv'?)"]


def test_cycle_between_derived_metrics(tmp_path):
    got = problems(
        tmp_path,
        f"""
metrics:
  - name: loop_a
    type: derived
    expr: loop_b + 1
    {LABEL}
  - name: loop_b
    type: derived
    expr: loop_a * 2
    {LABEL}
""",
    )
    assert got == ["extra.yml:2: metrics refer to each other in a cycle: loop_a -> loop_b -> loop_a"]


def test_duplicate_name_and_bad_window_and_wrong_type_all_at_once(tmp_path):
    got = problems(
        tmp_path,
        f"""
metrics:
  - name: twice
    type: count
    {LABEL}
  - name: twice
    type: count
    {LABEL}
  - name: slow_funnel
    type: funnel
    window: 7x
    steps:
      - event: register
      - event: bind_card
    {LABEL}
  - name: bad_periods
    type: retention
    cohort: {{event: register}}
    return: {{event: login}}
    periods: many
    {LABEL}
  - name: odd
    type: sumx
    {LABEL}
""",
    )
    assert len(got) == 4
    assert got[0].startswith("extra.yml:7: duplicate metric name 'twice' (first defined at ")
    assert got[0].endswith("extra.yml:2)")
    assert got[1:] == [
        "extra.yml:14: metric 'slow_funnel': window: '7x' is not a duration; write a number and a unit s, m, h, d or w, e.g. 30m or 7d",
        "extra.yml:25: metric 'bad_periods': 'periods' must be a whole number >= 1, not 'many'",
        "extra.yml:30: metric 'odd': type 'sumx' is not one of count, count_distinct, sum, avg, min, max, "
        "ratio, derived, session, first_seen, funnel, retention, interval, ltv, stickiness (did you mean 'sum'?)",
    ]


def test_unknown_key_missing_label_and_subquery(tmp_path):
    got = problems(
        tmp_path,
        """
metrics:
  - name: nolabel
    type: count
    filtr: "event = 'login'"
    format: number
    business_line: platform
  - name: sneaky
    type: count
    filter: "user_id IN (SELECT user_id FROM users)"
    label: {zh: 乙, en: B}
    business_line: platform
""",
    )
    assert got == [
        "extra.yml:2: metric 'nolabel': 'label' must be a mapping with zh and en strings",
        "extra.yml:4: metric: unknown key 'filtr' (did you mean 'filter'?)",
        "extra.yml:9: metric 'sneaky': filter may not contain a subquery",
    ]


def test_model_errors(tmp_path):
    root = catalog_dir_with(tmp_path, "metrics: []\n")
    events = root / "models" / "events.yml"
    events.write_text(
        events.read_text(encoding="utf-8").replace("expr: utm_source", "expr: utm_sorce"), encoding="utf-8"
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    (problem,) = caught.value.problems
    line = events.read_text(encoding="utf-8").splitlines().index("    expr: utm_sorce") + 1
    assert (problem.line, problem.message) == (
        line,
        # the dimension over the event's own utm_source ("channel" is the first touch, first_utm_source)
        "dimension 'utm_source': expr: unknown column 'utm_sorce' (did you mean 'utm_source'?)",
    )


def test_cli_validate_prints_every_problem_and_exits_1(tmp_path, capsys):
    root = catalog_dir_with(
        tmp_path,
        keep_shipped=True,
        metrics_yaml=f"""
metrics:
  - name: a1
    type: count
    filter: "evnt = 1"
    {LABEL}
  - name: a2
    type: ratio
    numerator: nope
    denominator: pv
    {LABEL}
""",
    )
    assert main(["validate", str(root)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith("finlens: error: ")
    assert err[0].endswith("extra.yml:4: metric 'a1': filter: unknown column 'evnt' (did you mean 'event'?)")
    assert err[1].endswith("extra.yml:8: metric 'a2' refers to unknown metric 'nope'")
    assert "Traceback" not in "\n".join(err)


def test_cli_validate_ok(capsys):
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("ok: 2 models")
