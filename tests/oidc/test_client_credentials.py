"""The client_credentials grant (RFC 6749 §4.4): a portal's back end gets a token for itself,
within its service scope, naming no person; every refusal stores nothing and audits nothing."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select, update

from idp.extensions import db
from idp.models import AuditEvent, ClientAuthMethod, OAuthClient, OAuthToken
from idp.services.portals import tokens as token_service
from idp.services.portals.clients import disable_client, set_service_scope
from tests.oidc.flow import Portal, registered_portal

SERVICE_SCOPE = "tax.read tax.write"
KEY_ID = "backend-key-1"


def service_portal(app: Flask, *, service_scope: str = SERVICE_SCOPE,
                   auth_method: ClientAuthMethod = ClientAuthMethod.CLIENT_SECRET_BASIC,
                   **kwargs: Any) -> Portal:
    """A portal registered for the grant, as `idp clients create --service-scope` does."""
    return registered_portal(app, scope="openid profile", auth_method=auth_method,
                             service_scope=service_scope, **kwargs)


@pytest.fixture
def backend(app: Flask) -> Portal:
    return service_portal(app)


def ask(client: FlaskClient, portal: Portal, **data: str):  # type: ignore[no-untyped-def]
    auth = portal.auth()
    return client.post("/token", data={"grant_type": "client_credentials", **auth["data"], **data},
                       headers=auth["headers"])


def stored_tokens(app: Flask) -> list[OAuthToken]:
    with app.app_context():
        return list(db.session.scalars(select(OAuthToken).order_by(OAuthToken.id)))


def issued_events(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.tag == "client.token.issued").order_by(AuditEvent.id)))


def assert_refused(app: Flask, response, status: int, error: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.json["error"] == error
    assert stored_tokens(app) == [] and issued_events(app) == []


def test_a_registered_backend_gets_a_bearer_token_for_its_whole_service_scope(app, client, backend,
                                                                             settings):
    response = ask(client, backend)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}  # §4.4.3
    assert body["token_type"] == "Bearer" and body["scope"] == SERVICE_SCOPE
    assert body["expires_in"] == settings.access_token_seconds
    [row] = stored_tokens(app)
    assert row.account_id is None and row.refresh_token_hash is None
    assert row.auth_time is None and row.acr is None and row.amr is None
    assert row.session_id is None and row.organisation_member_id is None
    assert row.scope == SERVICE_SCOPE and row.access_token_hash != body["access_token"]


@pytest.mark.parametrize("requested, granted", [
    ("tax.read", "tax.read"),
    ("tax.write tax.read", "tax.write tax.read"),
    ("tax.read tax.read", "tax.read"),
    ("", SERVICE_SCOPE),
    ("  tax.write  ", "tax.write"),
])
def test_the_requested_scope_within_the_service_scope_is_granted(app, client, backend, requested,
                                                                 granted):
    response = ask(client, backend, scope=requested)
    assert response.status_code == 200 and response.json["scope"] == granted
    assert [row.scope for row in stored_tokens(app)] == [granted]


@pytest.mark.parametrize("method", [ClientAuthMethod.CLIENT_SECRET_BASIC,
                                    ClientAuthMethod.CLIENT_SECRET_POST])
def test_each_secret_method_works(app, client, method):
    portal = service_portal(app, auth_method=method)
    assert ask(client, portal).status_code == 200
    # Only the registered method: the secret sent the other way is refused.
    other = "client_secret_post" if method is ClientAuthMethod.CLIENT_SECRET_BASIC else \
        "client_secret_basic"
    swapped = Portal(portal.client_id, portal.client_secret, auth_method=other)
    assert ask(client, swapped).status_code == 401
    assert len(stored_tokens(app)) == 1


def test_private_key_jwt_works_and_a_replayed_assertion_is_refused(app, client):
    key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig"})
    portal = service_portal(app, auth_method=ClientAuthMethod.PRIVATE_KEY_JWT,
                            jwks={"keys": [key.as_dict(private=False)]})
    now = int(time.time())
    assertion = jwt.encode({"alg": "RS256", "kid": KEY_ID},
                           {"iss": portal.client_id, "sub": portal.client_id, "iat": now,
                            "aud": "http://localhost/token", "exp": now + 60,
                            "jti": str(uuid.uuid4())}, key)
    jwt_auth = {"client_id": portal.client_id, "client_assertion": assertion,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    first = client.post("/token", data={"grant_type": "client_credentials", **jwt_auth})
    assert first.status_code == 200 and first.json["scope"] == SERVICE_SCOPE
    replay = client.post("/token", data={"grant_type": "client_credentials", **jwt_auth})
    assert replay.status_code in (400, 401) and replay.json["error"] == "invalid_client"
    assert len(stored_tokens(app)) == 1 and len(issued_events(app)) == 1


def test_each_token_is_audited_once_with_ids_only(app, client, backend):
    for scope in ("tax.read", "tax.write", ""):
        assert ask(client, backend, scope=scope).status_code == 200
    events = issued_events(app)
    assert [event.data for event in events] == [
        {"client": backend.client_id, "scope": "tax.read"},
        {"client": backend.client_id, "scope": "tax.write"},
        {"client": backend.client_id, "scope": SERVICE_SCOPE},
    ]
    assert all(event.account_id is None and event.channel == "api" for event in events)
    assert len(stored_tokens(app)) == 3


@pytest.mark.parametrize("scope", ["openid", "profile", "openid tax.read", "offline_access",
                                   "OpenID", "national_id", "tax.delete", "TAX.READ",
                                   "tax.read tax.delete", "thuế.đọc"])
def test_a_scope_outside_the_service_scope_is_invalid_scope(app, client, backend, scope):
    assert_refused(app, ask(client, backend, scope=scope), 400, "invalid_scope")


def test_a_portal_without_a_service_scope_is_unauthorized_client(app, client):
    portal = registered_portal(app)  # signs people in only
    assert_refused(app, ask(client, portal), 400, "unauthorized_client")


@pytest.mark.parametrize("row_values", [
    {"grant_types": ["authorization_code", "refresh_token"]},  # service scope, not the grant
    {"service_scope": ""},  # the grant, no service scope
])
def test_the_grant_type_and_a_service_scope_are_both_needed(app, client, backend, row_values):
    with app.app_context():
        db.session.execute(update(OAuthClient).where(OAuthClient.client_id == backend.client_id)
                           .values(**row_values))
        db.session.commit()
    assert_refused(app, ask(client, backend), 400, "unauthorized_client")


def test_a_public_client_is_unauthorized_client_even_if_its_row_says_otherwise(app, client):
    portal = registered_portal(app, auth_method=ClientAuthMethod.NONE)
    assert_refused(app, ask(client, portal), 400, "unauthorized_client")
    with app.app_context():  # as if edited in the database: RFC 6749 §4.4 still refuses it
        db.session.execute(update(OAuthClient).where(OAuthClient.client_id == portal.client_id)
                           .values(service_scope="tax.read", grant_types=[
                               "authorization_code", "refresh_token", "client_credentials"]))
        db.session.commit()
    assert_refused(app, ask(client, portal), 400, "unauthorized_client")


def test_a_wrong_secret_is_invalid_client_401(app, client, backend):
    response = ask(client, Portal(backend.client_id, "wrong-secret-" + "x" * 30))
    assert_refused(app, response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    unknown = ask(client, Portal("nobody", "nothing"))
    assert_refused(app, unknown, 401, "invalid_client")


def test_a_disabled_client_is_refused_and_its_tokens_end(app, client, backend):
    access_token = ask(client, backend).json["access_token"]
    with app.app_context():
        disable_client(backend.client_id)
    response = ask(client, backend)
    assert response.status_code == 401 and response.json["error"] == "invalid_client"
    assert len(stored_tokens(app)) == 1 and len(issued_events(app)) == 1
    with app.app_context():
        row = token_service.find_by_access_token(access_token)
        assert row is not None and not token_service.is_access_active(row)


def test_userinfo_refuses_a_token_that_names_no_person(client, backend):
    access_token = ask(client, backend).json["access_token"]
    for response in (client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"}),
                     client.post("/userinfo", data={"access_token": access_token})):
        assert response.status_code == 401
        assert response.json["error"] == "invalid_token"
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def post_as(client: FlaskClient, path: str, portal: Portal, **data: str):  # type: ignore[no-untyped-def]
    auth = portal.auth()
    return client.post(path, data={**auth["data"], **data}, headers=auth["headers"])


def test_introspection_names_the_client_as_the_subject_and_no_person(app, client, backend):
    body = ask(client, backend, scope="tax.read").json
    info = post_as(client, "/token/introspect", backend, token=body["access_token"]).json
    assert set(info) == {"active", "scope", "client_id", "token_type", "exp", "iat", "aud", "iss",
                         "sub"}
    assert info["active"] is True and info["sub"] == info["client_id"] == backend.client_id
    assert info["scope"] == "tax.read" and info["token_type"] == "Bearer"
    assert info["exp"] - info["iat"] == body["expires_in"]
    # As a refresh token it is unknown; another client sees it inactive (RFC 7662 §2.2).
    hinted = post_as(client, "/token/introspect", backend, token=body["access_token"],
                     token_type_hint="refresh_token").json
    assert hinted["active"] is True and hinted["token_type"] == "Bearer"
    other = service_portal(app)
    assert post_as(client, "/token/introspect", other, token=body["access_token"]).json == {
        "active": False}


def test_revocation_ends_the_token(client, backend):
    access_token = ask(client, backend).json["access_token"]
    assert post_as(client, "/token/revoke", backend, token=access_token).status_code == 200
    info = post_as(client, "/token/introspect", backend, token=access_token).json
    assert info == {"active": False}
    assert ask(client, backend).status_code == 200  # the client can ask for a new one


def test_narrowing_the_service_scope_revokes_tokens_outside_it(app, client, backend):
    read = ask(client, backend, scope="tax.read").json["access_token"]
    write = ask(client, backend, scope="tax.write").json["access_token"]
    with app.app_context():
        _, revoked = set_service_scope(backend.client_id, "tax.read")
    assert revoked == 1
    active = {token: post_as(client, "/token/introspect", backend, token=token).json["active"]
              for token in (read, write)}
    assert active == {read: True, write: False}
    assert ask(client, backend, scope="tax.write").json["error"] == "invalid_scope"
    with app.app_context():
        assert set_service_scope(backend.client_id, "")[1] == 1
    assert post_as(client, "/token/introspect", backend, token=read).json == {"active": False}
    assert ask(client, backend).json["error"] == "unauthorized_client"


@pytest.mark.parametrize("body", [
    "scope=tax.read%00",
    "scope=%ED%A0%80",  # a lone surrogate, as UTF-8 would have it
    "scope=%FF%FE",  # not UTF-8
    "scope=" + "t" * 5000,
    "scope=tax.read%09tax.write",
    "scope=tax.read,tax.write",
    "scope=" + "%C3%A9" * 300,
    "scope=tax.read&client_id=" + "x" * 5000,
])
def test_bad_input_is_a_4xx_error_never_a_500(app, client, backend, body):
    response = client.post("/token", data="grant_type=client_credentials&" + body,
                           content_type="application/x-www-form-urlencoded",
                           headers=backend.auth()["headers"])
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.json["error"] in ("invalid_request", "invalid_scope", "invalid_client")
    assert stored_tokens(app) == [] and issued_events(app) == []


def test_a_broken_client_assertion_is_invalid_client(app, client):
    key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig"})
    portal = service_portal(app, auth_method=ClientAuthMethod.PRIVATE_KEY_JWT,
                            jwks={"keys": [key.as_dict(private=False)]})
    for assertion in ("not-a-jwt", "", "a.b.c", "é" * 100):
        response = client.post("/token", data={
            "grant_type": "client_credentials", "client_id": portal.client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion})
        assert response.status_code in (400, 401) and response.json["error"] in (
            "invalid_client", "invalid_request"), (assertion, response.json)
    assert stored_tokens(app) == [] and issued_events(app) == []


def test_repeated_parameters_query_and_json_bodies_are_invalid_request(app, client, backend):
    auth = backend.auth()["headers"]
    repeated = client.post("/token", data="grant_type=client_credentials&scope=a&scope=b",
                           content_type="application/x-www-form-urlencoded", headers=auth)
    query = client.post("/token?scope=tax.read", data={"grant_type": "client_credentials"},
                        headers=auth)
    as_json = client.post("/token", json={"grant_type": "client_credentials"}, headers=auth)
    for response in (repeated, query, as_json):
        assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert stored_tokens(app) == [] and issued_events(app) == []


def test_discovery_lists_the_grant(client):
    assert "client_credentials" in client.get("/.well-known/openid-configuration").json[
        "grant_types_supported"]
