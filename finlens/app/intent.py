"""The intent page's words and cached queries: tier summary, member lists and id exports as of a day.

Like :mod:`finlens.app.state`, results are cached by (compiled SQL, warehouse
URL); the page never builds SQL, it calls these.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from finlens.app import state as app_state
from finlens.app.members import all_member_ids, member_page
from semantic.analyses.intent import load_intent
from semantic.analyses.intent_spec import IntentSpec
from semantic.analyses.intent_sql import intent_members
from semantic.analyses.intent_summary import IntentSummary, compile_intent_summary, run_intent_summary
from semantic.drill.users import UserList

CACHE_SECONDS = 3600
EXTRA = ("score", "tier")

TEXT: dict[str, tuple[str, str]] = {  # key: (en, zh)
    "as_of": ("As of", "截至日期"),
    "score_window": ("Score window", "评分窗口"),
    "preference_window": ("Preference window", "偏好窗口"),
    "ranked": ("Users with a score", "有评分的用户"),
    "tiers": ("Intent tiers", "意向分层"),
    "tier": ("Tier", "分层"),
    "top": ("Top share", "累计占比"),
    "users": ("Users", "用户数"),
    "share": ("Share", "占比"),
    "threshold": ("Threshold (score ≥)", "门槛（分数 ≥）"),
    "min_score": ("Min score", "最低分"),
    "max_score": ("Max score", "最高分"),
    "ties_note": (
        "Users tied at a threshold all join the higher tier, so a tier may hold a little more than its share.",
        "与门槛同分的用户都归入较高的分层，因此分层人数可能略多于其占比。",
    ),
    "preferences": ("Product preference", "产品偏好"),
    "type": ("Product type", "产品类型"),
    "dwell_users": ("Users with product dwell time", "有产品浏览时长的用户"),
    "preference_note": (
        (
            "A user prefers a type when it holds more than {threshold:.0%} of their product-detail dwell time; "
            "a user may prefer two types."
        ),
        "某类型占用户产品详情浏览时长超过 {threshold:.0%} 即为偏好该类型；一个用户可偏好两种类型。",
    ),
    "crosstab": ("Tier × preferred type", "分层 × 偏好类型"),
    "no_score": ("(no score)", "（无评分）"),
    "no_preference": ("(no preference)", "（无偏好）"),
    "members": ("Users", "用户名单"),
    "any": ("Any", "全部"),
    "prefers": ("Prefers", "偏好"),
    "open_user": ("Open a user", "查看用户"),
    "download_ids": ("Download ids (CSV)", "下载用户 ID（CSV）"),
    "page": ("Page", "页"),
    "sql": ("SQL", "SQL"),
    "no_data": ("No data.", "没有数据。"),
}


def t(key: str, language: str = "en") -> str:
    en, zh = TEXT.get(key, (key, key))
    return zh if language == "zh" else en


@st.cache_resource
def spec() -> IntentSpec:
    """``metrics/marketing/intent.yml`` (a CatalogError lists every problem)."""
    return load_intent(app_state.catalog())


@st.cache_data(show_spinner=False, ttl=CACHE_SECONDS)
def _summary(tiers_sql: str, crosstab_sql: str, url: str, as_of: date, _spec: IntentSpec) -> IntentSummary:
    return run_intent_summary(_spec, as_of, (tiers_sql, crosstab_sql), app_state.warehouse(url))


def summary(as_of: date) -> IntentSummary:
    """Tier sizes, thresholds, preferred types and the crosstab as of ``as_of`` (cached by SQL)."""
    url = app_state.warehouse_url()
    sql = compile_intent_summary(app_state.catalog(), spec(), as_of, app_state.warehouse(url).dialect)
    return _summary(*sql, url, as_of, spec())


def members(as_of: date, tier: str | None, prefers: str | None, *, limit: int = 50, offset: int = 0) -> UserList:
    """One page of the users in ``tier`` AND preferring ``prefers``, with score and tier."""
    return member_page(_members_select(as_of, tier, prefers), as_of, extra=EXTRA, limit=limit, offset=offset)


def ids(as_of: date, tier: str | None, prefers: str | None) -> list[str]:
    """Every id of those users, sorted (the CSV for a push system)."""
    return all_member_ids(_members_select(as_of, tier, prefers))


def _members_select(as_of: date, tier: str | None, prefers: str | None):
    dialect = app_state.warehouse(app_state.warehouse_url()).dialect
    return intent_members(app_state.catalog(), spec(), as_of, dialect, tier=tier, prefers=prefers)
