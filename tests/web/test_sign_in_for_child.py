"""A guardian signs in to a delegating portal for their child under 14, through HTTP as a
browser does it: the sign-in page's link, /login/for-child, the child's session bound to the
portal in the cookie; refused from the 14th birthday; /account/children."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditEvent,
    Guardianship,
    OAuthClient,
    StaffMember,
    UserSession,
)
from idp.services.platform.secrets import token_hash
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.guardian_factories import (
    birthdate_turning_14_in,
    linked_child,
    registered_child,
    turning_14_today,
    verified_parent,
)
from tests.oidc.flow import auth_request, registered_portal, sign_in
from tests.staff_factories import enrolled_clerk, post_office

SESSION_COOKIE = "postid_session"
FOR_CHILD = "/login/for-child"


@pytest.fixture
def family(app: Flask) -> dict[str, object]:
    """A verified parent with two children: Mai (14 tomorrow) and Lan (14 today)."""
    with app.test_request_context():
        clerk = enrolled_clerk(post_office())
        parent = verified_parent()
        mai = linked_child(clerk, parent, birthdate_turning_14_in(1))
        lan = linked_child(clerk, parent, birthdate_turning_14_in(2), full_name="Trần Thị Lan",
                               serial="054321")
        turning_14_today(lan)
        return {"parent": parent.id, "clerk": clerk.id, "mai": mai.public_id, "lan": lan.public_id,
                "mai_child": mai.child_account_id, "mai_link": mai.id}


@pytest.fixture
def portal(app: Flask):  # type: ignore[no-untyped-def]
    portal = registered_portal(app)
    with app.app_context():
        client = db.session.scalar(select(OAuthClient).where(
            OAuthClient.client_id == portal.client_id))
        client.accepts_delegation = True
        db.session.commit()
    return portal


def cookie(client: FlaskClient) -> str | None:
    found = client.get_cookie(SESSION_COOKIE)
    return found.value if found else None


def session_of(app: Flask, token: str | None) -> UserSession | None:
    with app.app_context():
        session = db.session.scalar(select(UserSession).where(
            UserSession.token_hash == token_hash(token or "")))
        if session is not None:
            db.session.expunge(session)
        return session


def pick(client: FlaskClient, child: str, next_url: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"{FOR_CHILD}?next={quote(next_url)}")
    return client.post(FOR_CHILD, data={"csrf_token": token, "child": child, "next": next_url})


def audit_tags(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))


def test_the_sign_in_page_links_to_it_only_for_a_delegating_portal(app, client, portal):
    url = auth_request(portal).url
    page = client.get("/login?next=" + quote(url)).get_data(as_text=True)
    assert "/login/for-child?next=" in page
    with app.app_context():
        db.session.scalar(select(OAuthClient)).accepts_delegation = False
        db.session.commit()
    page = client.get("/login?next=" + quote(url)).get_data(as_text=True)
    assert "/login/for-child" not in page


def test_a_guardian_already_signed_in_finds_the_link_on_the_consent_page(app, client, portal,
                                                                         family):
    """Signed in already, the guardian never sees the sign-in page: the consent page offers
    the same way in, resuming this request; a portal not accepting delegation offers none."""
    url = auth_request(portal).url
    sign_in(client)
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="decision"' in html
    link = re.search(r'href="(/login/for-child\?next=[^"]+)"', html)
    assert link is not None
    back = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["next"][0]
    assert back.startswith("/authorize?") and parse_qs(urlsplit(back).query)["client_id"] == [
        portal.client_id]
    assert client.get(link.group(1).replace("&amp;", "&")).status_code == 200
    with app.app_context():
        db.session.scalar(select(OAuthClient)).accepts_delegation = False
        db.session.commit()
    assert "/login/for-child" not in client.get(url).get_data(as_text=True)


def test_signed_out_it_goes_to_the_sign_in_page_and_back(client, portal, family):
    url = auth_request(portal).url
    response = client.get(f"{FOR_CHILD}?next={quote(url)}")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    back = parse_qs(location.query)["next"][0]
    assert back.startswith(FOR_CHILD + "?next=")
    signed_in = client.post("/login", data={"csrf_token": csrf_token(client), "next": back,
                                            "identifier": "001099012345", "password": PASSWORD})
    assert (signed_in.status_code, signed_in.headers["Location"]) == (302, back)
    page = client.get(back)
    assert page.status_code == 200 and family["mai"] in page.get_data(as_text=True)


def test_the_guardian_signs_in_for_the_child_bound_to_the_portal(app, client, portal, family):
    url = auth_request(portal).url
    sign_in(client)
    own = cookie(client)
    page = client.get(f"{FOR_CHILD}?next={quote(url)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert family["mai"] in html and "Nguyễn Thị Mai" in html
    assert family["lan"] not in html  # 14 today: the link no longer grants
    response = pick(client, family["mai"], url)
    assert response.status_code == 302 and response.headers["Location"] == url
    child_session = session_of(app, cookie(client))
    assert child_session is not None
    with app.app_context():
        client_pk = db.session.scalar(select(OAuthClient.id))
    assert (child_session.account_id, child_session.guardianship_id,
            child_session.delegated_client_pk, child_session.amr) == (
        family["mai_child"], family["mai_link"], client_pk, "pwd")
    assert child_session.loa == 2
    expires = child_session.expires_at.replace(tzinfo=UTC) \
        if child_session.expires_at.tzinfo is None else child_session.expires_at
    assert expires <= datetime.now(UTC) + timedelta(hours=1, seconds=5)
    guardian_session = session_of(app, own)
    assert guardian_session is not None and guardian_session.revoked_at is not None
    assert audit_tags(app)[-1] == "guardian.sign_in"
    # The child's session cannot pick again: the guardian's own sign-in is asked for first.
    again = client.get(f"{FOR_CHILD}?next={quote(url)}")
    assert again.status_code == 302 and urlsplit(again.headers["Location"]).path == "/login"
    # ...and the sign-in page asks for it (no "already signed in as" the child, which would
    # lead back here for ever); the guardian's sign-in replaces the child's session.
    login = client.get(again.headers["Location"]).get_data(as_text=True)
    assert 'name="identifier"' in login and "Nguyễn Thị Mai" not in login
    back = parse_qs(urlsplit(again.headers["Location"]).query)["next"][0]
    signed_in = client.post("/login", data={"csrf_token": csrf_token(client), "next": back,
                                            "identifier": "001099012345", "password": PASSWORD})
    assert (signed_in.status_code, signed_in.headers["Location"]) == (302, back)
    assert session_of(app, cookie(client)).guardianship_id is None  # type: ignore[union-attr]


def test_a_child_turned_14_today_is_refused_and_nothing_opens(app, client, portal, family):
    url = auth_request(portal).url
    sign_in(client)
    own = cookie(client)
    with app.app_context():
        sessions_before = db.session.scalar(select(func.count()).select_from(UserSession))
    response = pick(client, family["lan"], url)
    assert response.status_code == 403
    assert cookie(client) == own
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == sessions_before
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.tag, event.data["reason"]) == ("guardian.sign_in.refused", "child_turned_14")
        assert event.actor_id == family["parent"]


def test_a_link_the_parent_has_not_confirmed_grants_nothing(app, client, portal, family):
    with app.test_request_context():
        pending = registered_child(db.session.get(StaffMember, family["clerk"]),
                                   db.session.get(Account, family["parent"]),
                                   full_name="Trần Thị Hoa", serial="054999")
        assert pending.confirmed_at is None and pending.child.status is AccountStatus.MINOR
        public_id = pending.public_id
    url = auth_request(portal).url
    sign_in(client)
    own = cookie(client)
    response = pick(client, public_id, url)
    assert response.status_code == 403
    assert cookie(client) == own
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.tag, event.data["reason"]) == ("guardian.sign_in.refused",
                                                     "guardianship_not_confirmed")
    assert public_id not in client.get(FOR_CHILD + "?next=" + quote(url)).get_data(as_text=True)


def test_someone_elses_child_and_garbage_are_refused(app, client, portal, family):
    url = auth_request(portal).url
    sign_in(client)
    for junk in ("", "x" * 500, "nope", "\x00"):
        assert pick(client, junk, url).status_code == 403
    assert pick(client, family["mai"], "https://evil.example/").status_code == 400
    assert client.post(FOR_CHILD, data={"child": family["mai"], "next": url}).status_code == 400
    assert client.get(FOR_CHILD).status_code == 400
    assert "guardian.sign_in" not in audit_tags(app)


def test_a_portal_not_accepting_delegation_is_refused(app, client, portal, family):
    url = auth_request(portal).url
    with app.app_context():
        db.session.scalar(select(OAuthClient)).accepts_delegation = False
        db.session.commit()
    sign_in(client)
    assert family["mai"] not in client.get(f"{FOR_CHILD}?next={quote(url)}").get_data(as_text=True)
    assert pick(client, family["mai"], url).status_code == 403


def test_the_guardian_sees_their_children_and_until_when(app, client, family):
    sign_in(client)
    page = client.get("/account/children")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Nguyễn Thị Mai" in html and "Trần Thị Lan" in html
    assert re.search(r"14", html)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Guardianship)) == 2
    assert 'href="/account/children"' in client.get("/account").get_data(as_text=True)


def test_registering_with_a_childs_id_number_is_a_duplicate_and_warns_nobody(app, client, family):
    from idp.models import Account, OutboxMessage
    from idp.services.identity import registration
    from idp.services.identity.accounts import CitizenDetails

    with app.test_request_context():
        kid = db.session.get(Account, family["mai_child"])
        details = CitizenDetails(national_id=kid.national_id, full_name=kid.full_name,
                                 birthdate=kid.birthdate, gender=kid.gender.value,
                                 phone="0977123456", email=None)
        before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        registration.start(details, "blue mango river lantern")
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == before
        assert db.session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id.desc())).first() \
            == "registration.duplicate"


def test_recovery_for_a_childs_id_number_sends_nothing(app, client, family):
    from idp.models import Account, OutboxMessage

    with app.app_context():
        number = db.session.get(Account, family["mai_child"]).national_id
        before = db.session.scalars(select(OutboxMessage.account_id)).all()
    response = client.post("/recover", data={"csrf_token": csrf_token(client, "/recover"),
                                             "identifier": number})
    assert response.status_code in (200, 302, 303)
    with app.app_context():
        sent = db.session.scalars(select(OutboxMessage.account_id)).all()
        assert family["mai_child"] not in sent[len(before):]
