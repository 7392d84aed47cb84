"""The Alerts page through AppTest, in zh and en: definitions, the series with its band, check now, the history."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from finlens.alerts.store import Store
from tests.app_helpers import APP, make_demo, open_url_path, problems, sign_in

PAGE = "finlens/pages/alerts.py"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("alerts-page") / "demo.duckdb", users=800, days=40)


@pytest.fixture
def app(demo_url, monkeypatch, tmp_path):
    monkeypatch.setenv("FINLENS_WAREHOUSE", demo_url)
    monkeypatch.setenv("FINLENS_ALERTS_DB", str(tmp_path / "alerts.sqlite"))
    for name in ("FINLENS_WECOM_URL", "FINLENS_DINGTALK_URL", "FINLENS_FEISHU_URL", "FINLENS_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)

    def open_page(signed_in: tuple[str, tuple[str, ...]] | None = None, **params: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=180)
        if signed_in is not None:
            sign_in(at, *signed_in)
        at.query_params.update(params)
        at.run()
        return open_url_path(at, "alerts")

    return open_page


@pytest.mark.parametrize(
    ("language", "title", "label", "dimension"),
    [("zh", "告警", "各版本报错率异常", "应用版本"), ("en", "Alerts", "Error rate by app version", "App version")],
)
def test_the_page_lists_definitions_and_draws_the_series(app, language, title, label, dimension):
    at = app(lang=language, alert="error_rate_by_version")
    assert problems(at) == []
    assert at.title[0].value == title
    definitions = at.dataframe[0].value
    assert label in list(definitions.iloc[:, 0])
    assert len(at.get("vega_lite_chart")) == 1
    versions = at.selectbox(key="alert_key")
    assert versions.options and all(option.startswith(f"{dimension} 5.") for option in versions.options)
    assert json.loads(versions.value)["app_version"].startswith("5.")  # the code stays in the URL


def test_check_now_is_for_administrators_and_stores_every_evaluation(app, tmp_path, audit_trail):
    # a signed-in team member: the page is not theirs, so neither the series nor the button shows
    at = app(("pat@bank.example", ("p2p",)), lang="en")
    assert [e.value for e in at.error] == ["Your role may not open this page."]
    assert [b for b in at.button if b.key == "alerts_check_now"] == [] and at.dataframe == []
    # the administrator role (an SSO group mapped to admin in metrics/access.yml) checks from the app
    at = app(("ada@bank.example", ("analytics-admins",)), lang="en")
    at.button(key="alerts_check_now").click().run()
    assert problems(at) == []
    (success,) = at.success
    stored = Store(tmp_path / "alerts.sqlite").latest_evaluations()
    assert stored and success.value.startswith(f"{len(stored)} evaluations")
    # messages could not go out (no webhook URLs set): each failure is shown and recorded, nothing crashed
    assert any("FINLENS_" in w.value for w in at.warning) or not any(r["fired"] for r in stored)
    at.run()
    assert any(len(frame.value) == len(stored) for frame in at.dataframe)
    from finlens import audit

    checks = [r for r in audit.entries(path=audit_trail) if r["action"] == "alerts-check"]
    assert [(r["identity"], r["role"], r["rows"]) for r in checks] == [("ada@bank.example", "admin", len(stored))]


def test_a_link_to_an_unknown_value_is_refused_in_one_line(app):
    at = app(lang="en", alert="error_rate_by_version", alert_key='{"app_version": "9.9.9"}')
    assert any("alert_key" in e.value for e in at.error)
    assert at.exception == []
