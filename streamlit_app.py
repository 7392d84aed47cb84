"""finlens app entry point: first-start demo data, the shared sidebar, then the page router.

Run with ``streamlit run streamlit_app.py``. On the embedded default warehouse
with no data yet, the demo warehouse is generated first, with a progress bar.
Pages are routed explicitly and grouped: Overview, Boards, Analysis, Marketing, Users;
one board page per ``metrics/boards/*.yml`` file.
"""

from __future__ import annotations

import logging

import streamlit as st

from finlens.app import audit_trail, catalog_files, freshness, gate, health, signin
from finlens.app import filters as app_filters
from finlens.app import params as app_params
from finlens.app import state as app_state
from finlens.app.i18n import t
from finlens.workspace import ensure_demo, needs_demo
from finlens_common.errors import FinlensError
from finlens_common.settings import warehouse_url as resolve_warehouse_url

st.set_page_config(page_title="finlens", page_icon="📊", layout="wide")
logging.getLogger("sqlglot").setLevel(logging.ERROR)

# Pages are registered before the sidebar renders (its filter lookups take a moment), so a direct link to a
# page is resolved on the first run; the titles take the language from the session or the URL.
lang = app_filters.language()
# who is looking (sign-in, role from metrics/access.yml), worked out afresh on every run; nothing is drawn before
# st.navigation, or a first visitor's shared link would meet Streamlit's "Page not found"
who = signin.resolve(app_state.unscoped_catalog())
boards = app_state.boards()  # YAML only, reloaded when a file changes: the page list needs no data
line_boards = [b for b in boards.values() if b.name != "overview"]
navigation = gate.navigate(  # st.navigation with only the pages the role may open; others refused by URL
    {
        t("overview", lang): [
            st.Page("finlens/pages/overview.py", title=t("overview", lang), icon=":material/dashboard:", default=True)
        ],
        t("boards", lang): [
            st.Page(
                "finlens/pages/board.py",
                title=b.label.get(lang),
                icon=":material/view_quilt:",
                url_path=f"board_{b.name}",
            )
            for b in line_boards
        ],
        t("analysis", lang): [
            st.Page("finlens/pages/explore.py", title=t("explore", lang), icon=":material/query_stats:"),
            st.Page("finlens/pages/events.py", title=t("events.title", lang), icon=":material/add_chart:"),
            st.Page("finlens/pages/funnel.py", title=t("funnel", lang), icon=":material/filter_alt:"),
            st.Page("finlens/pages/retention.py", title=t("retention", lang), icon=":material/event_repeat:"),
            st.Page("finlens/pages/interval.py", title=t("interval.title", lang), icon=":material/timer:"),
            st.Page("finlens/pages/ltv.py", title=t("ltv.title", lang), icon=":material/savings:"),
            st.Page("finlens/pages/stickiness.py", title=t("stickiness.title", lang), icon=":material/calendar_month:"),
            st.Page("finlens/pages/paths.py", title=t("paths.title", lang), icon=":material/route:"),
            st.Page("finlens/pages/attribution.py", title=t("attribution.title", lang), icon=":material/ads_click:"),
            st.Page("finlens/pages/channels.py", title=t("channels", lang), icon=":material/campaign:"),
            st.Page("finlens/pages/breakdown.py", title=t("breakdown", lang), icon=":material/account_tree:"),
            st.Page("finlens/pages/distributions.py", title=t("distributions", lang), icon=":material/bar_chart:"),
            st.Page("finlens/pages/data_quality.py", title=t("data_quality", lang), icon=":material/fact_check:"),
            st.Page("finlens/pages/alerts.py", title=t("alerts.title", lang), icon=":material/notifications:"),
        ],
        t("marketing_loop", lang): [
            st.Page("finlens/pages/segments.py", title=t("segments", lang), icon=":material/groups:"),
            st.Page("finlens/pages/intent.py", title=t("intent", lang), icon=":material/target:"),
            st.Page("finlens/pages/lifecycle.py", title=t("lifecycle", lang), icon=":material/donut_small:"),
            st.Page("finlens/pages/experiments.py", title=t("experiments", lang), icon=":material/science:"),
        ],
        t("users", lang): [
            st.Page("finlens/pages/users.py", title=t("users_behind", lang), icon=":material/group:"),
            st.Page("finlens/pages/sequence.py", title=t("sequence", lang), icon=":material/timeline:"),
        ],
    },
    who,
    lang,
)
# the run stops here for someone who must sign in or has no role; without sign-in every page says everyone is an
# administrator
gate.admit(who, app_state.unscoped_catalog(), lang)
catalog_files.show_problems(app_state.catalog_problems(), lang)  # broken definitions are left out, one line each
# every business-line board is pages/board.py under its own URL; the page reads which one from here
st.session_state["finlens_board"] = navigation.url_path.removeprefix("board_")
audit_trail.page(gate.name_of(navigation))

# First start on the embedded default: generate the demo warehouse under the page list, with a progress bar.
# Checked once per browser session, not on every interaction.
if not st.session_state.get("finlens_data_checked"):
    url = resolve_warehouse_url()
    if needs_demo(url):
        with st.empty().container():
            bar = st.progress(0.0, text="First start: generating the demo warehouse…")
            ensure_demo(
                url,
                progress=lambda done, total: bar.progress(
                    done / total, text=f"Generating demo data: {done:,} / {total:,} users"
                ),
            )
        st.session_state["finlens_data_checked"] = True
        st.rerun()
    st.session_state["finlens_data_checked"] = True

try:
    app_state.pin_watermark()  # every result of this run is keyed by the data version read here
except FinlensError as err:
    if not health.unavailable(err):
        st.error(str(err))
        st.stop()
    # an outage: this session keeps the data version it last saw, so what was loaded before still shows
try:
    span = app_state.span()
except FinlensError as err:
    st.error(str(err))
    health.show(st.empty(), lang)
    st.stop()
if span is None:
    st.info(t("no_data", lang))
    st.stop()
app_params.refuse_unknown()
app_filters.sidebar(span)
freshness.show(lang)
status = st.empty()  # the warehouse's outage or recovery, one line, filled once the page has run
try:
    navigation.run()
except FinlensError as err:
    if not health.unavailable(err):
        st.error(str(err))
except Exception as err:  # noqa: BLE001 - a page's bug is one line on screen, the traceback goes to the log
    logging.getLogger("finlens.app").exception("page %s failed", navigation.url_path)
    st.error(f"This page failed: {type(err).__name__}: {(str(err).splitlines() or [''])[0][:300]}")
health.show(status, lang)
