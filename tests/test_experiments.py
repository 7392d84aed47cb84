"""Experiments on hand-built fixtures: users and conversions per variant, lift, z-test and interval by hand.

Push against holdout (a condition experiment; conversion = a successful P2P_invest during
2026-10-11..2026-10-24, computed as of 10-24):
  push     P1 invest ok 10-12          converted
           P2 invest ok 10-24 23:59:59 converted (the last second of the window)
           P3 invest ok 10-25          no (after the window)
           P4 invest FAILED 10-15      no
  holdout  H1 invest ok 10-11 00:00    converted (the first second)
           H2 invest ok 10-10          no (before the window)
           H3, H4, H5 nothing          no
  (none)   N1 invest ok 10-12          unassigned: left out of the comparison
push 2/4 = 0.5 against holdout 1/5 = 0.2: lift 0.3, relative lift 1.5.
Pooled rate 3/9 = 1/3; standard error sqrt(1/3 * 2/3 * (1/5 + 1/4)) = sqrt(0.1) = 0.316228;
z = 0.3 / 0.316228 = 0.948683; two-sided p = 2 * (1 - Phi(0.9487)) = 2 * (1 - 0.82860) = 0.3428.
Unpooled standard error sqrt(0.2 * 0.8 / 5 + 0.5 * 0.5 / 4) = sqrt(0.0945) = 0.307409;
95% interval 0.3 -/+ 1.959964 * 0.307409 = 0.3 -/+ 0.60251 = [-0.30251, 0.90251].

Opening screen (a funnel experiment over opening_screen_invest, 30-day window, March 2026):
  fund_security  A1 screen 03-01, invest ok 03-06   converted
                 A2 screen 03-01, invest ok 04-01 (31 days later) no
                 A3 screen 03-02, nothing            no
  high_yield     B1 screen 03-03, invest ok the same minute  converted
                 B2 invest ok 03-01, screen 03-04 (the investment came first) no
fund_security 1/3 against high_yield 1/2.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from finlens_common.errors import CatalogError, QueryError
from semantic import load_catalog
from semantic.analyses.experiment_run import compile_condition_experiment, experiment_members, run_experiment
from semantic.analyses.experiments import load_experiments
from semantic.compiler.dialects import DIALECTS
from semantic.drill.members import member_ids
from tests.warehouse_fixtures import ENGINES, engine_warehouse

CATALOG = load_catalog()


def invest(user, time, ok=True):
    return dict(user_id=user, event_time=time, event="P2P_invest", is_success=ok, amount=1000.0)


def screen(user, time, variant):
    return dict(
        user_id=user,
        event_time=time,
        event="$AppViewScreen",
        page="opening_screen",
        properties=f'{{"ab_opening_screen":"{variant}"}}',
    )


EVENTS = [
    invest("P1", "2026-10-12 09:00:00"),
    invest("P2", "2026-10-24 23:59:59"),
    invest("P3", "2026-10-25 09:00:00"),
    invest("P4", "2026-10-15 09:00:00", ok=False),
    invest("H1", "2026-10-11 00:00:00"),
    invest("H2", "2026-10-10 09:00:00"),
    invest("N1", "2026-10-12 09:00:00"),
    screen("A1", "2026-03-01 10:00:00", "fund_security"),
    invest("A1", "2026-03-06 10:00:00"),
    screen("A2", "2026-03-01 10:00:00", "fund_security"),
    invest("A2", "2026-04-01 10:00:01"),
    screen("A3", "2026-03-02 10:00:00", "fund_security"),
    screen("B1", "2026-03-03 10:00:00", "high_yield"),
    invest("B1", "2026-03-03 10:00:00"),
    invest("B2", "2026-03-01 10:00:00"),
    screen("B2", "2026-03-04 10:00:00", "high_yield"),
]
USERS = [
    *(dict(user_id=u, campaign_group="push") for u in ("P1", "P2", "P3", "P4")),
    *(dict(user_id=u, campaign_group="holdout") for u in ("H1", "H2", "H3", "H4", "H5")),
    *(dict(user_id=u) for u in ("N1", "A1", "A2", "A3", "B1", "B2")),
]
EXPERIMENTS = """experiments:
  - name: push
    label: {zh: 推送, en: Push}
    variant: campaign_group
    control: holdout
    converted:
      did: P2P_invest
      filter: is_success
      during: [2026-10-11, 2026-10-24]
    end: 2026-10-24
  - name: screen
    label: {zh: 开屏, en: Screen}
    variant: ab_opening_screen
    control: fund_security
    metric: opening_screen_invest
    start: 2026-03-01
    end: 2026-03-31
