"""Sign-in in a real browser: a real OIDC provider on localhost, the app as ``streamlit run``, Chromium.

The provider is ``oidc-provider-mock`` (a real OpenID Connect server for tests) with two people: Ada in the
``analytics-admins`` group (role admin) and Pat in ``p2p`` (role p2p_team: p2p and platform rows, pseudonyms, no
export). The app reads its ``[auth]`` section from a secrets file pointing at that provider. Then the trusted
header mode: the header believed from a trusted address (loopback) and ignored from another one (this machine's
non-loopback address, which the app is then told to listen on as well).
"""

from __future__ import annotations

import socket
from contextlib import contextmanager

import pytest
from oidc_provider_mock import User, run_server_in_thread
from playwright import sync_api

from connectors import connect
from finlens import audit
from tests.app_helpers import make_demo
from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_app, settle

SECRET = "browser-test pseudonym secret, long enough"
RANGE = "event_time >= TIMESTAMP '2026-10-02' AND event_time < TIMESTAMP '2026-11-01'"
PEOPLE = [
    User(sub="ada", claims={"email": "ada@bank.example", "groups": ["analytics-admins"]}),
    User(sub="pat", claims={"email": "pat@bank.example", "groups": ["p2p"]}),
]


@pytest.fixture(scope="module", autouse=True)
def chromium_present() -> None:
    require_chromium()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("browser-access") / "demo.duckdb", users=600, days=40)


@pytest.fixture(scope="module")
def trail(tmp_path_factory):
    return tmp_path_factory.mktemp("browser-audit") / "audit.sqlite"


@pytest.fixture(scope="module")
def oidc_app(demo_url, trail, tmp_path_factory):
    folder = tmp_path_factory.mktemp("oidc")
    with run_server_in_thread(user_claims=PEOPLE) as provider:
        secrets = folder / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "a cookie secret only this test uses"\n'
            'client_id = "finlens"\n'
            'client_secret = "finlens-test"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n'
        )
        env = {"FINLENS_PSEUDONYM_SECRET": SECRET, "FINLENS_AUDIT": str(trail)}
        with running_app(demo_url, folder / "streamlit.log", env, extra_args=("--secrets.files", str(secrets))) as base:
            yield base


@contextmanager
def tab(headers: dict[str, str] | None = None):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, extra_http_headers=headers)
            page = context.new_page()
            page.set_default_timeout(120_000)  # shared, loaded machines: a slow run is not a failure
            yield page
        finally:
            browser.close()


def sign_in(page, base: str, who: str) -> None:
    page.goto(base)
    settle(page)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=who, exact=True).click()  # the provider's form: one button per known person
    page.wait_for_url(f"{base}/**")
    settle(page)


