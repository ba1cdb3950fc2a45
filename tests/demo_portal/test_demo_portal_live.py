"""The demo portal end to end against a LIVE `idp serve`: the portal's own server-side calls
(discovery, token, JWKS, userinfo) go over HTTP to gunicorn, the browser part is a
requests.Session, and the portal itself runs in Flask's test client."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from idp.demo_portal import create_demo_portal
from idp.extensions import db
from idp.models import Account, ClientAuthMethod
from idp.services.portals.clients import register_client
from tests.demo_portal.live_server import (
    consent_action,
    free_port,
    hidden,
    live_idp,
    sign_in_and_consent,
)
from tests.factories import PASSWORD, active_citizen


def test_demo_portal_signs_in_and_out_with_a_live_provider(app, database_url, tmp_path):
    host = f"127.0.0.1:{free_port()}"
    base_url = f"http://{host}/demo-portal"
    with app.app_context():
        registered = register_client(
            name="Cổng mẫu", redirect_uris=[base_url + "/callback"],
            post_logout_redirect_uris=[base_url + "/"],
            scope="openid profile email phone address offline_access",
            auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC)
        client_id, client_secret = registered.client.client_id, registered.client_secret
        active_citizen()

    with live_idp(database_url, tmp_path) as server:
        portal = create_demo_portal(server.issuer, client_id=client_id, client_secret=client_secret,
                                    secret_key="live-portal-key", base_url=base_url)
        portal.config.update(SERVER_NAME=host, APPLICATION_ROOT="/demo-portal")
        visitor = portal.test_client()

        with requests.Session() as browser:
            authorize = visitor.get("/login?lang=en").headers["Location"]
            assert authorize.startswith(server.issuer + "/authorize?")
            callback = sign_in_and_consent(browser, server.issuer, authorize)
            assert callback.startswith(base_url + "/callback?")
            response = visitor.get("/callback?" + urlsplit(callback).query)
            assert response.status_code == 302, response.get_data(as_text=True)[:500]

            page = visitor.get("/").get_data(as_text=True)
            assert "Hello, Nguyễn Văn An" in page
            for claim in ("acr", "amr", "auth_time", "sid", "at_hash"):
                assert f'<dt class="mono">{claim}</dt>' in page
            assert "urn:vn:postid:loa:1" in page and "(GMT+07:00)" in page
            assert "+84912345678" in page  # from the userinfo response

            csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            response = visitor.post("/logout", data={"csrf_token": csrf})
            end_session = response.headers["Location"]
            assert end_session.startswith(server.issuer + "/session/end?")
            query = parse_qs(urlsplit(end_session).query)
            assert query["post_logout_redirect_uri"] == [base_url + "/"] and query["id_token_hint"]
            response = browser.get(end_session, allow_redirects=False)
            assert response.status_code == 302, response.text[:300]
            back = response.headers["Location"]
            assert back.startswith(base_url + "/?state=")
            page = visitor.get(urlsplit(back).path.removeprefix("/demo-portal") + "?"
                               + urlsplit(back).query).get_data(as_text=True)
            assert "You have signed out of the demo portal and of PostID." in page
            # The provider's session is gone too: signing in again asks for the password.
            again = browser.get(urljoin(server.issuer, visitor.get("/login").headers["Location"]),
                                allow_redirects=False)
            assert urlsplit(again.headers["Location"]).path == "/login"

        assert server.stop() == 0, server.output()


def test_demo_portal_asks_for_a_verified_identity(app, database_url, tmp_path):
    """LoA2 through the claims parameter: unmet -> the get-verified page and the way back;
    once verified at a counter -> acr level 2 and the verified address on the portal's page."""
    host = f"127.0.0.1:{free_port()}"
    base_url = f"http://{host}/demo-portal"
    with app.app_context():
        registered = register_client(
            name="Cổng mẫu", redirect_uris=[base_url + "/callback"],
            scope="openid profile email phone address offline_access",
            auth_method=ClientAuthMethod.CLIENT_SECRET_BASIC)
        client_id, client_secret = registered.client.client_id, registered.client_secret
        account_id = active_citizen().id

    with live_idp(database_url, tmp_path) as server:
        portal = create_demo_portal(server.issuer, client_id=client_id, client_secret=client_secret,
                                    secret_key="live-portal-key", base_url=base_url)
        portal.config.update(SERVER_NAME=host, APPLICATION_ROOT="/demo-portal")
        visitor = portal.test_client()
        with requests.Session() as browser:
            authorize = visitor.get("/login?acr=2&lang=en").headers["Location"]
            page = sign_in(browser, server.issuer, authorize)
            assert 'href="/account/verification"' in page and 'name="decision"' not in page
            response = browser.post(urljoin(server.issuer, consent_action(page)), allow_redirects=False,
                                    data={"csrf_token": hidden(page, "csrf_token", 'class="button-row"')})
            callback = response.headers["Location"]
            assert callback.startswith(base_url + "/callback?error=unmet_authentication_requirements")
            response = visitor.get("/callback?" + urlsplit(callback).query)
            assert response.status_code == 400
            assert "does not have the level this portal asked for" in response.get_data(as_text=True)

            with app.app_context():  # what an approved counter check leaves behind
                account = db.session.get(Account, account_id)
                account.identity_loa = 2
                account.postal_address = {"street": "Số 6 Đinh Lễ", "ward": "Phường Hoàn Kiếm",
                                          "province_code": "01"}
                account.address_verified_at = datetime.now(UTC)
                db.session.commit()
            authorize = visitor.get("/login?acr=2").headers["Location"]
            callback = consent(browser, server.issuer, authorize)
            response = visitor.get("/callback?" + urlsplit(callback).query)
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
            page = visitor.get("/").get_data(as_text=True)
            assert "Level 2: identity verified in person at a post office" in page
            assert "This portal asked for at least level 2." in page
            assert "Số 6 Đinh Lễ, Phường Hoàn Kiếm, Hà Nội" in page and "Verified at a post office" in page
        assert server.stop() == 0, server.output()


def sign_in(browser: requests.Session, issuer: str, authorization_url: str) -> str:
    """Password sign-in from an authorization request; the page the request then shows."""
    response = browser.get(authorization_url, allow_redirects=False)
    login_url = urljoin(issuer, response.headers["Location"])
    page = browser.get(login_url).text
    response = browser.post(issuer + "/login", allow_redirects=False, data={
        "csrf_token": hidden(page, "csrf_token", 'action="/login'),
        "next": hidden(page, "next", 'action="/login'),
        "identifier": "001099012345", "password": PASSWORD,
    })
    assert response.status_code == 302, response.text[:300]
    response = browser.get(urljoin(issuer, response.headers["Location"]), allow_redirects=False)
    assert response.status_code == 200, response.text[:300]
    return response.text


def consent(browser: requests.Session, issuer: str, authorization_url: str) -> str:
    response = browser.get(authorization_url, allow_redirects=False)
    assert response.status_code == 200 and 'name="decision"' in response.text, response.text[:300]
    page = response.text
    response = browser.post(urljoin(issuer, consent_action(page)), allow_redirects=False,
                            data={"csrf_token": hidden(page, "csrf_token", 'class="button-row"'),
                                  "decision": "allow"})
    assert response.status_code == 302, response.text[:300]
    return response.headers["Location"]
