"""oidcc-ensure-registered-redirect-uri and friends: an invalid client or redirect_uri is
never redirected to (RFC 6749 §4.1.2.1)."""

from __future__ import annotations

import re

import pytest

from tests.oidc.flow import auth_request, citizen, registered_portal, sign_in


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": "https://portal.example.vn/callback/"},  # not an exact match
        {"redirect_uri": "https://portal.example.vn/callback?x=1"},
        {"redirect_uri": None},  # required in OIDC
        {"client_id": "unknown-client"},
        {"client_id": None},
    ],
)
def test_bad_client_or_redirect_uri_shows_an_error_page(app, client, overrides):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    response = client.get(auth_request(portal, **overrides).url)
    assert response.status_code == 400
    assert "Location" not in response.headers
    # The language switch's `next` is the page's own URL, escaped in an attribute (so that the
    # switch shows this page again); the page says nothing of the value.
    body = re.sub(r'name="next" value="[^"]*"', "", response.get_data(as_text=True))
    assert "evil.example" not in body


def test_unsupported_response_type_is_redirected_with_its_error(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    response = client.get(auth_request(portal, response_type="token").url)
    assert response.status_code == 302
    assert "error=unsupported_response_type" in response.headers["Location"]


def test_non_ascii_parameters_never_cause_a_500(app, client):
    portal = registered_portal(app)
    response = client.get(auth_request(portal, response_type="cödé").url)
    assert response.status_code in (302, 400)
    response = client.get(auth_request(portal, redirect_uri="https://ví.dụ/cb").url)
    assert response.status_code == 400
