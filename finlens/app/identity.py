"""Who is looking: the signed-in person, their role from ``metrics/access.yml``, and the sign-in mode.

Three modes, chosen by the deployment (README, Who sees what):

- **OIDC** through Streamlit's ``st.login`` when ``.streamlit/secrets.toml`` has an ``[auth]`` section: the
  identity is the token's ``email`` (else ``sub``), groups come from the claim ``FINLENS_GROUPS_CLAIM``
  (default ``groups``).
- **A trusted header** (``FINLENS_TRUSTED_HEADER``, e.g. ``X-Forwarded-Email``) set by an authenticating
  proxy, believed only when the request comes from one of ``FINLENS_TRUSTED_PROXIES`` (addresses or
  networks); groups from ``FINLENS_TRUSTED_GROUPS_HEADER``, comma-separated. From any other address the
  header is ignored and the person is not signed in.
- **None** (the embedded demo): everyone is an administrator, every page says so, and the app refuses to
  serve on anything but a loopback address.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from semantic.catalog.access_specs import ADMIN, AccessSpec, Role

GROUPS_CLAIM_ENV = "FINLENS_GROUPS_CLAIM"
HEADER_ENV = "FINLENS_TRUSTED_HEADER"
GROUPS_HEADER_ENV = "FINLENS_TRUSTED_GROUPS_HEADER"
PROXIES_ENV = "FINLENS_TRUSTED_PROXIES"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Viewer:
    """The person in this browser session: who (None when not signed in), how, and with which role."""

    mode: str  # "oidc", "header" or "none"
    identity: str | None
    groups: tuple[str, ...]
    role: Role | None

    @property
    def signed_in(self) -> bool:
        return self.identity is not None or self.mode == "none"


def mode(secrets: Mapping[str, object]) -> str:
    """The sign-in mode this deployment configured."""
    if "auth" in secrets:
        return "oidc"
    if os.environ.get(HEADER_ENV):
        return "header"
    return "none"


def from_claims(claims: Mapping[str, object]) -> tuple[str | None, tuple[str, ...]]:
    """Identity and groups from an OIDC token's claims (``st.user``)."""
    identity = claims.get("email") or claims.get("sub")
    raw = claims.get(os.environ.get(GROUPS_CLAIM_ENV) or "groups") or ()
    groups = tuple(str(g) for g in raw) if isinstance(raw, (list, tuple)) else tuple(str(raw).split(","))
    return (str(identity) if identity else None), tuple(g.strip() for g in groups if str(g).strip())


def trusted(address: str | None, proxies: Sequence[str]) -> bool:
    """Whether a request from ``address`` comes from a proxy whose identity header may be believed."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for proxy in proxies:
        try:
            if ip in ipaddress.ip_network(proxy.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def from_headers(headers: Mapping[str, str], address: str | None) -> tuple[str | None, tuple[str, ...]]:
    """Identity and groups from the trusted proxy's headers; nothing when the request did not come through it."""
    proxies = [p for p in (os.environ.get(PROXIES_ENV) or "").split(",") if p.strip()]
    if not trusted(address, proxies):
        return None, ()
    lowered = {k.lower(): v for k, v in headers.items()}
    identity = (lowered.get((os.environ.get(HEADER_ENV) or "").lower()) or "").strip() or None
    groups_header = (os.environ.get(GROUPS_HEADER_ENV) or "").lower()
    groups = tuple(g.strip() for g in (lowered.get(groups_header, "") if groups_header else "").split(",") if g.strip())
    return identity, groups


def viewer(sign_in: str, identity: str | None, groups: tuple[str, ...], access: AccessSpec | None) -> Viewer:
    """The viewer's role: an administrator without sign-in or without ``access.yml``, else the file's answer."""
    if sign_in == "none":
        return Viewer(mode=sign_in, identity=None, groups=(), role=ADMIN)
    if identity is None:
        return Viewer(mode=sign_in, identity=None, groups=groups, role=None)
    role = ADMIN if access is None else access.role_for(identity, groups)
    return Viewer(mode=sign_in, identity=identity, groups=groups, role=role)


def may_open(role: Role | None, page: str) -> bool:
    """Whether ``role`` may open the page at URL path ``page`` (``overview``, ``board_p2p``, ``sequence`` ...)."""
    return role is not None and (role.pages is None or page in role.pages)
