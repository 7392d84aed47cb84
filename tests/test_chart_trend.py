"""Readable trend charts, worked out by hand on tiny series: scales apart, partial periods, weekly ticks, comparison.

The range 2026-10-02 (a Friday) – 2026-10-31 (a Saturday) by week touches five weeks starting on the
Mondays 09-28, 10-05, 10-12, 10-19 and 10-26. The first holds 3 of its 7 days (10-02..10-04), the
last 6 of 7 (10-26..10-31): both are partial, the three between are whole.
"""

from __future__ import annotations

from datetime import date

import pytest

from finlens.app.board_charts import words
from finlens.app.chart_compare import experiment_spec
from finlens.app.chart_trend import Series, trend_spec
from finlens.app.charts import dataset_rows

SPAN = (date(2026, 10, 2), date(2026, 10, 31))
MONDAYS = ["2026-09-28", "2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26"]
UV = Series("uv", "Unique visitors", "number", True)
REG = Series("registrations", "Registrations", "number", True)
PV = Series("pv", "Page views", "number", True)
RATE = Series("bounce_rate", "Bounce rate", "percent", False)


def layers(spec: dict) -> list[dict]:
    return spec["layer"]


def points(spec: dict) -> list[dict]:
    return dataset_rows(spec)


def dashed(spec: dict, dash: list[int]) -> dict:
    (layer,) = [x for x in layers(spec) if isinstance(x["mark"], dict) and x["mark"].get("strokeDash") == dash]
    return layer


def weekly_rows(**values: list) -> list[dict]:
    return [{"week": day, **{k: v[i] for k, v in values.items()}} for i, day in enumerate(MONDAYS)]


def test_visitors_and_registrations_get_panels_of_their_own():
    # uv peaks at 2,450, registrations at 26: 2,450 > 10 x 26, so they share no axis; pv (9,000) is within
    # 10x of uv (9,000 <= 10 x 2,450) and shares its panel, named largest first
    rows = [
        {"day": "2026-10-02", "uv": 2400, "registrations": 25, "pv": 9000},
        {"day": "2026-10-03", "uv": 2450, "registrations": 26, "pv": 8800},
    ]
    specs = trend_spec(rows, "day", [UV, REG, PV], (date(2026, 10, 2), date(2026, 10, 3)), words("en"), "en")
    assert len(specs) == 2
    assert [s["layer"][0]["encoding"]["y"]["title"] for s in specs] == [
        "Page views · Unique visitors",
        "Registrations",
    ]
    assert {p["series"] for p in points(specs[1])} == {"Registrations"}


def test_a_percentage_never_shares_an_axis_with_a_count():
    rows = [{"day": "2026-10-02", "uv": 2, "bounce_rate": 0.5}]  # within 10x, but a rate and a count
    specs = trend_spec(rows, "day", [UV, RATE], (date(2026, 10, 2), date(2026, 10, 2)), words("en"), "en")
    assert len(specs) == 2


@pytest.mark.parametrize(
    ("language", "partial_first", "partial_last"),
    [
        ("en", "partial: 3 of 7 days in the range", "partial: 6 of 7 days in the range"),
        ("zh", "不完整：范围内只有 7 天中的 3 天", "不完整：范围内只有 7 天中的 6 天"),
    ],
)
def test_weeks_sit_on_mondays_and_cut_weeks_are_marked_partial(language, partial_first, partial_last):
    rows = weekly_rows(uv=[300, 700, 700, 700, 600])
    (spec,) = trend_spec(rows, "week", [UV], SPAN, words(language), language)
    ticks = layers(spec)[0]["encoding"]["x"]["axis"]["values"]
    assert [f"{t['year']}-{t['month']:02}-{t['date']:02}" for t in ticks] == MONDAYS
    shown = [(p["bucket"], p["partial"], p["text"]) for p in points(spec)]
    assert shown == [
        ("2026-09-28", True, f"300 · {partial_first}"),
        ("2026-10-05", False, "700"),
        ("2026-10-12", False, "700"),
        ("2026-10-19", False, "700"),
        ("2026-10-26", True, f"600 · {partial_last}"),
    ]
    # a partial week's point is hollow (fill opacity 0), a whole week's filled
    (point,) = [x for x in layers(spec) if x["mark"]["type"] == "point"]
    assert point["encoding"]["fillOpacity"]["condition"] == {"test": "datum.partial", "value": 0}


