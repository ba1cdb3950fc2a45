"""oidcc-discovery: metadata complete and consistent with what the server really does."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask_limiter.util import get_qualified_name

from idp.extensions import limiter
from idp.services.portals import keys
from tests.oidc.flow import ISSUER

DOCUMENTS = ["/.well-known/openid-configuration", "/jwks.json"]


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
        "urn:vn:postid:loa:1", "urn:vn:postid:loa:2", "urn:vn:postid:loa:3",
        "urn:vn:postid:phishing_resistant"]
    assert meta["claims_parameter_supported"] is True
    for claim in ("acr", "amr", "address", "address_verified"):
        assert claim in meta["claims_supported"]
    assert "address" in meta["scopes_supported"]
    # Served from a per-process cache: the very same bytes, cacheable by portals.
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert client.get("/.well-known/openid-configuration").get_data() == response.get_data()
    assert app.extensions["idp.discovery.document"].body == response.get_data()


@pytest.mark.parametrize("path", DOCUMENTS)
def test_a_document_comes_back_as_304_when_the_portal_still_holds_it(app, client, path):
    first = client.get(path)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"') and len(etag) == 34
    for held in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get(path, headers={"If-None-Match": held})
        assert again.status_code == 304, held
        assert again.get_data() == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    changed = client.get(path, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.get_data() == first.get_data()


def test_caching_lifetimes_follow_how_often_each_document_changes(app, client):
    assert client.get(DOCUMENTS[0]).headers["Cache-Control"] == "public, max-age=300"
    # A NEXT key is published a whole rotation before it signs: a minute is safe.
    jwks = client.get(DOCUMENTS[1])
    assert jwks.headers["Cache-Control"] == "public, max-age=60"
    assert jwks.headers["Content-Type"] == "application/jwk-set+json"


def test_a_key_rotation_changes_the_jwks_etag(app, client):
    before = client.get("/jwks.json")
    with app.app_context():
        new_next = keys.rotate("ES256").kid
    after = client.get("/jwks.json", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert new_next in {key["kid"] for key in after.json["keys"]}


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_fast_path_answers_as_flask_would_without_running_its_hooks(app, client, path):
    hooks = []
    app.before_request(lambda: hooks.append(1))
    request_id = {"X-Request-ID": "discovery-1"}  # answered as sent, by either path
    fast = client.get(path, headers=request_id)
    assert hooks == []  # answered before Flask: no routing, no hooks, no session
    slow = client.get(path + "?via=flask", headers=request_id)
    assert hooks == [1]
    assert (fast.status_code, fast.get_data()) == (slow.status_code, slow.get_data())
    assert sorted(fast.headers.items()) == sorted(slow.headers.items())
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"):
        assert fast.headers[header]
    assert client.get(path + "?via=flask", headers={"If-None-Match": fast.headers["ETag"]}
                      ).status_code == 304


@pytest.mark.parametrize("path", DOCUMENTS)
def test_head_and_other_methods(app, client, path):
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["ETag"] == get.headers["ETag"]
    assert head.headers["Content-Length"] == str(len(get.get_data()))
    assert client.post(path).status_code == 405
    assert client.delete(path).status_code == 405


def test_protocol_endpoints_declare_no_rate_limit_the_request_filter_could_skip(app):
    """The limiter skips the oidc blueprint entirely (idp/__init__.py): that is only safe while
    none of its views declares a Flask-Limiter limit."""
    with app.app_context():
        declared = {endpoint: limiter.limit_manager.decorated_limits(get_qualified_name(view))
                    for endpoint, view in app.view_functions.items()}
        assert declared["auth.login"]  # the check can see a declared limit
        oidc = [endpoint for endpoint in declared if endpoint.startswith("oidc.")]
        assert {"oidc.token", "oidc.userinfo_endpoint", "oidc.introspect"} <= set(oidc)
        assert not any(declared[endpoint] for endpoint in oidc)
        assert not limiter.limit_manager.blueprint_limits(app, "oidc")


def test_a_database_outage_on_the_fast_path_gets_flasks_503_not_a_bare_500(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def unavailable():
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(keys, "public_jwks", unavailable)
    response = client.get("/jwks.json")
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    monkeypatch.undo()
    assert client.get("/jwks.json").status_code == 200
