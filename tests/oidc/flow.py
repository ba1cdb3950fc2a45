"""Drive the provider the way a relying party and a browser do, for the OIDC tests."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.models import ClientAuthMethod, SubjectType
from idp.services.portals.clients import register_client
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen

ISSUER = "http://localhost"
REDIRECT_URI = "https://portal.example.vn/callback"


@dataclass
class Portal:
    client_id: str
    client_secret: str | None
    redirect_uri: str = REDIRECT_URI
    auth_method: str = "client_secret_basic"

    def auth(self) -> dict[str, Any]:
        """Keyword arguments for client.post(...) that authenticate this portal."""
        if self.auth_method == "client_secret_basic":
            raw = f"{self.client_id}:{self.client_secret}".encode()
            return {"headers": {"Authorization": "Basic " + base64.b64encode(raw).decode()}, "data": {}}
        if self.auth_method == "client_secret_post":
            return {"headers": {}, "data": {"client_id": self.client_id, "client_secret": self.client_secret}}
        return {"headers": {}, "data": {"client_id": self.client_id}}


@dataclass
class AuthRequest:
    params: dict[str, str]
    verifier: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return "/authorize?" + urlencode({**self.params, **self.extra})


def registered_portal(app: Flask, *, scope: str = "openid profile email phone offline_access",
                      auth_method: ClientAuthMethod = ClientAuthMethod.CLIENT_SECRET_BASIC,
                      subject_type: SubjectType = SubjectType.PUBLIC, **kwargs: Any) -> Portal:
    with app.app_context():
        registered = register_client(name="Cổng dịch vụ công thử", redirect_uris=[REDIRECT_URI],
                                     scope=scope, auth_method=auth_method,
                                     subject_type=subject_type, **kwargs)
        return Portal(registered.client.client_id, registered.client_secret,
                      auth_method=auth_method.value)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def auth_request(portal: Portal, **overrides: str) -> AuthRequest:
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code", "client_id": portal.client_id, "redirect_uri": portal.redirect_uri,
        "scope": "openid profile", "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge, "code_challenge_method": "S256",
    }
    params.update(overrides)
    return AuthRequest({k: v for k, v in params.items() if v is not None}, verifier)


def sign_in(client: FlaskClient, identifier: str = "001099012345", password: str = PASSWORD) -> None:
    response = client.post("/login", data={"csrf_token": csrf_token(client), "identifier": identifier,
                                           "password": password})
    assert response.status_code == 302, response.status_code


def citizen(app: Flask, **overrides: Any) -> int:
    with app.app_context():
        return active_citizen(**overrides).id


def redirect_params(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[:300])
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def consent_action(page: str) -> str:
    match = re.search(r'<form method="post" action="([^"]+)" class="button-row">', page)
    assert match, "no consent form"
    return html.unescape(match.group(1))


def authorize(client: FlaskClient, request: AuthRequest, *, decision: str | None = "allow"):  # type: ignore[no-untyped-def]
    """Follow the authorization request through consent (if asked); return the final response."""
    response = client.get(request.url)
    if response.status_code == 200 and 'name="decision"' in response.get_data(as_text=True) and decision:
        page = response.get_data(as_text=True)
        token = csrf_token(client, request.url)
        response = client.post(consent_action(page), data={"csrf_token": token, "decision": decision})
    return response


def obtain_code(client: FlaskClient, portal: Portal, **overrides: str) -> tuple[str, AuthRequest]:
    request = auth_request(portal, **overrides)
    params = redirect_params(authorize(client, request))
    assert "code" in params, params
    return params["code"], request


def exchange(client: FlaskClient, portal: Portal, code: str, verifier: str, **extra: str):  # type: ignore[no-untyped-def]
    auth = portal.auth()
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": portal.redirect_uri,
            "code_verifier": verifier, **auth["data"], **extra}
    return client.post("/token", data=data, headers=auth["headers"])


def refresh(client: FlaskClient, portal: Portal, refresh_token: str, **extra: str):  # type: ignore[no-untyped-def]
    auth = portal.auth()
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **auth["data"], **extra}
    return client.post("/token", data=data, headers=auth["headers"])


def verify_id_token(client: FlaskClient, id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = KeySet.import_key_set(client.get("/jwks.json").json)
    decoded = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
    return decoded.header, decoded.claims