def test_a_bucket_without_rows_is_zero_for_a_count_and_a_gap_for_a_rate():
    rows = [{"week": "2026-10-05", "uv": 10, "bounce_rate": 0.25}]  # only the second week has events
    specs = trend_spec(rows, "week", [UV, RATE], SPAN, words("en"), "en")
    counts = [p["value"] for p in points(specs[0])]
    rates = [p["value"] for p in points(specs[1])]
    assert counts == [0, 10, 0, 0, 0]
    assert rates[1] == 0.25 and all(r is None for k, r in enumerate(rates) if k != 1)


@pytest.mark.parametrize(("language", "suffix"), [("en", "(comparison)"), ("zh", "（对比期）")])
def test_the_comparison_period_is_a_dashed_line_under_the_same_buckets(language, suffix):
    # the previous 30 days, 2026-09-02 – 2026-10-01, by week: Mondays 08-31, 09-07, 09-14, 09-21, 09-28;
    # its k-th week is drawn under this period's k-th week
    rows = weekly_rows(uv=[300, 700, 700, 700, 600])
    earlier = [{"week": day, "uv": v} for day, v in zip(["2026-08-31", "2026-09-07", "2026-09-14"], [100, 200, 300])]
    (spec,) = trend_spec(
        rows,
        "week",
        [UV],
        SPAN,
        words(language),
        language,
        comparison=earlier,
        comparison_span=(date(2026, 9, 2), date(2026, 10, 1)),
    )
    before = [(p["bucket"], p["value"]) for p in points(spec) if p["earlier"]]
    assert before == list(zip(MONDAYS, [100, 200, 300, 0, 0]))
    assert {p["series"] for p in points(spec) if p["earlier"]} == {f"Unique visitors {suffix}"}
    line = dashed(spec, [5, 4])
    assert line["mark"]["opacity"] < 1 and line["transform"] == [{"filter": "datum.earlier"}]


@pytest.mark.parametrize(
    ("language", "variant_word", "rate_word"),
    [
        ("en", "Opening screen (variant of the A/B test)", "Conversion rate (invested within 30 days)"),
        ("zh", "开屏页（A/B 实验分组）", "转化率（30 天内投资）"),
    ],
)
def test_the_experiment_chart_has_upright_labels_and_whole_titles(language, variant_word, rate_word):
    variants = [
        {
            "variant": "a",
            "label": "Fund security (control)",
            "rate": 0.1,
            "users": 1000,
            "converted": 100,
            "control": 1,
        },
        {"variant": "b", "label": "High yield", "rate": 0.125, "users": 800, "converted": 100, "control": 0},
    ]
    spec = experiment_spec(variants, (variant_word, rate_word), language)
    bars, labels = spec["layer"]
    x, y = bars["encoding"]["x"], bars["encoding"]["y"]
    assert x["title"] == variant_word and y["title"] == rate_word
    assert x["axis"]["labelAngle"] == 0 and x["axis"]["labelLimit"] >= 300
    # a title is cut at titleLimit pixels: 600 px holds ~50 characters at 12 px, more than either title
    assert x["axis"]["titleLimit"] >= 600 and y["axis"]["titleLimit"] >= 600
    assert y["scale"]["domainMin"] == 0  # bars start at zero: the difference is not exaggerated
    # each bar says its rate and the counts behind it: 100 / 1,000 = 10.0%, 100 / 800 = 12.5%
    data = dataset_rows(spec)
    assert [d["text"] for d in data] == ["10.0% (100 / 1,000)", "12.5% (100 / 800)"]
