"""A request /authorize cannot answer at a redirect_uri shows a page that tells the portal's
developer which parameter is wrong, in the page's language, never echoing the value sent
(issue 11)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.oidc.flow import auth_request, registered_portal

SAYS = {
    "unknown_client": {
        "vi": "Không có dịch vụ nào với client_id này được đăng ký với PostID",
        "en": "No service with this client_id is registered with PostID",
    },
    "redirect_uri": {
        "vi": "redirect_uri này chưa được đăng ký cho dịch vụ này.",
        "en": "This redirect_uri is not registered for this service.",
    },
}
HEADING = {"vi": "Dành cho nhà phát triển của dịch vụ", "en": "For the service's developers"}


def browser(app, lang: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    if lang == "en":
        client.set_cookie("postid_lang", "en")
    return client


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_unknown_client_id_is_named_on_the_error_page(app, lang):
    portal = registered_portal(app)
    request = auth_request(portal, client_id="no-such-client-<b>x</b>")
    response = browser(app, lang).get(request.url)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Location" not in response.headers
    assert f'<html lang="{lang}">' in body
    assert "invalid_client" in body
    assert HEADING[lang] in body and SAYS["unknown_client"][lang] in body
    assert "no-such-client" not in body and "<b>x</b>" not in body


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_unregistered_redirect_uri_is_named_on_the_error_page(app, lang):
    portal = registered_portal(app)
    request = auth_request(portal, redirect_uri="https://evil.example/cb?<script>alert(1)</script>")
    response = browser(app, lang).get(request.url)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "invalid_request" in body
    assert HEADING[lang] in body and SAYS["redirect_uri"][lang] in body
    assert "evil.example" not in body and "<script>" not in body


def test_a_repeated_parameter_is_named(app):
    portal = registered_portal(app)
    params = list(auth_request(portal).params.items()) + [("client_id", portal.client_id)]
    body = app.test_client().get("/authorize?" + urlencode(params)).get_data(as_text=True)
    assert "Tham số client_id được gửi nhiều hơn một lần." in body


def test_an_unsupported_response_type_is_explained_without_its_value(app):
    portal = registered_portal(app)
    response = app.test_client().get(auth_request(portal, response_type="<i>token</i>",
                                                  redirect_uri="https://other.example/").url)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "PostID chỉ hỗ trợ “code”" in body and "<i>token</i>" not in body
