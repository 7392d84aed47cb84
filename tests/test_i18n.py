"""One message catalog per language: the same keys in zh and en, every key the app asks for present,
and no code name on screen where the YAML gives a label."""

from __future__ import annotations

import re
import string

import pytest
from streamlit.testing.v1 import AppTest

from finlens.app import i18n
from tests.app_helpers import APP, make_demo

PAGES = [
    "finlens/pages/overview.py",
    "finlens/pages/board.py",
    "finlens/pages/explore.py",
    "finlens/pages/funnel.py",
    "finlens/pages/retention.py",
    "finlens/pages/channels.py",
    "finlens/pages/breakdown.py",
    "finlens/pages/distributions.py",
    "finlens/pages/data_quality.py",
    "finlens/pages/alerts.py",
    "finlens/pages/segments.py",
    "finlens/pages/intent.py",
    "finlens/pages/lifecycle.py",
    "finlens/pages/experiments.py",
    "finlens/pages/users.py",
    "finlens/pages/sequence.py",
]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogs_have_the_same_keys_and_placeholders():
    en, zh = i18n.catalog("en"), i18n.catalog("zh")
    assert sorted(set(en) ^ set(zh)) == []
    assert [k for k, v in {**en, **zh}.items() if not v.strip()] == []
    assert [k for k in en if placeholders(en[k]) != placeholders(zh[k])] == []


def test_a_missing_key_is_recorded_and_falls_back_to_english():
    i18n.MISSING.discard("zh:common.no_such_key")
    assert i18n.t("no_such_key", "zh") == "no_such_key" and "zh:common.no_such_key" in i18n.MISSING
    i18n.MISSING.discard("zh:common.no_such_key")


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    return make_demo(tmp_path_factory.mktemp("i18n") / "demo.duckdb", users=600, days=40)


def shown_texts(at) -> list[str]:
    """What a person reads on the page: titles, headers, captions, widget labels and choices, tiles, table headers."""
    texts = [
        e.value
        for kind in ("title", "header", "subheader", "caption", "info", "warning", "success")
        for e in getattr(at, kind)
    ]
    for kind in ("text_input", "text_area", "number_input", "date_input", "toggle", "checkbox"):
        for widget in getattr(at, kind):
            texts.append(widget.label)
            texts.append(getattr(widget, "placeholder", "") or "")
    for kind in ("selectbox", "multiselect", "radio"):
        for widget in getattr(at, kind):
            texts.append(widget.label)
            texts += [str(o) for o in widget.options]
    for group in at.get("button_group"):
        texts += [str(getattr(o, "content", o)) for o in group.options]
    texts += [m.label for m in at.metric] + [str(m.value) for m in at.metric]
    for frame in at.dataframe:
        texts += [str(c) for c in frame.value.columns]
    return texts


# Pages opened with the parameters that bring out their words: a drill, a user, a built segment...
VISITS = [
    *((page, {}) for page in PAGES),
    ("finlens/pages/users.py", {"m": "bind_card_funnel", "step": "2"}),
    ("finlens/pages/sequence.py", {"user": "u0000"}),
    ("finlens/pages/explore.py", {"explore_metrics": "invest_funnel", "explore_dims": "platform"}),
    ("finlens/pages/explore.py", {"explore_metrics": "uv", "explore_dims": "platform", "explore_grain": "week"}),
    (
        "finlens/pages/segments.py",
        {"segment": "__build__", "seg_rows": "3", "seg_kind_0": "did", "seg_kind_1": "user", "seg_kind_2": "label"},
    ),
    ("finlens/pages/overview.py", {"f_business_line": "forex", "compare": "year"}),
]
# These two pages caption the metric's description as the YAML's English text; their own words are checked above.
ENGLISH_DESCRIPTIONS = ("finlens/pages/funnel.py", "finlens/pages/retention.py")
# English left on a Chinese page: two English words in a row (codes, numbers and product names are single words)
ENGLISH = re.compile(r"[A-Za-z]{3,}[ -][A-Za-z]{3,}")
ALLOWED_ENGLISH = re.compile(
    r"^(Language / 语言|.*platform IN.*|.*finlens (validate|import|alerts|collect).*|.*metrics/.*\.yml.*)$", re.S
)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_page_asks_only_for_known_words_and_shows_labels_not_codes(demo_url, monkeypatch, catalog, language):
    monkeypatch.setenv("FINLENS_WAREHOUSE", demo_url)
    from semantic.analyses.experiments import load_experiments

    labelled = {
        **{n: m.label.get(language) for n, m in catalog.metrics.items()},
        **{n: d.label.get(language) for n, d in catalog.dimensions.items()},
        **{n: s.label.get(language) for n, s in catalog.segments.items()},
        **{n: e.label.get(language) for n, e in load_experiments(catalog).items()},
        "__build__": "",
    }
    codes = {code for code, label in labelled.items() if label != code}
    i18n.MISSING.clear()
    english = []
    for page, params in VISITS:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.query_params.update({"lang": language, "m": "registrations", "by": "channel", **params})
        at.run()
        at.switch_page(page).run()
        assert [e.value for e in at.exception] == [], page
        shown = [t for t in shown_texts(at) if t in codes or re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", t or "")]
        assert [t for t in shown if t in codes] == [], (page, shown)
        if language == "zh" and page not in ENGLISH_DESCRIPTIONS:
            english += [(page, t) for t in shown_texts(at) if ENGLISH.search(t or "") and not ALLOWED_ENGLISH.match(t)]
    assert sorted(i18n.MISSING) == []
    assert english == [], "\n".join(map(str, english))
