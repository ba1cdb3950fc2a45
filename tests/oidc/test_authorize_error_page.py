"""A request /authorize cannot answer at a redirect_uri shows a page that tells the portal's
developer which parameter is wrong, in the page's language, never echoing the value sent
."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.conftest import csrf_token
from tests.oidc.flow import auth_request, registered_portal

SAYS = {
    "unknown_client": {
        "vi": "Không có cổng dịch vụ nào với client_id này được đăng ký với PostID",
        "en": "No portal with this client_id is registered with PostID",
    },
    "redirect_uri": {
        "vi": "redirect_uri này chưa được đăng ký cho cổng dịch vụ này.",
        "en": "This redirect_uri is not registered for this portal.",
    },
}
HEADING = {"vi": "Dành cho nhà phát triển của cổng dịch vụ", "en": "For the portal's developers"}


NEXT_RE = re.compile(r'name="next" value="([^"]*)"')


def shown(body: str) -> str:
    """The page without the language switch's `next` (the page's own URL, escaped in an
    attribute, so that the switch shows this page again): what the page says."""
    return NEXT_RE.sub("", body)


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
    body = shown(response.get_data(as_text=True))
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
    body = shown(response.get_data(as_text=True))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "invalid_request" in body
    assert HEADING[lang] in body and SAYS["redirect_uri"][lang] in body
    assert "evil.example" not in body and "<script>" not in body


def test_a_repeated_parameter_is_named(app):
    portal = registered_portal(app)
    params = list(auth_request(portal).params.items()) + [("client_id", portal.client_id)]
    body = app.test_client().get("/authorize?" + urlencode(params)).get_data(as_text=True)
    assert "Tham số client_id được gửi nhiều hơn một lần." in body


def test_an_unsupported_response_type_is_the_last_thing_named(app):
    """With client_id and redirect_uri right, the response_type goes back to the portal."""
    portal = registered_portal(app)
    response = app.test_client().get(auth_request(portal, response_type="<i>token</i>").url)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["unsupported_response_type"]


def test_an_empty_request_names_client_id_first(app):
    """Authlib looks at response_type before the client; a developer fixes client_id first."""
    registered_portal(app)
    response = app.test_client().get("/authorize?")
    body = shown(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "invalid_client" in body and "Yêu cầu không có client_id." in body
    assert "response_type" not in body


def test_an_unregistered_redirect_uri_is_named_before_the_response_type(app):
    portal = registered_portal(app)
    response = app.test_client().get(auth_request(
        portal, response_type="token", redirect_uri="https://other.example/<b>cb</b>").url)
    body = shown(response.get_data(as_text=True))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "invalid_request" in body and SAYS["redirect_uri"]["vi"] in body
    assert "response_type" not in body and "other.example" not in body


def test_an_unknown_client_is_named_before_the_response_type(app):
    registered_portal(app)
    body = shown(app.test_client().get("/authorize?response_type=token&client_id=nobody"
                                       ).get_data(as_text=True))
    assert "invalid_client" in body and SAYS["unknown_client"]["vi"] in body
    assert "nobody" not in body


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_language_switch_stays_on_the_error_page(app, lang):
    """The switch shows the same error page again in the other language (the page echoes no
    value, so its own URL is safe to show again), not the sign-in page."""
    portal = registered_portal(app)
    request = auth_request(portal, redirect_uri="https://other.example/cb")
    client = browser(app, lang)
    body = client.get(request.url).get_data(as_text=True)
    match = NEXT_RE.search(body)
    assert match is not None
    target = html.unescape(match.group(1))
    assert target == request.url
    other = "en" if lang == "vi" else "vi"
    response = client.post("/language", data={"csrf_token": csrf_token(client, request.url),
                                              "lang": other, "next": target})
    assert response.status_code == 302 and response.headers["Location"] == request.url
    again = client.get(response.headers["Location"])
    assert again.status_code == 400
    page = again.get_data(as_text=True)
    assert f'<html lang="{other}">' in page and SAYS["redirect_uri"][other] in page


def test_the_language_switch_of_a_posted_request_shows_it_again(app):
    """A portal may POST /authorize: the switch re-shows that request's error page by GET."""
    portal = registered_portal(app)
    request = auth_request(portal, redirect_uri="https://other.example/cb")
    body = app.test_client().post("/authorize", data=request.params).get_data(as_text=True)
    target = html.unescape(NEXT_RE.search(body).group(1))
    assert target.startswith("/authorize?")
    assert parse_qs(urlsplit(target).query) == {k: [v] for k, v in request.params.items()}
