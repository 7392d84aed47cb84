"""The app and the YAML under metrics/ as analysts edit it: a broken file, a new metric, without a restart.

Each test copies the shipped catalog to a temporary folder (FINLENS_METRICS) and edits it between runs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from connectors import connect
from tests.app_helpers import APP, make_demo, problems, warnings

METRICS = Path(__file__).resolve().parent.parent / "metrics"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("live") / "demo.duckdb", users=800, days=40)


@pytest.fixture()
def catalog_copy(tmp_path, monkeypatch, demo_url):
    root = tmp_path / "metrics"
    shutil.copytree(METRICS, root)
    monkeypatch.setenv("FINLENS_METRICS", str(root))
    monkeypatch.setenv("FINLENS_WAREHOUSE", demo_url)
    return root


def break_forex_trades(root: Path) -> int:
    """A typo in forex_trades' filter (a column that does not exist); returns the line of the filter."""
    path = root / "catalog" / "forex.yml"
    lines = path.read_text(encoding="utf-8").splitlines()
    line = lines.index("    filter: \"event = 'forex_trade'\"") + 1
    lines[line - 1] = "    filter: \"evnt = 'forex_trade'\""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return line


def test_one_broken_definition_leaves_every_other_page_working(catalog_copy):
    line = break_forex_trades(catalog_copy)
    at = AppTest.from_file(str(APP), default_timeout=180).run()
    assert not at.exception and [e.value for e in at.error] == []
    (banner,) = warnings(at)
    assert banner.startswith(f"{len(at.code[0].value.splitlines())} problem(s) in the YAML under metrics/")
    lines = at.code[0].value.splitlines()
    # one problem per line, file:line: message; copy_trade_share is a ratio over forex_trades, so it goes too
    forex = str(catalog_copy / "catalog" / "forex.yml")
    assert f"{forex}:{line}: metric 'forex_trades': filter: unknown column 'evnt' (did you mean 'event'?)" in lines
    assert any(p.startswith(f"{forex}:") and "metric 'copy_trade_share'" in p for p in lines), lines
    assert any("boards/forex.yml" in p and "unknown metric 'forex_trades'" in p for p in lines), lines
    assert {m.label for m in at.metric} >= {"Unique visitors", "Registrations"}  # the overview works
    at.switch_page("finlens/pages/explore.py").run()
    assert not at.exception and at.title[0].value == "Explore"
    assert "Forex trades" not in at.multiselect(key="explore_metrics").options  # options show labels
    at.switch_page("finlens/pages/board.py").run()  # the first business-line board (platform) is untouched
    assert not at.exception and at.title[0].value == "Platform" and len(at.metric) == 13


NEW_METRIC = """
  - name: failed_card_users
    type: count_distinct
    expr: user_id
    filter: "event = 'bind_card' AND NOT is_success"
    label: {zh: 绑卡失败用户, en: Users with a failed card binding}
    description: Distinct users with a failed bind_card.
    format: number
    business_line: platform
"""


def test_a_new_metric_reaches_explore_without_a_restart(catalog_copy, demo_url):
    at = AppTest.from_file(str(APP), default_timeout=180).run()
    at.switch_page("finlens/pages/explore.py").run()
    assert "Users with a failed card binding" not in at.multiselect(key="explore_metrics").options
    core = catalog_copy / "catalog" / "platform.yml"
    core.write_text(core.read_text(encoding="utf-8").rstrip("\n") + "\n" + NEW_METRIC, encoding="utf-8")
    at.run()
    assert "Users with a failed card binding" in at.multiselect(key="explore_metrics").options
    # a link naming it works, and the number is the one counted by hand
    link = AppTest.from_file(str(APP), default_timeout=180)
    link.query_params.update({"explore_metrics": "failed_card_users", "explore_grain": "none"})
    link.run()
    link.switch_page("finlens/pages/explore.py").run()
    assert problems(link) == []
    with connect(demo_url) as warehouse:
        (expected,) = warehouse.query(
            "SELECT count(DISTINCT user_id) FROM events WHERE event = 'bind_card' AND NOT is_success "
            "AND event_time >= TIMESTAMP '2026-10-02' AND event_time < TIMESTAMP '2026-11-01'"
        ).rows[0]
    assert list(link.dataframe[0].value["Users with a failed card binding"]) == [f"{expected:,}"]
