"""An independent relying-party library (Authlib's requests client) signs in against a LIVE
`idp serve`: real HTTP, real gunicorn, the same database as the `app` fixture. What the
in-process tests cannot see (headers on the wire, cookies across requests, a server-side
token call from another process) is exercised here."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.models import ClientAuthMethod
from idp.services.portals.clients import register_client
from tests.demo_portal.live_server import free_port, live_idp, sign_in_and_consent
from tests.factories import active_citizen

SCOPE = "openid profile email phone offline_access"
def test_independent_rp_signs_in_against_live_server(app, database_url, tmp_path):
    redirect_uri = f"http://127.0.0.1:{free_port()}/cb"  # nothing listens: never followed
    with app.app_context():
        registered = register_client(name="Cổng thử nghiệm trực tiếp", redirect_uris=[redirect_uri],
                                     scope=SCOPE, auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC)
        client_id, client_secret = registered.client.client_id, registered.client_secret
        active_citizen()

    with live_idp(database_url, tmp_path) as server:
        issuer = server.issuer
        meta = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
        assert meta["issuer"] == issuer
        rp = OAuth2Session(client_id, client_secret, scope=SCOPE, redirect_uri=redirect_uri,
                           token_endpoint_auth_method="client_secret_basic",
                           code_challenge_method="S256", default_timeout=10)
        verifier, nonce = generate_token(48), generate_token(20)
        url, state = rp.create_authorization_url(meta["authorization_endpoint"],
                                                 code_verifier=verifier, nonce=nonce)

        with requests.Session() as browser:
            callback = sign_in_and_consent(browser, issuer, url)
        assert callback.startswith(redirect_uri + "?")
        params = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
        assert params["state"] == state and params["iss"] == issuer  # RFC 9207

        token = rp.fetch_token(meta["token_endpoint"], authorization_response=callback,
                               state=state, code_verifier=verifier)
        assert token["token_type"].lower() == "bearer"
        assert token["refresh_token"] and token["access_token"]

        keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
        algorithms = meta["id_token_signing_alg_values_supported"]
        decoded = jwt.decode(token["id_token"], keys, algorithms=algorithms)
        claims = CodeIDToken(
            decoded.claims, decoded.header,
            {"iss": {"essential": True, "value": issuer},
             "aud": {"essential": True, "value": client_id}},
            {"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
        )
        claims.validate()  # iss, aud, exp, iat, nonce, azp, at_hash
        assert claims["nonce"] == nonce and claims["exp"] > time.time()
        assert decoded.header["kid"] and claims["acr"] == "urn:vn:postid:loa:1"
        assert claims["amr"] == ["pwd"] and claims["sid"]
        assert abs(claims["auth_time"] - time.time()) < 120

        userinfo = rp.get(meta["userinfo_endpoint"])
        assert userinfo.status_code == 200, userinfo.text
        assert userinfo.json()["sub"] == claims["sub"]
        assert userinfo.json()["name"] == "Nguyễn Văn An"

        first_refresh = token["refresh_token"]
        refreshed = rp.refresh_token(meta["token_endpoint"], refresh_token=first_refresh)
        assert refreshed["refresh_token"] != first_refresh  # rotated
        assert refreshed["access_token"] != token["access_token"]
        assert rp.get(meta["userinfo_endpoint"]).status_code == 200  # the new access token works
        with pytest.raises(OAuthError) as replay:
            rp.refresh_token(meta["token_endpoint"], refresh_token=first_refresh)
        assert replay.value.error == "invalid_grant"

        assert server.stop() == 0, server.output()
