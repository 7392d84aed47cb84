"""Sign-in modes and roles: claims, the trusted header only from trusted proxies, no sign-in means administrator."""

from __future__ import annotations

import pytest

from finlens.app import identity
from semantic.catalog.access import load_access


@pytest.fixture()
def access(catalog):
    return load_access(catalog)


def test_the_mode_follows_the_configuration(monkeypatch):
    monkeypatch.delenv(identity.HEADER_ENV, raising=False)
    assert identity.mode({}) == "none"
    assert identity.mode({"auth": {"client_id": "x"}}) == "oidc"
    monkeypatch.setenv(identity.HEADER_ENV, "X-Forwarded-Email")
    assert identity.mode({}) == "header"


def test_claims_give_identity_and_groups(monkeypatch):
    assert identity.from_claims({"email": "a@bank.example", "sub": "1", "groups": ["p2p", "x"]}) == (
        "a@bank.example",
        ("p2p", "x"),
    )
    assert identity.from_claims({"sub": "42"}) == ("42", ())
    monkeypatch.setenv(identity.GROUPS_CLAIM_ENV, "roles")
    assert identity.from_claims({"email": "a@b", "roles": "forex, life"}) == ("a@b", ("forex", "life"))


def test_the_header_counts_only_from_a_trusted_proxy(monkeypatch):
    monkeypatch.setenv(identity.HEADER_ENV, "X-Forwarded-Email")
    monkeypatch.setenv(identity.GROUPS_HEADER_ENV, "X-Forwarded-Groups")
    monkeypatch.setenv(identity.PROXIES_ENV, "10.0.0.5, 192.168.1.0/24")
    headers = {"x-forwarded-email": "bob@bank.example", "X-Forwarded-Groups": "p2p,marketing"}
    assert identity.from_headers(headers, "10.0.0.5") == ("bob@bank.example", ("p2p", "marketing"))
    assert identity.from_headers(headers, "192.168.1.77") == ("bob@bank.example", ("p2p", "marketing"))
    for untrusted in ("10.0.0.6", "127.0.0.1", None, "not an address"):
        assert identity.from_headers(headers, untrusted) == (None, ())


def test_roles_from_access(access):
    none = identity.viewer("none", None, (), access)
    assert none.role is not None and none.role.name == "admin" and none.role.pii and none.signed_in
    p2p = identity.viewer("oidc", "bob@bank.example", ("p2p",), access)
    assert p2p.role is not None and p2p.role.name == "p2p_team"
    assert identity.may_open(p2p.role, "board_p2p") and not identity.may_open(p2p.role, "board_forex")
    nobody = identity.viewer("oidc", "eve@bank.example", (), access)
    assert nobody.role is None and not identity.may_open(nobody.role, "overview")
    anonymous = identity.viewer("header", None, (), access)
    assert not anonymous.signed_in and anonymous.role is None
    assert identity.viewer("oidc", "x@bank.example", (), None).role.name == "admin"  # no access.yml: administrators