def texts(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def tile(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_two_people_sign_in_through_the_provider_and_see_what_their_roles_allow(oidc_app, demo_url, trail):
    base = oidc_app
    with connect(demo_url) as warehouse:
        p2p_uv = warehouse.query(
            f"SELECT count(DISTINCT user_id) FROM events WHERE business_line IN ('p2p','platform') AND {RANGE}"
        ).rows[0][0]
        forex_uv = warehouse.query(
            f"SELECT count(DISTINCT user_id) FROM events WHERE business_line = 'forex' AND {RANGE}"
        ).rows[0][0]
        (forex_only,) = warehouse.query(
            "SELECT user_id FROM events WHERE business_line = 'forex' AND user_id IS NOT NULL "
            "GROUP BY user_id ORDER BY count(*) DESC, 1 LIMIT 1"  # the demo has no forex-only user: the busiest one
        ).rows[0]
        real_ids = {r[0] for r in warehouse.query("SELECT user_id FROM users").rows}
    with tab() as page:
        sign_in(page, base, "pat")
        assert "Signed in as pat@bank.example · P2P team" in texts(
            page, "[data-testid='stSidebar'] [data-testid='stCaptionContainer']"
        )
        nav = " ".join(texts(page, "[data-testid='stSidebarNav']"))
        assert "P2P" in nav and "Forex" not in nav and "Audit" not in nav
        assert tile(page, "Unique visitors") == f"{p2p_uv:,}"
        page.goto(f"{base}/?f_business_line=forex")
        settle(page)
        assert f"{forex_uv:,}" not in " ".join(texts(page, "[data-testid='stMetricValue']"))
        page.goto(f"{base}/board_forex")
        settle(page)
        assert "Your role may not open this page." in texts(page, "[data-testid='stAlertContentError']")
        assert page.locator("[data-testid='stMetric']").count() == 0
        page.goto(f"{base}/users?m=uv")
        settle(page)
        page.wait_for_selector(
            "[data-testid='stMain'] [data-testid='stButtonGroup'] button"
        )  # the list may come a run after the first (settle can fall between)
        pills = texts(page, "[data-testid='stMain'] [data-testid='stButtonGroup'] button")
        assert pills and all(p.startswith("p_") for p in pills) and not set(pills) & real_ids
        assert page.locator("[data-testid='stDownloadButton']").count() == 0
        first = pills[0]
        page.goto(f"{base}/users?m=uv")
        settle(page)
        page.wait_for_selector("[data-testid='stMain'] [data-testid='stButtonGroup'] button")
        assert texts(page, "[data-testid='stMain'] [data-testid='stButtonGroup'] button")[0] == first  # stable
        page.goto(f"{base}/sequence?user={forex_only}")
        settle(page)
        assert page.locator("[data-testid='stDataFrame']").count() == 0
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="End session").click()  # the provider's own sign-out, then back to the app
        page.wait_for_url(f"{base}/**")
        settle(page)
        assert page.get_by_role("button", name="Sign in").count() == 1
        assert page.locator("[data-testid='stMetric']").count() == 0
    with tab() as page:
        sign_in(page, base, "ada")
        nav = " ".join(texts(page, "[data-testid='stSidebarNav']"))
        assert "Forex" in nav and "Audit trail" in nav
        page.goto(f"{base}/users?m=uv")
        settle(page)
        page.wait_for_selector("[data-testid='stDownloadButton'] button")
        with page.expect_download() as download:
            page.locator("[data-testid='stDownloadButton'] button").click()
        exported = download.value.path().read_text().split()
        assert exported[0] == "user_id" and set(exported[1:]) <= real_ids  # the administrator sees real ids
        page.goto(f"{base}/audit")
        settle(page)
        page.wait_for_selector("[data-testid='stDataFrame']")  # the trail, for the administrator
    rows = audit.entries(path=trail)
    pat = {r["action"] for r in rows if r["identity"] == "pat@bank.example" and r["role"] == "p2p_team"}
    assert {"sign-in", "page", "query", "sequence", "denied"} <= pat
    exports = [r for r in rows if r["action"] == "export"]
    assert [(r["identity"], r["role"], r["rows"]) for r in exports] == [
        ("ada@bank.example", "admin", len(exported) - 1)
    ]
    assert audit.verify(trail) == len(rows)


def outward_address() -> str | None:
    """This machine's first non-loopback IPv4 address (a client connecting to it is not 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_the_trusted_header_is_believed_from_the_proxy_only(demo_url, tmp_path):
    outward = outward_address()
    if outward is None:
        pytest.fail("this machine has no non-loopback address to connect from")
    env = {
        "FINLENS_TRUSTED_HEADER": "X-Forwarded-Email",
        "FINLENS_TRUSTED_GROUPS_HEADER": "X-Forwarded-Groups",
        "FINLENS_TRUSTED_PROXIES": "127.0.0.1/32",
        "FINLENS_PSEUDONYM_SECRET": SECRET,
    }
    headers = {"X-Forwarded-Email": "pat@bank.example", "X-Forwarded-Groups": "p2p"}
    with running_app(demo_url, tmp_path / "streamlit.log", env, address="0.0.0.0") as base:
        with tab(headers) as page:  # through the proxy on this host: believed
            page.goto(base)
            settle(page)
            captions = texts(page, "[data-testid='stSidebar'] [data-testid='stCaptionContainer']")
            assert "Signed in as pat@bank.example · P2P team" in captions
        with tab(headers) as page:  # straight from another address: the same header is ignored
            page.goto(base.replace("127.0.0.1", outward))
            settle(page)
            assert texts(page, "[data-testid='stAlertContentError']") == [
                "No signed-in identity reached finlens: open it through your organisation's sign-in proxy."
            ]
            assert page.locator("[data-testid='stMetric']").count() == 0
