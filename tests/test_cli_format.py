"""``finlens query --format table`` shows each number in its format; JSON and CSV keep the raw numbers.

By hand: u1 registers 09:00, passes real-name 09:10, binds a card 09:20 and invests ¥12,345.50 then ¥100;
u2 only registers. So invest_amount = 12,445.5 (¥12,446 in a table: whole yuan from ¥10,000, halves up),
bind_card_funnel: 2 → 1 → 1 users, step 3 is 50.0% of step 1, and u1 took 600 s per step (10m 0s).
"""

from __future__ import annotations

from finlens.cli import main
from tests.warehouse_fixtures import make_warehouse

EVENTS = [
    dict(event_time="2026-03-10 09:00:00", event="register", user_id="u1"),
    dict(event_time="2026-03-10 09:10:00", event="realname_auth", user_id="u1", is_success=True),
    dict(event_time="2026-03-10 09:20:00", event="bind_card", user_id="u1", is_success=True),
    dict(event_time="2026-03-10 10:00:00", event="P2P_invest", user_id="u1", is_success=True, amount=12345.5),
    dict(event_time="2026-03-10 11:00:00", event="P2P_invest", user_id="u1", is_success=True, amount=100.0),
    dict(event_time="2026-03-10 12:00:00", event="register", user_id="u2"),
]


def query(capsys, url: str, *args: str) -> str:
    assert main(["query", *args, "--from", "2026-03-10", "--to", "2026-03-10", "--warehouse", url]) == 0
    return capsys.readouterr().out


def test_a_table_shows_money_percentages_and_durations_in_their_formats(capsys, tmp_path):
    url = make_warehouse(tmp_path / "w.duckdb", EVENTS)
    assert "¥12,446" in query(capsys, url, "invest_amount", "--format", "table")
    table = query(capsys, url, "bind_card_funnel", "--format", "table").splitlines()
    step3 = next(line for line in table if line.split()[:1] == ["3"])
    assert "50.0%" in step3 and "10m 0s" in step3 and "0.5" not in step3.split()


def test_json_and_csv_keep_the_raw_numbers(capsys, tmp_path):
    url = make_warehouse(tmp_path / "w.duckdb", EVENTS)
    assert '"invest_amount": 12445.5' in query(capsys, url, "invest_amount", "--format", "json")
    csv = query(capsys, url, "bind_card_funnel", "--format", "csv").splitlines()
    percentiles = [f"seconds_to_convert_p{p}" for p in (10, 25, 50, 75, 90)]
    assert csv[0].split(",") == [
        *"step,step_name,users,conversion_from_previous,conversion_from_first,median_seconds_to_convert".split(","),
        *percentiles,
    ]
    # one converter (u1, 600 s from step 2): every percentile of one value is that value
    assert csv[3].split(",") == ["3", "bind_card", "1", "1.0", "0.5", "600.0", *["600.0"] * 5]
