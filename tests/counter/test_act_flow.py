"""The scene at the counter, through the real HTTP flow: the agent presses the portal's
ordinary "Sign in with PostID", follows "Post-office staff: sign in for a citizen", signs in to
the console (password, TOTP), picks the citizen's mandate, and the portal's authorization
request continues with the citizen's delegated session, up to the code and the tokens."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, AuditTag, Mandate, OAuthClient, PostOffice, StaffMember, UserSession
from idp.services.platform.secrets import token_hash
from idp.services.staff import signin
from tests.conftest import csrf_token
from tests.counter.act_cast import Scene, make_scene, mandate
from tests.counter.helpers import console_client
from tests.counter.staff_signin import CLERK, code_at
from tests.oidc.flow import auth_request, consent_action, exchange, redirect_params, sign_in
from tests.staff_factories import STAFF_PASSWORD, STAFF_SETUP_CODE, new_clerk

LINK = re.compile(r'<a href="(/counter/act\?next=[^"]+)">')


@pytest.fixture
def scene(app: Flask) -> Scene:
    return make_scene(app)


def delegation_link(browser: FlaskClient, authorize_url: str) -> str:
    """The portal's sign-in page, as the browser reaches it, and its staff link."""
    response = browser.get(authorize_url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    match = LINK.search(page)
    assert match, "no staff link on the sign-in page"
    assert "Nhân viên bưu cục: đăng nhập thay công dân" in page
    return html.unescape(match.group(1))


def counter_sign_in(browser: FlaskClient, login_url: str) -> str:
    """Password then TOTP at `login_url` (the console's sign-in page with its `next`);
    returns where the console sends the browser afterwards."""
    token = csrf_token(browser, login_url)
    response = browser.post(login_url, data={"csrf_token": token, "username": CLERK,
                                             "password": STAFF_PASSWORD})
    assert response.status_code == 302, response.status_code
    mfa_url = response.headers["Location"]
    assert mfa_url.startswith("/counter/mfa?next=")
    response = browser.post(mfa_url, data={"csrf_token": csrf_token(browser, mfa_url),
                                           "code": code_at()})
    assert response.status_code == 302
    return response.headers["Location"]


def pick(browser: FlaskClient, act_url: str, public_id: str):  # type: ignore[no-untyped-def]
    return browser.post(act_url, data={"csrf_token": csrf_token(browser, act_url),
                                       "mandate": public_id})


def test_agent_signs_in_for_the_citizen_through_the_portals_own_button(
        app: Flask, scene: Scene) -> None:
    public_id = mandate(app, scene.citizen, scene.clerk)
    browser = app.test_client()
    request = auth_request(scene.portal)

    act_url = delegation_link(browser, request.url)
    response = browser.get(act_url)  # not signed in at the counter yet: its sign-in first
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert urlsplit(login_url).path == "/counter/login"
    assert parse_qs(urlsplit(login_url).query)["next"] == [act_url]

    assert counter_sign_in(browser, login_url) == act_url  # back to the list
    page = browser.get(act_url).get_data(as_text=True)
    assert "Nguyễn Văn An" in page and "•••••••••345" in page
    assert "001099012345" not in page  # never the whole ID number
    assert "Bảo hiểm xã hội" in page

    response = pick(browser, act_url, public_id)
    assert response.status_code == 303
    assert response.headers["Location"] == parse_qs(urlsplit(act_url).query)["next"][0]
    cookie = browser.get_cookie("postid_session") or browser.get_cookie("__Host-postid_session")
    assert cookie is not None
    with app.app_context():
        session = db.session.scalars(select(UserSession)).one()
        client = db.session.scalars(select(OAuthClient).filter_by(
            client_id=scene.portal.client_id)).one()
        row = db.session.scalars(select(Mandate).filter_by(public_id=public_id)).one()
        assert (session.account_id, session.mandate_id, session.acting_staff_id) == (
            scene.citizen, row.id, scene.clerk)
        assert session.delegated_client_pk == client.id and session.amr == "pwd otp mfa"
        assert session.token_hash == token_hash(cookie.value)  # the browser holds this session
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.tag == AuditTag.MANDATE_SIGN_IN.value)).one()
        assert (event.account_id, event.staff_id, event.office_id, event.session_id) == (
            scene.citizen, scene.clerk, scene.office, session.id)
        assert event.data["mandate"] == public_id and event.data["client"] == client.client_id

    # The authorization request continues with the citizen's delegated session.
    response = browser.get(response.headers["Location"])
    if response.status_code == 200:  # a consent page (under a mandate it is asked every time)
        action = consent_action(response.get_data(as_text=True))
        response = browser.post(action, data={"csrf_token": csrf_token(browser, request.url),
                                              "decision": "allow"})
    params = redirect_params(response)
    assert params["state"] == request.params["state"] and "code" in params
    tokens = exchange(app.test_client(), scene.portal, params["code"], request.verifier).json
    assert tokens is not None and "access_token" in tokens
    info = app.test_client().get("/userinfo", headers={
        "Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200 and info.json is not None
    assert info.json["name"] == "Nguyễn Văn An"


def test_the_sign_in_page_of_a_portal_not_accepting_delegation_has_no_staff_link(
        app: Flask, scene: Scene) -> None:
    browser = app.test_client()
    login = browser.get(auth_request(scene.closed).url).headers["Location"]
    page = browser.get(login).get_data(as_text=True)
    assert "/counter/act" not in page and "Nhân viên bưu cục" not in page
    plain = browser.get("/login").get_data(as_text=True)  # no portal waiting: no link either
    assert "/counter/act" not in plain


def test_a_first_sign_in_with_the_set_up_code_comes_back_too(app: Flask, scene: Scene) -> None:
    with app.app_context():
        office = db.session.get(PostOffice, scene.office)
        staff_id = new_clerk(office, username="clerk-new", national_id="001085000009").id
    browser = app.test_client()
    act_url = delegation_link(browser, auth_request(scene.portal).url)
    login_url = browser.get(act_url).headers["Location"]
    response = browser.post(login_url, data={"csrf_token": csrf_token(browser, login_url),
                                             "username": "clerk-new", "password": STAFF_PASSWORD})
    enrol_url = response.headers["Location"]
    assert enrol_url.startswith("/counter/mfa/enrol?next=")
    response = browser.post(enrol_url, data={"csrf_token": csrf_token(browser, enrol_url),
                                             "code": STAFF_SETUP_CODE})
    assert response.headers["Location"] == enrol_url
    with app.app_context():
        secret = signin.pending_secret(db.session.get(StaffMember, staff_id))
    response = browser.post(enrol_url, data={"csrf_token": csrf_token(browser, enrol_url),
                                             "code": code_at(secret=secret)})
    assert response.status_code == 302 and response.headers["Location"] == act_url


def test_a_citizen_session_already_in_the_browser_is_ended_not_kept(app: Flask, scene: Scene) -> None:
    """The counter's browser may still hold someone's session (the last citizen's, or the
    agent's own): the sign-in for this citizen replaces it, as every sign-in does."""
    public_id = mandate(app, scene.citizen, scene.clerk)
    browser = console_client(app, scene.clerk)
    sign_in(browser, identifier="079303001234")  # the second citizen, on their own
    act_url = "/counter/act?" + urlencode({"next": auth_request(scene.portal).url})
    assert pick(browser, act_url, public_id).status_code == 303
    with app.app_context():
        rows = db.session.scalars(select(UserSession).order_by(UserSession.id)).all()
        old, new = rows
        assert old.account_id == scene.second and old.revoked_at is not None
        assert new.account_id == scene.citizen and new.revoked_at is None and new.mandate_id
