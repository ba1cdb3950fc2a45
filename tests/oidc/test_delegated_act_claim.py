"""`act` (RFC 8693 §4.1): who signed in for the person, pseudonymous and stable per portal;
a guardian named by their own subject; nothing for a person's own sign-in; a delegated
token is checked again at userinfo."""

from __future__ import annotations

from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, AuditEvent, Mandate, StaffMember, SubjectType
from idp.services.portals.subjects import subject_for
from tests.oidc.delegation import (
    client_row,
    delegating_portal,
    mandate_setting,
    open_guardian_session,
    open_mandate_session,
)
from tests.oidc.flow import (
    citizen,
    exchange,
    obtain_code,
    registered_portal,
    sign_in,
    verify_id_token,
)


def signed_in_claims(app, client, portal, **request):  # type: ignore[no-untyped-def]
    code, auth = obtain_code(client, portal, **request)
    token = exchange(client, portal, code, auth.verifier).json
    _, claims = verify_id_token(client, token["id_token"])
    return claims, token


def test_a_pairwise_portal_gets_its_own_act_sub_for_the_same_agent(app, client):
    public = delegating_portal(app)
    setting = mandate_setting(app, portal=public)
    open_mandate_session(app, client, setting)
    public_claims, _ = signed_in_claims(app, client, public)

    pairwise = delegating_portal(app, subject_type=SubjectType.PAIRWISE)
    open_mandate_session(app, client, setting, portal=pairwise)
    pairwise_claims, _ = signed_in_claims(app, client, pairwise)
    open_mandate_session(app, client, setting, portal=pairwise)
    again, _ = signed_in_claims(app, client, pairwise)

    with app.app_context():
        staff = db.session.get(StaffMember, setting.staff_id)
        account = db.session.get(Account, setting.citizen_id)
        assert public_claims["act"]["sub"] == staff.actor_id
        assert pairwise_claims["act"]["sub"] not in (staff.actor_id, public_claims["act"]["sub"])
        assert pairwise_claims["sub"] == subject_for(account, client_row(pairwise)) != account.sub
    assert again["act"]["sub"] == pairwise_claims["act"]["sub"]  # stable for that portal
    assert len(pairwise_claims["act"]["sub"]) == 43


def test_a_guardian_is_named_by_their_own_subject_for_the_portal(app, client):
    portal = delegating_portal(app)
    child_id, guardian_id = open_guardian_session(app, client, portal)
    claims, token = signed_in_claims(app, client, portal)
    with app.app_context():
        child = db.session.get(Account, child_id)
        guardian = db.session.get(Account, guardian_id)
        assert claims["sub"] == child.sub
        assert claims["act"] == {"sub": subject_for(guardian, client_row(portal)), "role": "guardian"}
        events = db.session.scalars(select(AuditEvent.tag)).all()
        assert "guardian.use" in events and "mandate.use" not in events
    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert userinfo.json["act"] == claims["act"]


def test_a_childs_userinfo_has_no_phone_claims(app, client):
    """A minor's account has no phone: the scope `phone` releases nothing rather than a null
    number marked unverified."""
    portal = delegating_portal(app)
    open_guardian_session(app, client, portal)
    _claims, token = signed_in_claims(app, client, portal, scope="openid phone")
    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert userinfo.status_code == 200 and userinfo.json["act"]["role"] == "guardian"
    assert "phone_number" not in userinfo.json and "phone_number_verified" not in userinfo.json


def test_a_delegated_token_stops_at_userinfo_once_its_mandate_no_longer_allows(app, client):
    setting = mandate_setting(app)
    open_mandate_session(app, client, setting)
    _, token = signed_in_claims(app, client, setting.portal)
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 200
    introspected = introspect(client, setting.portal, token["access_token"])
    assert introspected["active"] is True and introspected["act"]["role"] == "post_office_agent"
    assert introspected["act"] == client.get("/userinfo", headers=bearer).json["act"]
    with app.app_context():
        mandate = db.session.get(Mandate, setting.mandate_id)
        mandate.kinds = ["land_housing"]  # narrowed: the portal is no longer covered
        db.session.commit()
    answer = client.get("/userinfo", headers=bearer)
    assert answer.status_code == 401 and answer.json["error"] == "invalid_token"
    assert introspect(client, setting.portal, token["access_token"]) == {"active": False}


def introspect(client, portal, value: str) -> dict:  # type: ignore[no-untyped-def]
    auth = portal.auth()
    return client.post("/token/introspect", data={**auth["data"], "token": value},
                       headers=auth["headers"]).json


def test_a_persons_own_sign_in_carries_no_act(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    claims, token = signed_in_claims(app, client, portal)
    assert "act" not in claims
    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert "act" not in userinfo.json


def test_discovery_lists_act(client):
    assert "act" in client.get("/.well-known/openid-configuration").json["claims_supported"]