"""


def metrics_root(tmp_path: Path, experiments: str) -> Path:
    root = tmp_path / "metrics"
    for folder in ("models", "catalog"):
        shutil.copytree(Path(CATALOG.root) / folder, root / folder)
    (root / "marketing").mkdir()
    (root / "marketing" / "experiments.yml").write_text(experiments, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def experiments(tmp_path_factory):
    return load_experiments(CATALOG, metrics_root(tmp_path_factory.mktemp("experiments"), EXPERIMENTS))


@pytest.fixture(scope="module", params=ENGINES)
def warehouse(request, tmp_path_factory):
    with engine_warehouse(request, tmp_path_factory.mktemp("experiments"), EVENTS, USERS) as opened:
        yield opened


def test_push_against_holdout(warehouse, experiments):
    result = run_experiment(CATALOG, experiments["push"], warehouse)
    assert [(v.variant, v.users, v.converted, v.is_control) for v in result.variants] == [
        ("holdout", 5, 1, True),
        ("push", 4, 2, False),
    ]
    assert result.unassigned_users == 6  # N1 and the five screen-test users have no campaign group
    push = result.variants[1].comparison
    assert (push.rate, push.control_rate) == (0.5, 0.2)
    assert push.lift == pytest.approx(0.3) and push.relative_lift == pytest.approx(1.5)
    assert push.z == pytest.approx(0.948683, abs=1e-6)
    assert push.p_value == pytest.approx(0.3428, abs=1e-4)
    assert (push.ci_low, push.ci_high) == (pytest.approx(-0.30251, abs=1e-5), pytest.approx(0.90251, abs=1e-5))
    assert push.small_sample


def test_variant_members_converted_or_not(warehouse, experiments):
    push = experiments["push"]

    def ids(**options):
        return set(
            member_ids(experiment_members(CATALOG, push, date(2026, 10, 24), warehouse.dialect, **options), warehouse)
        )

    assert ids(variant="push") == {"P1", "P2", "P3", "P4"}
    assert ids(variant="push", converted=True) == {"P1", "P2"}
    assert ids(variant="holdout", converted=False) == {"H2", "H3", "H4", "H5"}


def test_funnel_experiment(warehouse, experiments):
    result = run_experiment(CATALOG, experiments["screen"], warehouse)
    assert [(v.variant, v.users, v.converted) for v in result.variants] == [
        ("fund_security", 3, 1),
        ("high_yield", 2, 1),
    ]
    assert result.variants[1].comparison.lift == pytest.approx(0.5 - 1 / 3)


def test_condition_experiment_compiles_for_every_dialect(experiments):
    for dialect in DIALECTS:
        sql = compile_condition_experiment(CATALOG, experiments["push"], date(2026, 10, 24), dialect)
        assert "campaign_group" in sql and "2026-10-11" in sql


def test_missing_control_is_one_line(warehouse, experiments):
    broken = experiments["push"].__class__(**{**experiments["push"].__dict__, "control": "hold"})
    with pytest.raises(QueryError, match="no users in control variant 'hold' \\(variants found: holdout, push\\)"):
        run_experiment(CATALOG, broken, warehouse)


@pytest.mark.parametrize(
    "body,message",
    [
        ("variant: campaign_group\n    control: holdout\n", "experiments.yml:2: experiment 'x': give either 'metric'"),
        (
            "variant: campaign_group\n    control: holdout\n    metric: pv\n",
            "experiments.yml:6: experiment 'x': metric 'pv' is a aggregate",
        ),
        (
            "variant: platform\n    control: iOS\n    converted: {did: register}\n",
            "experiments.yml:4: experiment 'x': with 'converted', the variant must be a dimension of 'users'",
        ),
        (
            "variant: campaign_group\n    control: holdout\n    metric: invest_funel\n",
            "experiments.yml:6: experiment 'x': unknown metric 'invest_funel' (did you mean 'invest_funnel'?)",
        ),
        (
            "variant: campaign_group\n    control: holdout\n    converted: {did: P2P_invest, last_dayz: 3}\n",
            "experiments.yml:6: experiment 'x' converted: unknown key 'last_dayz'",
        ),
    ],
)
def test_bad_experiments_say_what_and_where(tmp_path, body, message):
    text = "experiments:\n  - name: x\n    label: {zh: x, en: x}\n    " + body
    with pytest.raises(CatalogError) as caught:
        load_experiments(CATALOG, metrics_root(tmp_path, text))
    assert any(line.endswith(message) or message in line for line in str(caught.value).splitlines()), str(caught.value)
