"""oidcc-refresh-token and RFC 9700 §4.14.2: rotation, reuse detection, narrowing scopes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import OAuthToken
from tests.oidc.flow import citizen, exchange, obtain_code, refresh, registered_portal, sign_in


@pytest.fixture
def tokens(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid profile email offline_access")
    body = exchange(client, portal, code, request.verifier).json
    return portal, body


def test_refresh_rotates_the_refresh_token(app, client, tokens):
    portal, first = tokens
    assert first["refresh_token"]
    second = refresh(client, portal, first["refresh_token"])
    assert second.status_code == 200
    body = second.json
    assert body["refresh_token"] != first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    assert body["scope"] == "openid profile email offline_access"
    with app.app_context():
        rows = db.session.scalars(select(OAuthToken).order_by(OAuthToken.id)).all()
        assert len(rows) == 2 and rows[0].family_id == rows[1].family_id
        assert rows[0].refresh_rotated_at is not None and rows[1].refresh_rotated_at is None
        assert rows[1].refresh_expires_at == rows[0].refresh_expires_at  # absolute lifetime


def test_reusing_a_rotated_refresh_token_revokes_the_family(app, client, tokens):
    portal, first = tokens
    second = refresh(client, portal, first["refresh_token"]).json
    reuse = refresh(client, portal, first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json["error"] == "invalid_grant"
    # The thief's use killed the legitimate holder's newer tokens too.
    assert refresh(client, portal, second["refresh_token"]).json["error"] == "invalid_grant"
    access = second["access_token"]
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code == 401
    with app.app_context():
        reasons = {row.revoke_reason for row in db.session.scalars(select(OAuthToken))}
        assert reasons == {"refresh_reuse"}


def test_scope_can_narrow_but_not_widen(app, client, tokens):
    portal, first = tokens
    narrow = refresh(client, portal, first["refresh_token"], scope="openid email")
    assert narrow.status_code == 200 and narrow.json["scope"] == "openid email"
    wider = refresh(client, portal, narrow.json["refresh_token"], scope="openid email phone")
    assert wider.status_code == 400 and wider.json["error"] == "invalid_scope"


def test_refresh_token_of_another_client_is_refused(app, client, tokens):
    _, first = tokens
    other = registered_portal(app)
    response = refresh(client, other, first["refresh_token"])
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_expired_family_cannot_refresh(app, client, tokens):
    portal, first = tokens
    with app.app_context():
        row = db.session.scalar(select(OAuthToken))
        row.refresh_expires_at = row.issued_at
        db.session.commit()
    response = refresh(client, portal, first["refresh_token"])
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_no_refresh_token_without_offline_access(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid")
    assert "refresh_token" not in exchange(client, portal, code, request.verifier).json
