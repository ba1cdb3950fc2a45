"""A client's claims profile (standard or dvcqg): registered, validated, changed, audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from idp.errors import InvalidInput
from idp.extensions import db
from idp.models import AuditEvent, ClaimsProfile, OAuthClient
from idp.services.portals import clients
from idp.services.portals.clients import ClientRegistration, add_client, register_client

CB = "https://portal.example.vn/callback"


def register(**overrides: Any) -> OAuthClient:
    values: dict[str, Any] = {"name": "Cổng dịch vụ công Hà Nội", "redirect_uris": [CB]}
    values.update(overrides)
    return register_client(**values).client


def stored_profile(client_id: str) -> ClaimsProfile:
    db.session.expire_all()
    return clients.get_client(client_id).claims_profile


def updates() -> list[dict[str, Any]]:
    return [event.data for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.tag == "client.update").order_by(AuditEvent.id))]


def test_standard_by_default(app):
    with app.app_context():
        assert stored_profile(register().client_id) is ClaimsProfile.STANDARD


@pytest.mark.parametrize("given", [ClaimsProfile.DVCQG, "dvcqg", "DVCQG", " dvcqg "])
def test_registered_with_the_dvcqg_profile(app, given):
    with app.app_context():
        assert stored_profile(register(claims_profile=given).client_id) is ClaimsProfile.DVCQG


def test_add_client_stores_the_profile_of_the_registration(app):
    with app.app_context():
        add_client(ClientRegistration(name="Cổng mẫu", redirect_uris=(CB,),
                                      claims_profile=ClaimsProfile.DVCQG), client_id="demo")
        db.session.commit()
        assert stored_profile("demo") is ClaimsProfile.DVCQG


@pytest.mark.parametrize("bad", ["dvcqg2", "", "vneid", "đvcqg", "x" * 10_000, None, 1,
                                 ["dvcqg"], "dvcqg\x00"])
def test_an_unknown_profile_is_refused_and_nothing_is_stored(app, bad):
    with app.app_context():
        with pytest.raises(InvalidInput) as caught:
            register(claims_profile=bad)
        assert (caught.value.code, caught.value.field) == ("client.claims_profile", "claims_profile")
        assert caught.value.message == "The claims profile must be standard or dvcqg."
        assert db.session.scalar(select(func.count()).select_from(OAuthClient)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_set_claims_profile_is_audited_once_per_change(app):
    with app.app_context():
        client_id = register().client_id
        assert clients.set_claims_profile(client_id, "dvcqg").claims_profile is ClaimsProfile.DVCQG
        clients.set_claims_profile(client_id, ClaimsProfile.DVCQG)  # no change: no event
        assert stored_profile(client_id) is ClaimsProfile.DVCQG
        clients.set_claims_profile(client_id, "standard")
        assert stored_profile(client_id) is ClaimsProfile.STANDARD
        assert updates() == [
            {"client": client_id, "claims_profile": "dvcqg", "previous_claims_profile": "standard"},
            {"client": client_id, "claims_profile": "standard", "previous_claims_profile": "dvcqg"},
        ]


def test_set_claims_profile_refusals_change_nothing(app):
    with app.app_context():
        client_id = register(claims_profile="dvcqg").client_id
        for bad in ("oidc", None, "x" * 100):
            with pytest.raises(InvalidInput) as caught:
                clients.set_claims_profile(client_id, bad)  # type: ignore[arg-type]
            assert caught.value.code == "client.claims_profile"
        with pytest.raises(InvalidInput) as caught:
            clients.set_claims_profile("no-such-client", "dvcqg")
        assert caught.value.code == "client.not_found"
        assert stored_profile(client_id) is ClaimsProfile.DVCQG
        assert updates() == []
