"""A post-office agent signs in to a portal for a citizen under a mandate (docs/architecture.md
§14): the real /authorize -> consent -> /token -> /userinfo, with the ID token validated by an
independent relying-party library (joserfc against the JWKS, Authlib's CodeIDToken rules)."""

from __future__ import annotations

import time

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import (
    Account,
    AuditEvent,
    Consent,
    Mandate,
    MandateUse,
    OAuthToken,
    OutboxMessage,
    StaffMember,
    UserSession,
)
from idp.services.portals.subjects import subject_for
from tests.oidc.delegation import STAFF_AMR, client_row, mandate_setting, open_mandate_session
from tests.oidc.flow import (
    ISSUER,
    auth_request,
    authorize,
    consent_action,
    exchange,
    redirect_params,
)


def validated_id_token(client, portal, token: dict, nonce: str) -> CodeIDToken:  # type: ignore[no-untyped-def]
    keys = KeySet.import_key_set(client.get("/jwks.json").json)
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256", "ES256"])
    claims = CodeIDToken(
        decoded.claims, decoded.header,
        {"iss": {"essential": True, "value": ISSUER},
         "aud": {"essential": True, "value": portal.client_id}},
        {"nonce": nonce, "client_id": portal.client_id, "access_token": token["access_token"]},
    )
    claims.validate()  # iss, aud, exp, iat, nonce, azp, at_hash
    return claims


def test_an_agent_signs_in_for_the_citizen_and_the_portal_sees_who_acted(app, client):
    setting = mandate_setting(app)
    portal = setting.portal
    open_mandate_session(app, client, setting)
    request = auth_request(portal, scope="openid profile offline_access")
    page = client.get(request.url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Bưu điện Bờ Hồ" in text and "Nguyễn Văn An" in text and 'id="delegated-sign-in"' in text
    from tests.conftest import csrf_token
    response = client.post(consent_action(text), data={"csrf_token": csrf_token(client, request.url),
                                                       "decision": "allow"})
    params = redirect_params(response)
    assert params["state"] == request.params["state"] and "code" in params

    answer = exchange(client, portal, params["code"], request.verifier)
    assert answer.status_code == 200, answer.json
    token = answer.json
    assert "refresh_token" not in token  # offline_access asked for, never granted under delegation
    assert token["scope"] == "openid profile"
    claims = validated_id_token(client, portal, token, request.params["nonce"])
    with app.app_context():
        account = db.session.get(Account, setting.citizen_id)
        mandate = db.session.get(Mandate, setting.mandate_id)
        staff = db.session.get(StaffMember, setting.staff_id)
        assert claims["sub"] == subject_for(account, client_row(portal)) == account.sub
        assert claims["act"] == {"sub": staff.actor_id, "role": "post_office_agent",
                                 "office": "HN-BOHO", "office_name": "Bưu điện Bờ Hồ",
                                 "mandate": mandate.public_id}
    assert claims["acr"] == "urn:vn:postid:loa:2"  # the mandate's level, not LoA3 (mfa)
    assert claims["amr"] == STAFF_AMR.split()
    assert abs(claims["auth_time"] - time.time()) < 60

    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert userinfo.status_code == 200
    assert userinfo.json["sub"] == claims["sub"] and userinfo.json["act"] == claims["act"]
    assert userinfo.json["name"] == "Nguyễn Văn An"
    with app.app_context():
        stored = db.session.scalar(select(OAuthToken))
        assert stored.refresh_token_hash is None and "offline_access" not in stored.scope


def test_a_code_under_a_mandate_records_the_use_audits_it_and_tells_the_citizen(app, client):
    setting = mandate_setting(app)
    open_mandate_session(app, client, setting)
    params = redirect_params(authorize(client, auth_request(setting.portal)))
    assert "code" in params
    with app.app_context():
        use = db.session.scalar(select(MandateUse))
        session = db.session.scalar(select(UserSession))
        assert (use.mandate_id, use.client_pk, use.staff_id, use.session_id) == (
            setting.mandate_id, client_row(setting.portal).id, setting.staff_id, session.id)
        mandate = db.session.get(Mandate, setting.mandate_id)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "mandate.use"))
        assert event is not None, [e.tag for e in db.session.scalars(select(AuditEvent))]
        assert (event.account_id, event.staff_id, event.office_id) == (
            setting.citizen_id, setting.staff_id, setting.office_id)
        assert event.data["client"] == setting.portal.client_id
        assert event.data["mandate"] == mandate.public_id
        notices = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "mandate.use").order_by(OutboxMessage.id)).all()
        assert [m.channel.value for m in notices] == ["sms", "email"]
        sms = notices[0]
        assert sms.recipient == "+84912345678" and sms.locale == "vi"
        assert "Bưu điện Bờ Hồ" in sms.body and "Cổng dịch vụ công thử" in sms.body
        assert "/account/mandates" in sms.body
        # Never the citizen's standing consent.
        assert db.session.scalar(select(func.count()).select_from(Consent)) == 0


