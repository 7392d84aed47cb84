"""Who is looking, worked out again on every run of the app: sign-in, role, the pages the role may open.

The three sign-in modes (README, Who sees what) are told apart by :func:`finlens.app.identity.mode`: OIDC through
Streamlit's ``st.login`` when ``.streamlit/secrets.toml`` has ``[auth]``, a header set by a trusted proxy when
``FINLENS_TRUSTED_HEADER`` is set, else none. The :class:`~finlens.app.identity.Viewer` is computed from the token's
claims or the request's headers at the start of every run and kept only in the server-side session state under a
key no widget has: nothing a person can type or put in the URL changes it, and an edited ``access.yml`` or changed
SSO groups take effect on the next run. ``state.catalog()`` is restricted to the viewer's role through
:func:`scoped`, so every question any page asks is compiled under the role's row policy.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import Any

import streamlit as st

from finlens.app import catalog_files
from finlens.app.identity import LOOPBACK, Viewer, from_claims, from_headers, may_open, mode, viewer
from finlens_common.errors import CatalogProblem, FinlensError
from semantic.catalog.access import access_problems
from semantic.catalog.access_specs import ADMIN, AccessSpec, Role
from semantic.catalog.catalog import Catalog

VIEWER_KEY = "finlens_viewer"  # server-side session state, set by the server; no widget has this key
SCOPED_MAX = 64  # distinct (catalog version, role) pairs kept; more means the YAML changed many times
_SCOPED: dict[tuple[int, str], tuple[Catalog, Role, Catalog]] = {}
_SCOPED_LOCK = threading.Lock()
ADMIN_ONLY = ("audit",)  # pages only the administrator role opens, whatever a role's `pages` list says


class AccessDenied(FinlensError):
    """The person in this session has no role: nothing may be shown."""

    exit_code = 3


def is_admin(role: Role | None) -> bool:
    """The administrator role: the one named ``admin`` (also everyone's role when no sign-in is configured)."""
    return role is not None and role.name == ADMIN.name


def secrets() -> Mapping[str, Any]:
    """``.streamlit/secrets.toml`` (empty when the deployment has none)."""
    try:
        return {"auth": st.secrets["auth"]} if "auth" in st.secrets else {}
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return {}


def client_address() -> str | None:
    """The connection's address; Streamlit reports a loopback client (a proxy on the same host) as None."""
    address = st.context.ip_address
    return address if isinstance(address, str) else "127.0.0.1"


@st.cache_resource(max_entries=2, show_spinner=False)
def _access(version: str, _raw: Catalog) -> tuple[AccessSpec | None, list[CatalogProblem]]:
    return access_problems(_raw)


def access_issues(raw: Catalog) -> list[CatalogProblem]:
    """Every problem of ``metrics/access.yml`` (with sign-in configured, a broken file gives nobody a role)."""
    return _access(catalog_files.version(), raw)[1]


def resolve(raw: Catalog) -> Viewer:
    """The viewer of this run, read afresh from the token or the proxy's headers and ``metrics/access.yml``."""
    how = mode(secrets())
    identity: str | None = None
    groups: tuple[str, ...] = ()
    if how == "oidc" and st.user.get("is_logged_in"):
        identity, groups = from_claims(st.user.to_dict())
    elif how == "header":
        identity, groups = from_headers(dict(st.context.headers), client_address())
    spec, problems = _access(catalog_files.version(), raw)
    found = viewer(how, identity, groups, spec)
    if problems and how != "none":
        found = Viewer(mode=how, identity=identity, groups=groups, role=None)  # a broken policy: fail closed
    st.session_state[VIEWER_KEY] = found
    return found


def current(raw: Catalog) -> Viewer:
    """The viewer the app resolved at the start of this run (resolved now when a page runs on its own)."""
    found = st.session_state.get(VIEWER_KEY)
    return found if isinstance(found, Viewer) else resolve(raw)


def scoped(raw: Catalog) -> Catalog:
    """``raw`` as this session's role sees it; AccessDenied when the person has no role."""
    role = current(raw).role
    if role is None:
        raise AccessDenied("no access: your sign-in has no role in metrics/access.yml")
    return _scoped_once(raw, role)


def _scoped_once(raw: Catalog, role: Role) -> Catalog:
    """One scoped catalog per catalog object and role for the whole process, not one per session.

    Everything compiled is kept per catalog object (:mod:`finlens.app.compiled`), so a catalog made per
    session would make each new session compile every question of every page again on its first visit.
    Two sessions share one only when their roles are equal, field by field (row policies included).
    """
    key = (id(raw), role.name)
    with _SCOPED_LOCK:
        kept = _SCOPED.get(key)
        if kept is not None and kept[0] is raw and (kept[1] is role or kept[1] == role):
            return kept[2]
        if len(_SCOPED) >= SCOPED_MAX:
            _SCOPED.clear()
        catalog = raw.for_role(role)
        _SCOPED[key] = (raw, role, catalog)
        return catalog


def cache_tag(role: Role | None) -> str:
    """Part of every cache key: two roles (or one role before and after its policy changed) never share a result."""
    if role is None:
        return "#role=-"
    policy = repr(sorted((model, condition.sql()) for model, condition in role.rows.items())) + repr(role.pii)
    return f"#role={role.name}.{hashlib.sha256(policy.encode()).hexdigest()[:12]}"


def role_now() -> Role | None:
    """The role of this run's viewer, None before it is known or when there is none."""
    found = st.session_state.get(VIEWER_KEY)
    return found.role if isinstance(found, Viewer) else None


def opens(role: Role | None, page: str) -> bool:
    """Whether ``role`` may open ``page`` (administrator-only pages for the administrator only)."""
    if page in ADMIN_ONLY:
        return is_admin(role)
    return may_open(role, page)


def loopback_only() -> bool:
    """Whether the server listens on a loopback address only (``server.address``)."""
    return str(st.get_option("server.address") or "") in LOOPBACK
