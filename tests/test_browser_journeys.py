"""Each kind of user's journey through the app in Chromium, on one small demo served by one app process.

- a shared link straight to a board opens cleanly for the server's very first visitor (no "Page not found");
- executive (in Chinese): the overview, then a board from the sidebar, its tiles the warehouse's numbers;
- business-line team: a P2P tile → its breakdown by product type → the bond bar's users → one user, then Back
  restores each earlier view exactly (the same list of bond investors, the same count), one step at a time;
- analyst: a metric written into the catalog folder while the app runs appears in Explore without a restart,
  and a link naming it shows the number counted by hand;
- customer service: a user found by the start of an id and by an anonymous distinct id; failures only;
- marketer: a segment → its ids as CSV → the push experiment's groups and conversions.

Every expected number is counted by hand-written SQL on the demo file before the app starts (the app then
holds the file). Pages are loaded as few times as the journeys need: one app process for the module.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from connectors import connect
from semantic.catalog.formatting import format_value
from tests.app_helpers import make_demo
from tests.browser_helpers import ARTIFACTS, ERRORS, browser_tab, require_chromium, running_app, settle
from tests.test_catalog_live import NEW_METRIC  # the metric an analyst adds while the app runs

METRICS = Path(__file__).resolve().parent.parent / "metrics"
RANGE = "event_time >= TIMESTAMP '2026-10-02' AND event_time < TIMESTAMP '2026-11-01'"  # the default: last 30 days
PREFIX = "u00010"
# Records whether "Page not found" was ever on screen, from the first byte of every page load.
WATCH_NOT_FOUND = """
window.__notFound = false;
new MutationObserver(() => {
  if (document.body && document.body.innerText.includes('Page not found')) window.__notFound = true;
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


@pytest.fixture(scope="module", autouse=True)
def chromium_present() -> None:
    require_chromium()


def one(warehouse, sql: str):
    return warehouse.query(sql).rows[0][0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo file, a catalog copy the analyst may write to, and every number the journeys expect."""
    root = tmp_path_factory.mktemp("journeys")
    url = make_demo(root / "demo.duckdb", users=1500, days=60)
    metrics = root / "metrics"
    shutil.copytree(METRICS, metrics)
    with connect(url) as w:
        invest = f"event = 'P2P_invest' AND is_success AND {RANGE}"
        executive = (  # the executive's range: 2026-10-10 .. 2026-10-20
            "event = 'P2P_invest' AND is_success AND event_time >= TIMESTAMP '2026-10-10' "
            "AND event_time < TIMESTAMP '2026-10-21'"
        )
        failed = "(NOT coalesce(is_success, TRUE) OR fail_reason IS NOT NULL OR event = 'app_error')"
        # an anonymous id that maps to one user and starts no other id (so typing it finds exactly that user)
        anonymous, stitched = w.query(
            "SELECT distinct_id, min(user_id) FROM events e WHERE distinct_id <> user_id AND user_id IS NOT NULL "
            "GROUP BY distinct_id HAVING count(DISTINCT user_id) = 1 AND (SELECT count(*) FROM ("
            "  SELECT distinct_id AS id FROM events UNION SELECT user_id FROM events UNION SELECT user_id FROM users"
            ") ids WHERE starts_with(ids.id, e.distinct_id)) = 1 ORDER BY 1 LIMIT 1"
        ).rows[0]
        troubled, failures = w.query(
            f"SELECT user_id, count(*) FROM events WHERE {failed} AND {RANGE} AND user_id IS NOT NULL "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        ).rows[0]
        expected = {
            "invest_users": one(w, f"SELECT count(DISTINCT user_id) FROM events WHERE {invest}"),
            "exec_invest_users": one(w, f"SELECT count(DISTINCT user_id) FROM events WHERE {executive}"),
            "exec_invest_amount": one(w, f"SELECT sum(amount) FROM events WHERE {executive}"),
            "bond_investors": one(
                w, f"SELECT count(DISTINCT user_id) FROM events WHERE {invest} AND product_type = 'bond'"
            ),
            "failed_card_users": one(
                w,
                f"SELECT count(DISTINCT user_id) FROM events WHERE event = 'bind_card' AND NOT is_success AND {RANGE}",
            ),
            "prefixed": [
                r[0]
                for r in w.query(
                    f"SELECT user_id FROM users WHERE starts_with(user_id, '{PREFIX}') UNION "
                    f"SELECT user_id FROM events WHERE (starts_with(user_id, '{PREFIX}') OR starts_with(distinct_id, "
                    f"'{PREFIX}')) AND user_id IS NOT NULL ORDER BY 1"
                ).rows
            ],
            "anonymous": (anonymous, stitched),
            "troubled": (troubled, failures),
            # card_no_invest_30d as of 2026-10-31: a successful card binding by then, no successful investment
            # in the 30 days ending on it (2026-10-02 .. 2026-10-31)
            "segment": sorted(
                r[0]
                for r in w.query(
                    "SELECT DISTINCT user_id FROM events WHERE event = 'bind_card' AND is_success "
                    "AND event_time < TIMESTAMP '2026-11-01' EXCEPT "
                    f"SELECT user_id FROM events WHERE {invest}"
                ).rows
            ),
            # push_reactivate_2026q4: every user holding a campaign group; converted = a successful investment
            # from 2026-10-11 to 2026-10-24
            "push": {
                group: (users, converted)
                for group, users, converted in w.query(
                    "SELECT campaign_group, count(*), count(*) FILTER (WHERE user_id IN (SELECT user_id FROM events "
                    "WHERE event = 'P2P_invest' AND is_success AND event_time >= TIMESTAMP '2026-10-11' "
                    "AND event_time < TIMESTAMP '2026-10-25')) FROM users WHERE campaign_group IS NOT NULL GROUP BY 1"
                ).rows
            },
        }
    assert expected["bond_investors"] and expected["failed_card_users"] and len(expected["prefixed"]) > 1
    return url, metrics, expected


@pytest.fixture(scope="module")
def server(demo, tmp_path_factory):
    url, metrics, _ = demo
    log = tmp_path_factory.mktemp("log") / "streamlit.log"
    with running_app(url, log, extra_env={"FINLENS_METRICS": str(metrics)}) as base:
        yield base


@pytest.fixture(scope="module")
def first_visit(server):
    """The server's very first visitor opens a shared link to a board (before any other page ran)."""
    with browser_tab() as tab:
        tab.set_default_navigation_timeout(180_000)
        tab.add_init_script(WATCH_NOT_FOUND)
        tab.goto(f"{server}/board_p2p")
        check(tab, "journey_first_visit")
        yield tab


@pytest.fixture(scope="module")
def page(first_visit):
    """A second tab of the same browser for the journeys (one Playwright per process)."""
    tab = first_visit.context.browser.new_page(viewport={"width": 1500, "height": 1000})
    tab.set_default_timeout(180_000)  # a shared machine: slow is not wrong (nothing here is timed)
    tab.set_default_navigation_timeout(180_000)
    yield tab
    tab.close()


def check(tab, name: str) -> None:
    tab.wait_for_selector("[data-testid='stMain'] h1", timeout=180_000)  # every page has a title: the run began
    settle(tab)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    errors = tab.locator(ERRORS)
    assert errors.count() == 0, f"{name}: {errors.first.inner_text()}"


def tile(tab, label: str) -> str:
    metric = tab.locator("[data-testid='stMetric']").filter(
        has=tab.locator("[data-testid='stMetricLabel']", has_text=label)
    )
    return metric.first.locator("[data-testid='stMetricValue']").inner_text().strip()


def pills(tab):
    """The buttons of the main area's last pills widget."""
    return tab.locator("[data-testid='stMain'] [data-testid='stButtonGroup']").last.locator("button")


def grid(tab, index: int = 0) -> tuple[list[str], list[str], int]:
    """A dataframe's header texts, its visible cell texts and its number of rows (from the grid's a11y table)."""
    table = tab.locator("[data-testid='stDataFrame']").nth(index).locator("table[role='grid']")
    headers = [h.strip() for h in table.locator("th").all_inner_texts()]
    cells = [c.strip() for c in table.locator("td").all_inner_texts()]
    return headers, cells, int(table.get_attribute("aria-rowcount")) - 1


def sidebar_link(tab, path: str):
    return tab.locator(f"[data-testid='stSidebarNavLink'][href$='/{path}']")


def test_a_shared_board_link_opens_cleanly_for_the_first_visitor(first_visit):
    assert first_visit.evaluate("window.__notFound") is False
    # people see the app, not Streamlit's developer toolbar: no "Deploy" button (client.toolbarMode = viewer)
    assert first_visit.locator("[data-testid='stAppDeployButton']").count() == 0
    assert first_visit.url.endswith("/board_p2p")
    assert first_visit.locator("h1").first.inner_text().strip() == "P2P"
    assert first_visit.locator("[data-testid='stMetric']").count() >= 6


def test_executive_from_the_overview_to_a_board_in_chinese(server, page, demo):
    *_, expected = demo
    page.goto(f"{server}/?lang=zh&range=2026-10-10&range=2026-10-20")
    check(page, "journey_exec_overview")
    assert page.locator("[data-testid='stMetric']").count() >= 6
    sidebar_link(page, "board_p2p").click()
    page.wait_for_url("**/board_p2p**")
    check(page, "journey_exec_board")
    # the sidebar's choices hold on the page the navigation opened, and are in its URL for a copied link
    assert page.locator("h1").first.inner_text().strip() == "网贷理财"
    assert "lang=zh" in page.url and "range=2026-10-10&range=2026-10-20" in page.url
    assert tile(page, "投资用户数") == format_value(expected["exec_invest_users"], "number", "zh")
    assert tile(page, "投资金额") == format_value(expected["exec_invest_amount"], "cny", "zh")


def test_business_line_drill_and_back_restore_each_view(server, page, demo):
    *_, expected = demo
    bonds = f"{expected['bond_investors']:,}"
    page.goto(f"{server}/board_p2p")
    check(page, "journey_line_board")
    page.locator(".st-key-tile_p2p_invest_users [data-testid^='stBaseButton']").first.click()
    page.wait_for_url("**/breakdown?*by=product_type*")
    check(page, "journey_line_breakdown")
    breakdown_url = page.url
    pills(page).filter(has_text="bond").first.click()
    page.wait_for_url("**/users?**")
    check(page, "journey_line_users")
    users_url = page.url
    assert tile(page, "Users") == bonds
    _, cells, rows = grid(page)
    assert rows == min(expected["bond_investors"], 50)  # the first page of the list
    user = pills(page).first.inner_text().strip()
    pills(page).first.click()
    page.wait_for_url("**/sequence?**")
    check(page, "journey_line_user")
    assert f"user={user}" in page.url
    page.go_back()  # the bond investors again, not every investor
    page.wait_for_url(users_url)
    check(page, "journey_line_back_users")
    assert tile(page, "Users") == bonds
    assert grid(page)[1] == cells
    page.go_back()
    page.wait_for_url(breakdown_url)
    check(page, "journey_line_back_breakdown")
    assert page.locator("h1").first.inner_text().strip() == "Breakdown"
    page.go_back()
    page.wait_for_url("**/board_p2p")
    check(page, "journey_line_back_board")
    assert tile(page, "Investing users") == f"{expected['invest_users']:,}"


def metric_options(tab, typed: str) -> list[str]:
    box = tab.locator(".st-key-explore_metrics input")
    box.click()
    box.fill(typed)
    tab.wait_for_timeout(300)
    options = [o.strip() for o in tab.locator("[role='option']").all_inner_texts()]
    box.press("Escape")
    return options


def test_analyst_adds_a_metric_while_the_app_runs(server, page, demo):
    _, metrics, expected = demo
    label = "Users with a failed card binding"
    page.goto(f"{server}/explore")
    check(page, "journey_analyst_before")
    assert label not in metric_options(page, "failed card")
    platform = metrics / "catalog" / "platform.yml"
    platform.write_text(platform.read_text(encoding="utf-8").rstrip("\n") + "\n" + NEW_METRIC, encoding="utf-8")
    # the same session moves on (no reload, no restart) and comes back to Explore
    sidebar_link(page, "funnel").click()
    page.wait_for_url("**/funnel")
    check(page, "journey_analyst_away")
    sidebar_link(page, "explore").click()
    page.wait_for_url("**/explore")
    check(page, "journey_analyst_after")
    assert label in metric_options(page, "failed card")
    page.goto(f"{server}/explore?explore_metrics=failed_card_users&explore_grain=none")
    check(page, "journey_analyst_link")
    headers, cells, rows = grid(page)
    assert label in headers and rows == 1
    assert f"{expected['failed_card_users']:,}" in cells


def test_customer_service_finds_users_by_prefix_and_distinct_id_and_sees_failures(server, page, demo):
    *_, expected = demo
    page.goto(f"{server}/sequence")
    check(page, "journey_cs_empty")
    box = page.locator("[data-testid='stMain'] [data-testid='stTextInput'] input").first
    box.fill(PREFIX)
    box.press("Enter")
    check(page, "journey_cs_prefix")
    assert [b.strip() for b in pills(page).all_inner_texts()] == expected["prefixed"]
    anonymous, stitched = expected["anonymous"]
    box = page.locator("[data-testid='stMain'] [data-testid='stTextInput'] input").first
    box.fill(anonymous)
    box.press("Enter")
    check(page, "journey_cs_distinct_id")
    page.wait_for_url(f"**user={stitched}**")
    assert page.get_by_text(f"{anonymous} is an id user {stitched} was seen under.").count() == 1
    troubled, failures = expected["troubled"]
    page.goto(f"{server}/sequence?user={troubled}")
    check(page, "journey_cs_user")
    assert tile(page, "Failed") == f"{failures:,}"
    page.locator(".st-key-sequence_failures label").first.click()
    check(page, "journey_cs_failures_only")
    assert grid(page)[2] == failures


def test_marketer_from_a_segment_to_its_csv_to_the_experiment(server, page, demo):
    *_, expected = demo
    page.goto(f"{server}/segments?segment=card_no_invest_30d")
    check(page, "journey_marketer_segment")
    assert tile(page, "Users") == f"{len(expected['segment']):,}"
    with page.expect_download() as download:
        page.locator("[data-testid='stDownloadButton'] button").first.click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "user_id" and sorted(lines[1:]) == expected["segment"]
    sidebar_link(page, "experiments").click()
    page.wait_for_url("**/experiments**")
    check(page, "journey_marketer_experiments")
    page.goto(f"{server}/experiments?experiment=push_reactivate_2026q4")
    check(page, "journey_marketer_push")
    headers, cells, rows = grid(page)
    assert rows == len(expected["push"]) == 2
    width = len(headers)
    table = [cells[k * width : (k + 1) * width] for k in range(rows)]
    shown = {row[0].removesuffix(" (control)"): (row[1], row[2]) for row in table}
    assert {g.lower() for g in shown} == set(expected["push"])
    for group, (users, converted) in expected["push"].items():
        label = next(g for g in shown if g.lower() == group)
        assert shown[label] == (f"{users:,}", f"{converted:,}")
    captions = page.locator("[data-testid='stCaptionContainer']").all_inner_texts()
    assert any(date(2026, 10, 24).isoformat() in c for c in captions)  # computed as of the experiment's end