def test_consent_is_asked_on_every_delegated_sign_in_even_with_a_standing_consent(app, client):
    setting = mandate_setting(app)
    open_mandate_session(app, client, setting)
    with app.app_context():
        from idp.models import Consent as ConsentRow
        db.session.add(ConsentRow(account_id=setting.citizen_id,
                                  client_pk=client_row(setting.portal).id, scope="openid profile",
                                  text_version=app.config["IDP_SETTINGS"].consent_text_version,
                                  locale="vi"))
        db.session.commit()
    first = client.get(auth_request(setting.portal).url)
    assert first.status_code == 200 and 'name="decision"' in first.get_data(as_text=True)
    none = client.get(auth_request(setting.portal, prompt="none").url)
    assert redirect_params(none)["error"] == "consent_required"


def test_the_delegated_level_is_the_mandates_even_when_the_session_would_reach_more(app, client):
    """A verified citizen (LoA2) signed in with `pwd otp mfa` would be LoA3; the mandate was
    made at LoA2: LoA2 is the most, and an essential LoA3 cannot be met."""
    setting = mandate_setting(app, loa=2)
    open_mandate_session(app, client, setting)
    essential = '{"id_token": {"acr": {"essential": true, "values": ["urn:vn:postid:loa:3"]}}}'
    refused = client.get(auth_request(setting.portal, claims=essential).url)
    assert redirect_params(refused)["error"] == "unmet_authentication_requirements"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MandateUse)) == 0


def test_a_delegated_session_is_used_up_by_its_code(app, client):
    """Left in the counter's browser, the citizen's session must not let whoever sits there
    next sign in again in the agent's name: the code uses it up; its tokens live on until the
    mandate ends, which then revokes them too."""
    from idp.models import MandateEnder
    from idp.services.identity import acting
    from tests.oidc.flow import obtain_code

    setting = mandate_setting(app)
    open_mandate_session(app, client, setting)
    code, request = obtain_code(client, setting.portal)
    again = client.get(auth_request(setting.portal).url)
    assert again.status_code == 302 and again.headers["Location"].startswith("/login")
    token = exchange(client, setting.portal, code, request.verifier).json
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 200
    with app.app_context():
        session = db.session.scalar(select(UserSession))
        assert (session.revoked_at is not None, session.revoke_reason) == (True, "delegated_used")
        assert db.session.scalar(select(func.count()).select_from(MandateUse)) == 1
        mandate = db.session.get(Mandate, setting.mandate_id)
        assert acting.end_mandate_in_transaction(mandate, by=MandateEnder.CITIZEN) is not None
        db.session.commit()
        assert db.session.scalar(select(OAuthToken.revoked_at)) is not None
    assert client.get("/userinfo", headers=bearer).status_code == 401
