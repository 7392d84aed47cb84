"""Who sees what in the app (AppTest, signed in through Streamlit's OIDC state): roles, pages, rows, ids, the trail.

The roles are the shipped ``metrics/access.yml``'s: ``p2p`` → p2p_team (rows ``business_line IN ('p2p',
'platform')``, no pii, no export), ``marketing`` → marketing (no pii, export), ``analytics-admins`` → admin.
Every expected number is a hand-written SQL query on the same warehouse; pseudonyms are checked against the
keyed hash computed here over the ids that SQL returns.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from connectors import connect
from finlens import audit
from finlens.app.i18n import t
from tests.app_helpers import APP, make_demo, open_url_path, problems, sign_in

SECRET = "test-only pseudonym secret, 32+ characters"
P2P = ("pat@bank.example", ("p2p",))
ADMIN = ("ada@bank.example", ("analytics-admins",))
MARKETING = ("mo@bank.example", ("marketing",))
P2P_PAGES = {"overview", "board_p2p", "explore", "funnel", "retention", "breakdown", "users", "sequence"}
RANGE = "event_time >= TIMESTAMP '2026-10-02' AND event_time < TIMESTAMP '2026-11-01'"  # the default 30 days
REFUSED = "Your role may not open this page."


def by_hand_pseudonym(user_id: str) -> str:
    return "p_" + hmac.new(SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()[:16]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("access") / "demo.duckdb", users=900, days=40)


@pytest.fixture()
def app(demo_url, monkeypatch):
    monkeypatch.setenv("FINLENS_WAREHOUSE", demo_url)
    monkeypatch.setenv("FINLENS_PSEUDONYM_SECRET", SECRET)

    def signed_in(who: tuple[str, tuple[str, ...]] | None, **params: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=180)
        if who is not None:
            sign_in(at, *who)
        at.query_params.update(params)
        return at

    return signed_in


def scalar(url: str, sql: str):
    with connect(url) as warehouse:
        return warehouse.query(sql).rows[0][0]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_without_sign_in_every_page_says_everyone_is_an_administrator(app, language):
    at = app(None, lang=language).run()
    assert problems(at) == []
    banner = t("access.no_sign_in", language)
    assert banner.startswith(
        "Sign-in not configured: everyone is an administrator" if language == "en" else "未配置登录"
    )
    assert [w.value for w in at.warning][:1] == [banner]
    at = open_url_path(at, "sequence")  # another page: the same banner
    assert banner in [w.value for w in at.warning]


def test_without_sign_in_the_app_refuses_a_non_loopback_address(app):
    before = st.get_option("server.address")
    st.config.set_option("server.address", "0.0.0.0")
    try:
        at = app(None).run()
    finally:
        st.config.set_option("server.address", before)
    assert [e.value for e in at.error] == [t("access.not_loopback", "en", address="0.0.0.0")]
    assert at.metric == [] and at.dataframe == []


def test_with_oidc_configured_nothing_shows_before_sign_in(app):
    at = app(P2P)
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in"] and at.metric == [] and problems(at) == []


def test_a_signed_in_person_without_a_role_sees_only_no_access(app, audit_trail):
    at = app(("eve@bank.example", ("unknown-group",))).run()
    assert [e.value for e in at.error] == [
        "eve@bank\\.example has no access to finlens: ask an administrator for a role (metrics/access.yml)."
    ]
    assert at.metric == [] and at.dataframe == [] and [b.label for b in at.button] == ["Sign out"]
    (denied,) = audit.entries(path=audit_trail)
    assert (denied["identity"], denied["action"]) == ("eve@bank.example", "denied")


def test_the_p2p_team_navigation_holds_its_pages_and_every_other_url_is_refused(app):
    at = app(P2P).run()
    registered = at._registered_pages.values()  # noqa: SLF001 - what st.navigation was handed
    shown = {i["url_pathname"] or i["script_path"].rsplit("/", 1)[1][:-3] for i in registered if i.get("script_path")}
    assert shown == P2P_PAGES
    refused = sorted(i["url_pathname"] for i in registered if not i.get("script_path"))
    assert {"board_forex", "audit", "segments", "lifecycle", "alerts", "channels"} <= set(refused)
    for name in [*refused, *sorted(P2P_PAGES - {"overview"})]:
        page = open_url_path(at, name)
        assert page.exception == [], name
        if name in P2P_PAGES:
            assert REFUSED not in [e.value for e in page.error], name
        else:
            assert [e.value for e in page.error] == [REFUSED] and page.metric == [] and page.dataframe == [], name


def test_the_p2p_team_sees_p2p_and_platform_rows_only_even_with_forex_in_the_url(app, demo_url):
    # by hand, on the same warehouse: the policy's rows, and all rows (the administrator's number)
    p2p_uv = scalar(
        demo_url, f"SELECT count(DISTINCT user_id) FROM events WHERE business_line IN ('p2p','platform') AND {RANGE}"
    )
    all_uv = scalar(demo_url, f"SELECT count(DISTINCT user_id) FROM events WHERE {RANGE}")
    forex_uv = scalar(demo_url, f"SELECT count(DISTINCT user_id) FROM events WHERE business_line = 'forex' AND {RANGE}")
    assert 0 < p2p_uv < all_uv and forex_uv > 0
    admin = app(ADMIN).run()
    assert {m.label: m.value for m in admin.metric}["Unique visitors"] == f"{all_uv:,}"
    at = app(P2P).run()  # same process, same caches: the administrator's result must not be handed on
    assert problems(at) == []
    assert {m.label: m.value for m in at.metric}["Unique visitors"] == f"{p2p_uv:,}"
    assert "Forex" not in at.multiselect(key="f_business_line").options
    tampered = app(P2P, f_business_line="forex").run()
    tiles = {m.label: m.value for m in tampered.metric}
    assert tiles.get("Unique visitors") in (f"{p2p_uv:,}", "0", None) and f"{forex_uv:,}" not in tiles.values()


def test_the_p2p_team_sees_stable_pseudonyms_never_ids_cannot_export_and_is_audited(app, demo_url, audit_trail):
    with connect(demo_url) as warehouse:
        real = {
            r[0]
            for r in warehouse.query(
                f"SELECT DISTINCT user_id FROM events WHERE user_id IS NOT NULL AND business_line IN ('p2p','platform') AND {RANGE}"
            ).rows
        }
        forex_only = warehouse.query(
            "SELECT user_id FROM events WHERE business_line = 'forex' AND user_id IS NOT NULL "
            "GROUP BY user_id ORDER BY count(*) DESC, 1 LIMIT 1"
        ).rows
    at = app(P2P, m="uv").run()
    at.switch_page("finlens/pages/users.py").run()
    assert problems(at) == []
    listed = list(at.dataframe[0].value.iloc[:, 0])
    assert listed and all(str(u).startswith("p_") for u in listed)
    expected = {by_hand_pseudonym(u) for u in real}
    assert set(listed) <= expected and not set(listed) & real
    assert at.get("download_button") == [] and "Your role may not export user ids." in [c.value for c in at.caption]
    again = app(P2P, m="uv").run()
    again.switch_page("finlens/pages/users.py").run()
    assert list(again.dataframe[0].value.iloc[:, 0]) == listed  # stable across sessions
    # the sequence page: a listed pseudonym opens the user, masked; a real id typed or linked finds nothing
    real_of = {by_hand_pseudonym(u): u for u in real}
    at.query_params["user"] = listed[0]
    at.switch_page("finlens/pages/sequence.py").run()
    assert problems(at) == [] and at.dataframe, "the pseudonym opens the user's events"
    events = at.dataframe[-1].value
    assert not any(real_of[listed[0]] in str(v) for v in events.to_numpy().ravel())
    assert len(forex_only) == 1
    for typed in (real_of[listed[0]], forex_only[0][0]):
        at.query_params["user"] = typed
        at.switch_page("finlens/pages/sequence.py").run()
        assert at.dataframe == [] and problems(at) == []
    trail = [r for r in audit.entries(path=audit_trail) if r["identity"] == "pat@bank.example"]
    assert {r["role"] for r in trail} == {"p2p_team"}
    actions = {r["action"] for r in trail}
    assert {"sign-in", "page", "query", "sequence"} <= actions
    assert all(r["sql_hash"] and len(r["sql_hash"]) == 64 for r in trail if r["action"] == "query")
    looked_up = [r["detail"] for r in trail if r["action"] == "sequence"]
    assert real_of[listed[0]] in looked_up  # the trail (administrators only) names the real user looked up
    assert audit.verify(audit_trail) == len(audit.entries(path=audit_trail))


def test_marketing_exports_pseudonyms_and_a_changed_group_takes_effect_on_the_next_run(app):
    at = app(MARKETING, m="uv").run()
    at.switch_page("finlens/pages/users.py").run()
    assert problems(at) == []
    (button,) = at.get("download_button")
    assert button.proto.label == "Download user ids (CSV)"
    assert "Signed in as mo@bank\\.example · Marketing" in [c.value for c in at.sidebar.caption]
    at.user = {**at.user, "groups": ["p2p"]}
    at.run()
    assert "Signed in as mo@bank\\.example · P2P team" in [c.value for c in at.sidebar.caption]
    assert at.get("download_button") == []


def test_the_sql_a_role_is_shown_carries_its_policy_even_after_an_administrator_asked(app):
    admin = open_url_path(app(ADMIN).run(), "explore")
    admin_sql = " ".join(c.value for c in admin.code)
    assert admin_sql and "'p2p'" not in admin_sql
    p2p = open_url_path(app(P2P).run(), "explore")  # the same question, same process: its own compiled SQL
    assert problems(p2p) == []
    assert "IN ('p2p', 'platform')" in " ".join(c.value for c in p2p.code)


def test_an_edited_access_file_takes_effect_on_the_next_run_and_a_broken_one_lets_nobody_in(app, tmp_path, monkeypatch):
    root = tmp_path / "metrics"
    shutil.copytree(Path(__file__).resolve().parent.parent / "metrics", root)
    monkeypatch.setenv("FINLENS_METRICS", str(root))
    access = root / "access.yml"
    at = app(P2P).run()
    assert "Signed in as pat@bank\\.example · P2P team" in [c.value for c in at.sidebar.caption]
    access.write_text(access.read_text().replace("members: {}", "members: {pat@bank.example: marketing}"))
    at.run()  # the same session, the next click: the file as it is now
    assert "Signed in as pat@bank\\.example · Marketing" in [c.value for c in at.sidebar.caption]
    access.write_text(access.read_text().replace("default_role: null", "default_role: nobody"))
    at.run()
    assert [e.value for e in at.error] == [
        "pat@bank\\.example has no access to finlens: ask an administrator for a role (metrics/access.yml)."
    ]
    assert at.metric == [] and at.dataframe == []


def test_a_file_of_ids_asked_for_directly_is_refused_without_export(demo_url, monkeypatch):
    monkeypatch.setenv("FINLENS_WAREHOUSE", demo_url)
    monkeypatch.setenv("FINLENS_PSEUDONYM_SECRET", SECRET)
    script = (
        "import streamlit as st\n"
        "from finlens.app import members\n"
        "try:\n"
        "    members.all_member_ids(None)\n"
        "except Exception as err:\n"
        "    st.write(f'{type(err).__name__}: {err}')\n"
    )
    at = sign_in(AppTest.from_string(script, default_timeout=60), *P2P).run()
    assert [m.value for m in at.markdown] == [
        "QueryError: your role may not export user ids (metrics/access.yml grants export)"
    ]
