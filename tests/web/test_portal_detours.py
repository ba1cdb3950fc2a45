"""A portal's sign-in survives the detours a person takes from its sign-in page:
creating an account, recovering a password, two-step set-up; and the sign-in page itself
offers the way back to the portal (error=access_denied)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, quote, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AuthorizationCode, OutboxMessage, UserSession
from idp.models.base import utcnow
from tests.conftest import csrf_token
from tests.factories import active_citizen
from tests.oidc.flow import ISSUER, REDIRECT_URI, auth_request, registered_portal, sign_in

NEW_CITIZEN = {
    "national_id": "079303001234", "full_name": "Trần Thị Bích Ngọc", "birthdate": "2003-02-01",
    "gender": "female", "phone": "0983456789", "email": "",
    "password": "chim én bay về núi 7", "password_confirm": "chim én bay về núi 7",
    "accept_terms": "y",
}
NEW_PASSWORD = "blue mango river lantern"


def portal_sign_in_page(app: Flask, client: FlaskClient):  # type: ignore[no-untyped-def]
    """(the portal's authorization request, the /login page it leads to, that page's `next`)."""
    request = auth_request(registered_portal(app))
    to_login = client.get(request.url)
    assert to_login.status_code == 302
    login = client.get(to_login.headers["Location"])
    assert login.status_code == 200
    next_url = parse_qs(urlsplit(to_login.headers["Location"]).query)["next"][0]
    assert next_url.startswith("/authorize?")
    return request, login, next_url


def link(page, path: str) -> str:  # type: ignore[no-untyped-def]
    match = re.search(rf'href="({re.escape(path)}[^"]*)"', page.get_data(as_text=True))
    assert match, f"no link to {path}"
    return html.unescape(match.group(1))


def action(page, path: str) -> str:  # type: ignore[no-untyped-def]
    match = re.search(rf'<form method="post" action="({re.escape(path)}[^"]*)"',
                      page.get_data(as_text=True))
    assert match, f"no form posting to {path}"
    return html.unescape(match.group(1))


def next_of(url: str) -> str | None:
    return parse_qs(urlsplit(url).query).get("next", [None])[0]


def latest_code(app: Flask, template: str) -> str:
    with app.app_context():
        body = db.session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.template == template).order_by(OutboxMessage.id.desc())).first()
    return re.search(r"(?<!\d)\d{6}(?!\d)", body).group(0)


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def asks_consent(client: FlaskClient, url: str) -> None:
    page = client.get(url)
    assert page.status_code == 200 and 'name="decision" value="allow"' in page.get_data(as_text=True)


def test_registration_from_a_portal_sign_in_continues_to_the_portal(app, client):
    _, login, next_url = portal_sign_in_page(app, client)
    register_url = link(login, "/register")
    assert next_of(register_url) == next_url
    form = client.get(register_url)
    post_to = action(form, "/register")
    started = client.post(post_to, data={**NEW_CITIZEN, "csrf_token": csrf_token(client, register_url)})
    assert started.status_code == 303
    confirm_url = started.headers["Location"]
    assert urlsplit(confirm_url).path == "/register/confirm" and next_of(confirm_url) == next_url
    confirm_page = client.get(confirm_url)
    done = client.post(action(confirm_page, "/register/confirm"),
                       data={"csrf_token": csrf_token(client, confirm_url),
                             "code": latest_code(app, "register.code")})
    assert done.status_code == 303
    assert done.headers["Location"] == next_url  # signed in: straight on to the portal
    assert count(app, Account) == 1 and count(app, UserSession) == 1
    asks_consent(client, next_url)


def test_registration_without_a_portal_still_ends_on_the_account(app, client):
    started = client.post("/register", data={**NEW_CITIZEN, "csrf_token": csrf_token(client, "/register")})
    assert started.headers["Location"] == "/register/confirm"
    done = client.post("/register/confirm", data={"csrf_token": csrf_token(client, "/register/confirm"),
                                                  "code": latest_code(app, "register.code")})
    assert done.status_code == 303 and done.headers["Location"] == "/account"


def test_registration_refuses_a_foreign_next(app, client):
    url = "/register?next=//evil.example/x"
    started = client.post(url, data={**NEW_CITIZEN, "csrf_token": csrf_token(client, url)})
    assert started.headers["Location"] == "/register/confirm"
    done = client.post("/register/confirm?next=https://evil.example/",
                       data={"csrf_token": csrf_token(client, "/register/confirm"),
                             "code": latest_code(app, "register.code")})
    assert done.headers["Location"] == "/account"


def test_recovery_from_a_portal_sign_in_signs_in_back_to_the_portal(app, client):
    with app.app_context():
        account = active_citizen()
        account.phone_verified_at = utcnow()
        db.session.commit()
    _, login, next_url = portal_sign_in_page(app, client)
    recover_url = link(login, "/recover")
    assert next_of(recover_url) == next_url
    started = client.post(action(client.get(recover_url), "/recover"),
                          data={"csrf_token": csrf_token(client, recover_url),
                                "identifier": "001099012345"})
    assert started.status_code == 303
    code_url = started.headers["Location"]
    assert urlsplit(code_url).path == "/recover/code" and next_of(code_url) == next_url
    done = client.post(action(client.get(code_url), "/recover/code"),
                       data={"csrf_token": csrf_token(client, code_url),
                             "code": latest_code(app, "recover.code"),
                             "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 200
    sign_in_url = link(done, "/login")
    assert next_of(sign_in_url) == next_url
    page = client.get(sign_in_url)
    signed_in = client.post(action(page, "/login"), data={
        "csrf_token": csrf_token(client, sign_in_url), "identifier": "001099012345",
        "password": NEW_PASSWORD, "next": next_url})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == next_url
    asks_consent(client, next_url)


def test_the_portal_sign_in_page_offers_the_way_back_with_access_denied(app, client):
    request, login, _ = portal_sign_in_page(app, client)
    page = login.get_data(as_text=True)
    assert "Cổng dịch vụ công thử" in page
    back = action(login, "/authorize/consent")
    assert 'name="decision" value="deny"' in page
    response = client.post(back, data={"csrf_token": csrf_token(client, "/login"), "decision": "deny"})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert params["error"] == "access_denied"
    assert params["state"] == request.params["state"] and params["iss"] == ISSUER
    assert "code" not in params
    assert count(app, AuthorizationCode) == 0 and count(app, UserSession) == 0


def test_the_way_back_validates_the_request_again(app, client):
    request, login, _ = portal_sign_in_page(app, client)
    back = action(login, "/authorize/consent").replace("portal.example.vn", "evil.example")
    response = client.post(back, data={"csrf_token": csrf_token(client, "/login"), "decision": "deny"})
    assert response.status_code == 400 and "evil.example" not in response.headers.get("Location", "")


def test_a_plain_sign_in_page_has_no_way_back_to_a_portal(client):
    page = client.get("/login?next=/account").get_data(as_text=True)
    assert "/authorize/consent" not in page and 'value="deny"' not in page


def test_two_step_set_up_inside_a_portal_sign_in_shows_no_account_menu(app, client):
    with app.app_context():
        active_citizen()
    request = auth_request(registered_portal(app))
    sign_in(client)
    in_flow = client.get("/account/security?next=" + quote(request.url, safe=""))
    body = in_flow.get_data(as_text=True)
    assert in_flow.status_code == 200
    assert 'class="account-nav"' not in body
    assert 'href="/account"' not in body  # neither the menu nor "Back to your account"
    assert "Cổng dịch vụ công thử yêu cầu xác thực hai bước" in body  # the portal, by name
    assert "/authorize/no-second-factor?" in body  # and the way back to it
    alone = client.get("/account/security").get_data(as_text=True)
    assert 'class="account-nav"' in alone and 'href="/account"' in alone

