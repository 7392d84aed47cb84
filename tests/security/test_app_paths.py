"""The app's URL parameters as an attack path: every drill parameter checked, unknown ones refused, nothing leaks.

The whole corpus goes through :func:`finlens.app.drill.parse_target` (what every
drill page reads its URL with); the real app then opens hostile links on the
three engines through AppTest: one error line per refused parameter, no
exception, the canary's secret nowhere on the page, the warehouse unchanged.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from connectors import connect
from finlens.app.drill import parse_target
from finlens_common.errors import QueryError
from tests.app_helpers import APP
from tests.security.conftest import ENGINES
from tests.security.hostile import FILTERS, checksum


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_every_hostile_where_in_a_link_is_refused(catalog, scene, name):
    with pytest.raises(QueryError) as refused:
        parse_target(catalog, {"m": ["pv"], "where": [scene.fill(FILTERS[name])]})
    assert "\n" not in str(refused.value) and str(refused.value).startswith("URL parameter 'where'")
    scene.assert_untouched(str(refused.value))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"m": ["nosuch"]}, "URL parameter 'm': unknown metric 'nosuch'"),
        ({"m": ["pv"], "sel": ["nosuch:x"]}, "URL parameter 'sel': 'nosuch:x' is not DIMENSION:VALUE"),
        ({"m": ["pv"], "sel": [":"]}, "URL parameter 'sel': ':' is not DIMENSION:VALUE"),
        ({"m": ["pv"], "sel": ["user_id:u1"]}, "URL parameter 'sel': 'user_id:u1' is not DIMENSION:VALUE"),
        ({"m": ["pv"], "sel": ["platform"]}, "URL parameter 'sel': 'platform' is not DIMENSION:VALUE"),
        ({"m": ["pv"], "sel": ["platform:" + "x" * 5000]}, "longer than 4,000 characters"),
        ({"m": ["pv"], "sel": ["platform:a"] * 11}, "at most 10"),
        ({"m": ["pv"], "by": ["nosuch"]}, "URL parameter 'by': unknown dimension 'nosuch'"),
        ({"m": ["pv"], "by": ["register_time"]}, "URL parameter 'by': unknown dimension 'register_time'"),
        ({"m": ["pv"], "where": ["((("]}, "URL parameter 'where' is not valid SQL"),
        ({"m": ["pv", "uv"]}, "URL parameter 'm' is given 2 times"),
        ({"m": ["pv"], "grain": ["fortnight"]}, "URL parameter 'grain': 'fortnight' is not one of"),
        ({"m": ["pv"], "bucket": ["2026-13-45"]}, "URL parameter 'bucket': bad date '2026-13-45'"),
        ({"m": ["pv"], "bucket": ["9999-12-31"]}, "URL parameter 'bucket': date 9999-12-31 is out of range"),
        ({"m": ["pv"], "cohort": ["x"]}, "URL parameter 'cohort': 'x' is not a day"),
        (
            {"m": ["pv"], "bucket": ["2026-10-01' OR 1=1"]},
            "URL parameter 'bucket': \"2026-10-01' OR 1=1\" is not a day",
        ),
        ({"m": ["pv"], "where": ["platform = {:1}"]}, "URL parameter 'where' is not valid SQL"),
        (
            {"m": ["pv"], "step": ["99999999999999999999"]},
            "URL parameter 'step': '99999999999999999999' is not a whole number from 1 to 100",
        ),
        ({"m": ["pv"], "step": ["²"]}, "URL parameter 'step'"),
        ({"m": ["pv"], "period": ["-1"]}, "URL parameter 'period'"),
        ({"m": ["pv"], "dropped": ["yes"]}, "URL parameter 'dropped': 'yes' is not 0 or 1"),
        ({"m": ["pv"], "retained": ["2"]}, "URL parameter 'retained'"),
    ],
)
def test_each_drill_parameter_is_checked(catalog, params, message):
    with pytest.raises(QueryError, match=None) as refused:
        parse_target(catalog, params)
    assert message in str(refused.value) and "\n" not in str(refused.value)


def test_clicked_none_narrows_to_null_and_empty_text_to_empty(catalog):
    """A clicked "(none)" bar is the NULL value, not "no filter"; an empty value is the empty string."""
    from semantic.compiler.filters import equals_where

    target = parse_target(catalog, {"m": ["pv"], "sel": ["platform:∅", "channel:"]})
    assert equals_where(list(target.filters)) == "platform IS NULL AND channel = ''"


def test_link_text_is_shown_as_typed(catalog):
    from finlens.app.i18n import plain

    assert (
        plain("[click](https://evil.example) *x* $\\frac12$")
        == "\\[click\\]\\(https\\://evil\\.example\\) \\*x\\* \\$\\\\frac12\\$"
    )


def test_a_good_link_is_read_as_written(catalog):
    target = parse_target(
        catalog,
        {
            "m": ["registrations"],
            "sel": ["platform:iOS", "channel:∅"],
            "by": ["channel"],
            "bucket": ["2026-10-05"],
            "grain": ["week"],
            "where": ["platform IN ('iOS')"],
        },
    )
    assert target is not None
    assert (target.metric, target.filters, target.by, target.bucket, target.grain, target.where) == (
        "registrations",
        (("platform", "iOS"), ("channel", None)),
        "channel",
        "2026-10-05",
        "week",
        "platform IN ('iOS')",
    )


LINKS = [  # (page, parameters): each must show an error line and nothing else going wrong
    ("finlens/pages/breakdown.py", {"m": "pv", "by": "platform", "where": FILTERS["cast_type_splice_reads_a_file"]}),
    ("finlens/pages/users.py", {"m": "registrations", "where": FILTERS["subquery_reads_a_file"]}),
    ("finlens/pages/users.py", {"m": "registrations", "sel": "user_id:u1"}),
    ("finlens/pages/breakdown.py", {"m": "pv", "by": "platform", "sel": "nosuch:{canary}"}),
    ("finlens/pages/explore.py", {"explore_metrics": "pv", "explore_where": FILTERS["cast_type_splice_stacks_a_copy"]}),
    ("finlens/pages/explore.py", {"explore_metrics": "pv", "explore_where": FILTERS["many_nots"]}),
    ("finlens/pages/sequence.py", {"user": "u1' OR 1=1 --" + "x" * 300}),
    ("finlens/pages/overview.py", {"zzz": "{canary}"}),
    ("finlens/pages/overview.py", {"f_platform": "{canary}"}),
    ("finlens/pages/overview.py", {"range": "9999-12-31"}),
    ("finlens/pages/overview.py", {"compare": "'; DROP TABLE users; --"}),
    ("finlens/pages/explore.py", {"explore_metrics": "nosuch"}),
    ("finlens/pages/funnel.py", {"funnel_by": "register_time"}),
    (
        "finlens/pages/segments.py",
        {"segment": "__build__", "seg_kind_0": "did", "seg_filter_0": FILTERS["cast_type_splice_reads_a_file"]},
    ),
    ("finlens/pages/segments.py", {"segment": "__build__", "seg_kind_0": "user", "seg_attr_0": "{canary}"}),
]


def rendered_text(at) -> str:
    parts = [e.value for e in [*at.error, *at.markdown, *at.caption, *at.code, *at.info, *at.title]]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("engine", ENGINES)
def test_hostile_links_open_cleanly_on_every_engine(engine_urls, scene, monkeypatch, engine):
    url = engine_urls[engine][0]
    monkeypatch.setenv("FINLENS_WAREHOUSE", url)
    with connect(url) as warehouse:
        before = checksum(warehouse)
    for page, params in LINKS:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.query_params.update({key: scene.fill(value) for key, value in params.items()})
        at.run()
        if page != "finlens/pages/overview.py":
            at.switch_page(page).run()
        assert not at.exception, (page, params, [e.value for e in at.exception])
        assert at.error, (page, params)
        assert all("\n" not in e.value for e in at.error)
        scene.assert_untouched(rendered_text(at))
    with connect(url) as warehouse:
        assert checksum(warehouse) == before
