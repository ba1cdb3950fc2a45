"""CSRF on every form and the security headers of docs/architecture.md §7."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import UserSession
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen


@pytest.mark.parametrize("data", [{}, {"csrf_token": "forged"}])
def test_login_without_a_valid_csrf_token_is_refused(app, client, data):
    with app.app_context():
        active_citizen()
    response = client.post("/login", data={"identifier": "001099012345", "password": PASSWORD, **data})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_csrf_token_of_another_browser_is_refused(app, client):
    with app.app_context():
        active_citizen()
    other = app.test_client()
    token = csrf_token(other)
    client.get("/login")
    response = client.post("/login", data={"csrf_token": token, "identifier": "001099012345",
                                           "password": PASSWORD})
    assert response.status_code == 400


def test_logout_and_language_need_csrf(client):
    assert client.post("/logout").status_code == 400
    assert client.post("/language", data={"lang": "en"}).status_code == 400


@pytest.mark.parametrize("path", ["/login", "/account", "/no-such-page", "/healthz"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_load_nothing_from_other_origins(client):
    body = client.get("/login").get_data(as_text=True)
    assert "http://" not in body and "https://" not in body and "//" not in body.replace("<!--", "")


def test_hsts_only_in_production_settings(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_sign_in_works_over_https_without_a_referer(app, settings, make_app):
    """Referrer-Policy: no-referrer means browsers send no Referer; CSRF must not need one."""
    from dataclasses import replace

    secure = make_app(replace(settings, cookie_secure=True))
    with secure.app_context():
        active_citizen()
    client = secure.test_client()
    base = "https://localhost"
    page = client.get("/login", base_url=base)
    assert "__Host-postid_form=" in page.headers["Set-Cookie"] and "Secure" in page.headers["Set-Cookie"]
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post("/login", base_url=base, headers={"Origin": base},
                           data={"csrf_token": token, "identifier": "001099012345", "password": PASSWORD})
    assert response.status_code == 302
    cookies = " ".join(response.headers.getlist("Set-Cookie"))
    assert "__Host-postid_session=" in cookies and "Secure" in cookies


def csrf_token_from(page: str) -> str:
    from tests.conftest import CSRF_RE

    match = CSRF_RE.search(page)
    assert match
    return match.group(1) or match.group(2)


def test_missing_static_file_is_not_cached(client):
    response = client.get("/static/no-such.css")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


def test_stylesheet_is_served_from_our_origin(client):
    response = client.get("/static/css/site.css")
    try:
        assert response.status_code == 200
        assert "url(" not in response.get_data(as_text=True)  # no fonts or images from elsewhere
    finally:
        response.close()


def test_csp_does_not_block_the_redirect_to_a_portal_after_a_form(client):
    """Chromium applies form-action to redirects after a form POST: consent -> portal origin."""
    assert "form-action" not in client.get("/login").headers["Content-Security-Policy"]
