"""The `address` scope (docs/architecture.md §5; OIDC Core §5.1.1): only an address verified at a counter of a
still-verified identity is released, always with `address_verified: true`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from idp.extensions import db
from idp.models import Account
from tests.oidc.assurance import ADDRESS, counter_verified
from tests.oidc.flow import (
    auth_request,
    authorize,
    citizen,
    exchange,
    redirect_params,
    registered_portal,
    sign_in,
    verify_id_token,
)

SCOPE = "openid profile address"
EXPECTED = {
    "formatted": "Số 6 Đinh Lễ, Phường Hoàn Kiếm, Hà Nội",
    "street_address": "Số 6 Đinh Lễ",
    "locality": "Phường Hoàn Kiếm",
    "region": "Hà Nội",
    "country": "VN",
}


def tokens(client, portal, **overrides):  # type: ignore[no-untyped-def]
    request = auth_request(portal, scope=SCOPE, **overrides)
    params = redirect_params(authorize(client, request))
    body = exchange(client, portal, params["code"], request.verifier).json
    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert userinfo.status_code == 200
    return verify_id_token(client, body["id_token"])[1], userinfo.json


def test_verified_address_in_userinfo_and_on_request_in_the_id_token(app, client):
    portal = registered_portal(app, scope=SCOPE)
    counter_verified(app, citizen(app), address=True)
    sign_in(client)
    claims, userinfo = tokens(client, portal, claims=json.dumps({"id_token": {"address": None}}))
    assert userinfo["address"] == EXPECTED and userinfo["address_verified"] is True
    assert claims["address"] == EXPECTED and claims["address_verified"] is True
    claims, _ = tokens(client, portal)
    assert "address" not in claims  # the ID token carries it only when asked for by name


def test_declared_or_revoked_address_is_never_released(app, client):
    portal = registered_portal(app, scope=SCOPE)
    account_id = citizen(app)
    with app.app_context():
        account = db.session.get(Account, account_id)
        account.postal_address = dict(ADDRESS)  # known, but not checked at a counter
        db.session.commit()
    sign_in(client)
    _, userinfo = tokens(client, portal)
    assert "address" not in userinfo and "address_verified" not in userinfo
    with app.app_context():
        account = db.session.get(Account, account_id)
        account.address_verified_at = datetime.now(UTC)  # checked once, identity since revoked
        db.session.commit()
    _, userinfo = tokens(client, portal)
    assert "address" not in userinfo
    counter_verified(app, account_id)
    _, userinfo = tokens(client, portal)
    assert userinfo["address"] == EXPECTED


def test_address_needs_the_address_scope(app, client):
    portal = registered_portal(app, scope=SCOPE)
    counter_verified(app, citizen(app), address=True)
    sign_in(client)
    request = auth_request(portal, scope="openid profile",
                           claims=json.dumps({"id_token": {"address": None}, "userinfo": {"address": None}}))
    params = redirect_params(authorize(client, request))
    body = exchange(client, portal, params["code"], request.verifier).json
    assert "address" not in verify_id_token(client, body["id_token"])[1]
    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).json
    assert "address" not in userinfo


def test_consent_page_says_whether_an_address_would_be_shared(app, client):
    portal = registered_portal(app, scope=SCOPE)
    account_id = citizen(app)
    sign_in(client)
    english = {"ui_locales": "en", "scope": SCOPE}
    page = client.get(auth_request(portal, **english).url).get_data(as_text=True)
    assert "you have none yet, so nothing is shared" in page
    counter_verified(app, account_id, address=True)
    page = client.get(auth_request(portal, **english).url).get_data(as_text=True)
    assert "Your postal address, as verified at a post office" in page
