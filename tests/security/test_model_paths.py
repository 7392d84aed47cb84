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
        capsys, "attribution", "--conversion", "P2P_invest", "--touches", "register", "--where", where, "--warehouse", url
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
