"""The analysis models' paths from a person to SQL, attacked on three engines: ``finlens paths`` and
``finlens attribution`` filters (refused in one line), event names (only ever literals: they run, match nothing
and touch nothing), and the ad-hoc definitions the app builds (refused at their field).
"""

from __future__ import annotations

import json

import pytest

from connectors import connect
from finlens.cli import main
from finlens_common.errors import QueryError
from semantic.catalog.definitions import funnel_definition
from tests.security.conftest import ENGINES
from tests.security.hostile import FILTERS, checksum, one_line_error

INJECTED_EVENTS = [
    "bind_card' OR 1=1 --",
    "x'); DROP TABLE events; --",
    "$AppStart\\' UNION SELECT * FROM users --",
    "注册'; SELECT pg_sleep(10); --",
]


@pytest.fixture(scope="module")
def before(engine_urls):
    sums = {}
    for engine, (url, _) in engine_urls.items():
        with connect(url) as warehouse:
            sums[engine] = checksum(warehouse)
    return sums


def unchanged(engine_urls, engine, before):
    with connect(engine_urls[engine][0]) as warehouse:
        assert checksum(warehouse) == before[engine]


def refused(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and one_line_error(err), (argv[:2], err)
    return out, err


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(FILTERS))
def test_paths_and_attribution_where(capsys, engine_urls, before, scene, engine, name):
    url = engine_urls[engine][0]
    where = scene.fill(FILTERS[name])
    out, err = refused(capsys, "paths", "--start", "register", "--where", where, "--warehouse", url)
    scene.assert_untouched(out, err)
    out, err = refused(
        capsys,
        "attribution",
        "--conversion",
        "P2P_invest",
        "--touches",
        "register",
        "--where",
        where,
        "--warehouse",
        url,
    )
    scene.assert_untouched(out, err)
    unchanged(engine_urls, engine, before)


@pytest.mark.parametrize("engine", ENGINES)
def test_event_names_are_only_literals(capsys, engine_urls, before, engine):
    url = engine_urls[engine][0]
    for event in INJECTED_EVENTS:
        assert main(["paths", "--start", event, "--warehouse", url]) == 0
        assert json.loads(capsys.readouterr().out) == []
        code = main(["attribution", "--conversion", event, "--touches", event, f"{event}:platform", "--warehouse", url])
        assert code == 0 and json.loads(capsys.readouterr().out) == []
    unchanged(engine_urls, engine, before)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_adhoc_step_filters_are_refused_at_their_field(catalog, scene, name):
    with pytest.raises(QueryError) as raised:
        funnel_definition(
            catalog,
            name="adhoc_funnel",
            steps=[("register", None), ("bind_card", scene.fill(FILTERS[name]))],
            window="7d",
        )
    assert "\n" not in str(raised.value) and "step 2" in str(raised.value)
    scene.assert_untouched(str(raised.value))


MODEL_LINKS = [  # (page, parameters): one error line, no exception, nothing leaked, nothing changed
    (
        "finlens/pages/funnel.py",
        {"funnel_source": "build", "funnel_filter_1": FILTERS["cast_type_splice_reads_a_file"]},
    ),
    ("finlens/pages/funnel.py", {"funnel_source": "build", "funnel_event_0": "{canary}"}),
    ("finlens/pages/funnel.py", {"funnel_source": "build", "funnel_name": "x'; DROP TABLE events; --"}),
    (
        "finlens/pages/retention.py",
        {"retention_source": "build", "retention_return_filter": FILTERS["subquery_reads_a_file"]},
    ),
    ("finlens/pages/retention.py", {"retention_cohort": "'; DROP TABLE users; --"}),
    ("finlens/pages/paths.py", {"paths_source": "build", "paths_filter": FILTERS["cast_type_splice_stacks_a_copy"]}),
    ("finlens/pages/paths.py", {"paths_source": "build", "paths_mode": "after", "paths_after": "pv:2"}),
    ("finlens/pages/events.py", {"events_filter": FILTERS["many_nots"]}),
    ("finlens/pages/attribution.py", {"attribution_touches": "{canary}:platform"}),
    ("finlens/pages/interval.py", {"interval_by": "{canary}"}),
    ("finlens/pages/ltv.py", {"ltv_period": "year; SELECT 1"}),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_hostile_links_to_the_analysis_pages(engine_urls, before, scene, monkeypatch, engine):
    from streamlit.testing.v1 import AppTest

    from tests.app_helpers import APP
    from tests.security.test_app_paths import rendered_text

    url = engine_urls[engine][0]
    monkeypatch.setenv("FINLENS_WAREHOUSE", url)
    for page, params in MODEL_LINKS:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.query_params.update({key: scene.fill(value) for key, value in params.items()})
        at.run()
        at.switch_page(page).run()
        assert not at.exception, (page, params, [e.value for e in at.exception])
        assert at.error, (page, params)
        assert all("\n" not in e.value for e in at.error), (page, [e.value for e in at.error])
        scene.assert_untouched(rendered_text(at))
    unchanged(engine_urls, engine, before)
