"""oidcc-discovery: metadata complete and consistent with what the server really does."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.oidc.flow import ISSUER


def test_metadata_is_consistent(app, client):
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    meta = response.json
    assert meta["issuer"] == ISSUER
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
    assert "openid" in meta["scopes_supported"] and "national_id" in meta["scopes_supported"]
    assert set(meta["subject_types_supported"]) == {"public", "pairwise"}
    assert meta["request_parameter_supported"] is False
    for claim in ("sub", "acr", "amr", "auth_time", "sid", "name", "phone_number", "national_id"):
        assert claim in meta["claims_supported"]


def test_every_advertised_endpoint_exists(app, client):
    meta = client.get("/.well-known/openid-configuration").json
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                 "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"):
        url = meta[name]
        assert url.startswith(ISSUER + "/")
        path = urlsplit(url).path
        assert client.get(path).status_code != 404 or client.post(path).status_code != 404, name


def test_jwks_publishes_public_signing_keys_for_both_algorithms(app, client):
    body = client.get("/jwks.json").json
    algs = {key["alg"] for key in body["keys"]}
    assert {"RS256", "ES256"} <= algs
    for key in body["keys"]:
        assert key["kid"] and key["use"] == "sig"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_levels_of_assurance_and_claims_are_advertised(app, client):
    response = client.get("/.well-known/openid-configuration")
    meta = response.json
    assert meta["acr_values_supported"] == [
        "urn:vn:postid:loa:1", "urn:vn:postid:loa:2", "urn:vn:postid:loa:3"]
    assert meta["claims_parameter_supported"] is True
    for claim in ("acr", "amr", "address", "address_verified"):
        assert claim in meta["claims_supported"]
    assert "address" in meta["scopes_supported"]
    # Served from a per-process cache: the very same bytes, cacheable by portals.
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert client.get("/.well-known/openid-configuration").get_data() == response.get_data()
    assert app.extensions["idp.discovery.body"] == response.get_data()
