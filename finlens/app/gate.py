"""The door of every run: who may come in, what they are told, which pages their navigation holds.

:func:`admit` runs before any page: without sign-in configured it shows the banner on every page and refuses to
serve on a non-loopback address; with sign-in it asks for it, and a signed-in person without a role sees one "no
access" line and nothing else. :func:`navigation` hands ``st.navigation`` only the pages the role may open; the
others stay routed to a one-line refusal (hidden from the menu), so a link to them shows no data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from finlens.app import audit_trail, signin
from finlens.app.i18n import plain, t
from finlens.app.identity import Viewer
from semantic.catalog.catalog import Catalog

SIGNED_IN_KEY = "finlens_signed_in_recorded"
AUDIT_PAGE = "finlens/pages/audit.py"


def _login() -> None:
    auth = signin.secrets().get("auth") or {}
    named = [k for k, v in auth.items() if isinstance(v, Mapping)] if "client_id" not in auth else []
    st.login(named[0] if named else None)


def admit(who: Viewer, raw: Catalog, lang: str) -> Viewer:
    """``who`` (from :func:`signin.resolve`) may go on, or the run stops here with the one thing that person may see.

    Called after :func:`navigate`: nothing may be drawn before ``st.navigation`` on a first visit, or the browser
    shows Streamlit's "Page not found" over a shared link.
    """
    if who.mode == "none":
        if not signin.loopback_only():
            st.error(t("access.not_loopback", lang, address=str(st.get_option("server.address") or "0.0.0.0")))
            st.stop()
        st.warning(t("access.no_sign_in", lang), icon="🔓")
        return who
    if who.identity is None:
        st.title("finlens")
        if who.mode == "oidc":
            st.info(t("access.sign_in_needed", lang))
            st.button(t("access.sign_in", lang), on_click=_login, type="primary", key="finlens_sign_in")
        else:
            st.error(t("access.no_identity", lang))
        st.stop()
    sign_out(who, lang)
    if who.role is None:
        for issue in signin.access_issues(raw):  # for the operator's log and `finlens validate`, not for this person
            logging.getLogger("finlens.app").error("access policy refused: %s", issue)
        audit_trail.once(SIGNED_IN_KEY, "denied", detail="no role")
        st.error(t("access.no_access", lang, identity=plain(who.identity)))
        st.stop()
    audit_trail.once(SIGNED_IN_KEY, "sign-in", detail=f"{who.mode}; groups: {','.join(who.groups)}")
    return who


def sign_out(who: Viewer, lang: str) -> None:
    """Who is signed in with which role, and the sign-out button (OIDC; a proxy signs out at the proxy)."""
    with st.sidebar:
        role = who.role.label.get(lang) if who.role is not None else t("access.no_role", lang)
        st.caption(t("access.signed_in_as", lang, identity=plain(who.identity or ""), role=plain(role)))
        if who.mode == "oidc":
            st.button(t("access.sign_out", lang), on_click=st.logout, key="finlens_sign_out")


def _refused() -> None:
    lang = st.session_state.get("lang") or st.query_params.get("lang") or "en"
    audit_trail.note("denied", detail="page not in the role's pages")
    st.error(t("access.page_refused", lang if lang in ("zh", "en") else "en"))


def name_of(page: StreamlitPage) -> str:
    """A page's name as ``access.yml`` lists it: its URL path (``overview``, ``board_p2p``, ``sequence``)."""
    return page._url_path  # noqa: SLF001 - the inferred path, also for the default page whose public url_path is ""


def navigate(sections: Mapping[str, Sequence[StreamlitPage]], who: Viewer, lang: str) -> StreamlitPage:
    """``st.navigation`` over :func:`allowed_sections`; returns the page this run shows."""
    return st.navigation(allowed_sections(sections, who, lang), expanded=True)


def allowed_sections(sections: Mapping[str, Sequence[StreamlitPage]], who: Viewer, lang: str) -> dict[str, list]:
    """``sections`` with only the pages ``who``'s role may open, plus the Audit page for administrators.

    Every other page keeps its URL, hidden from the menu, and shows a one-line refusal instead of running.
    """
    allowed: dict[str, list] = {}
    refused: list[StreamlitPage] = []
    for title, pages in sections.items():
        for page in pages:
            if signin.opens(who.role, name_of(page)):
                allowed.setdefault(title, []).append(page)
            else:
                refused.append(st.Page(_refused, title=page.title, url_path=name_of(page), visibility="hidden"))
    audit = st.Page(AUDIT_PAGE, title=t("audit.title", lang), icon=":material/policy:")
    if signin.is_admin(who.role):
        allowed.setdefault(t("audit.section", lang), []).append(audit)
    else:
        refused.append(st.Page(_refused, title=t("audit.title", lang), url_path="audit", visibility="hidden"))
    if not allowed:
        allowed[""] = [st.Page(_refused, title="finlens", url_path="nothing", default=True)]
    last = list(allowed)[-1]
    allowed[last] = [*allowed[last], *refused]
    return allowed
