"""A parent's link to a child is pending until the parent confirms it with their own
authentication (docs/architecture.md §14): the SMS code typed at the counter (API and
console), or the approval on their own phone at /account/children. The parent's ID card is
checked as in a verification. Exact statuses, `error` values and what was (not) stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AuditEvent, Guardianship, OutboxMessage, StaffMember
from tests.conftest import csrf_token
from tests.counter.helpers import api_headers, console_client
from tests.counter.test_guardians_api import BODY, URL
from tests.counter.test_guardians_console import FORM, NEW
from tests.counter.test_openapi import assert_documented, document
from tests.factories import last_sent
from tests.guardian_factories import registered_child, verified_parent
from tests.oidc.flow import sign_in
from tests.staff_factories import enrolled_clerk, post_office

CODE_RE = r"\b(\d{6})\b"
TEMPLATE = "guardian.confirm_code"


@pytest.fixture
def clerk(app: Flask) -> int:
    with app.app_context():
        return enrolled_clerk(post_office()).id


@pytest.fixture
def headers(app: Flask, clerk: int) -> dict[str, str]:
    return api_headers(app, clerk)


@pytest.fixture
def parent(app: Flask) -> int:
    with app.app_context():
        return verified_parent().id


def call(client, method: str, url: str, doc_path: str, headers, **kwargs):  # type: ignore[no-untyped-def]
    response = getattr(client, method)(url, headers=headers, **kwargs)
    assert_documented(document(), method, doc_path, response)
    return response


def link_of(app: Flask, public_id: str) -> Guardianship:
    with app.app_context():
        link = db.session.scalar(select(Guardianship).where(Guardianship.public_id == public_id))
        db.session.expunge(link)
        return link


def tags(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_registered_pending_then_confirmed_with_the_parents_code(app, client, headers, parent):
    made = call(client, "post", URL, URL, headers, json=BODY)
    assert made.status_code == 201
    assert (made.json["confirmed"], made.json["code_sent"], made.json["resend_in"]) == (
        False, False, 0)
    public_id = made.json["public_id"]
    link = link_of(app, public_id)
    assert (link.document_type.value, link.document_number) == ("can_cuoc", "001099012345")
    with app.app_context():  # nothing sent yet: the clerk asks for the code
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.template.like("guardian.%"))) == 0
    one, doc = f"{URL}/{public_id}", "/counter/api/children/{public_id}"
    sent = call(client, "post", f"{one}/send-code", f"{doc}/send-code", headers)
    assert sent.status_code == 200 and (sent.json["sent"], sent.json["code_sent"]) == (True, True)
    again = call(client, "post", f"{one}/send-code", f"{doc}/send-code", headers, json={})
    assert again.status_code == 200 and again.json["sent"] is False
    with app.app_context():
        [sms] = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == TEMPLATE)).all()
        assert sms.account_id == parent and "Mai" in sms.body
    code = last_sent(app, TEMPLATE, CODE_RE)
    bad = call(client, "post", f"{one}/confirm", f"{doc}/confirm", headers,
               json={"code": wrong(code)})
    assert (bad.status_code, bad.json["error"]) == (400, "wrong_code")
    assert link_of(app, public_id).confirmed_at is None
    done = call(client, "post", f"{one}/confirm", f"{doc}/confirm", headers, json={"code": code})
    assert done.status_code == 200
    assert (done.json["confirmed"], done.json["confirmed_by"]) == (True, "sms_code")
    retry = call(client, "post", f"{one}/confirm", f"{doc}/confirm", headers, json={"code": code})
    assert retry.status_code == 200 and retry.json["confirmed_at"] == done.json["confirmed_at"]
    shown = call(client, "get", one, doc, headers)
    assert shown.json["confirmed"] is True and shown.json["resend_in"] is None
    assert tags(app).count("guardian.confirm") == 1
    assert tags(app).count("guardian.confirm.failure") == 1
    assert last_sent(app, "guardian.linked", r"(Mai)") == "Mai"


def test_five_wrong_codes_use_the_code_up(app, client, headers, parent):
    public_id = call(client, "post", URL, URL, headers, json=BODY).json["public_id"]
    one, doc = f"{URL}/{public_id}", "/counter/api/children/{public_id}"
    call(client, "post", f"{one}/send-code", f"{doc}/send-code", headers)
    code = last_sent(app, TEMPLATE, CODE_RE)
    errors = [call(client, "post", f"{one}/confirm", f"{doc}/confirm", headers,
                   json={"code": wrong(code)}).json["error"] for _ in range(5)]
    assert errors == ["wrong_code"] * 4 + ["code_used_up"]
    last = call(client, "post", f"{one}/confirm", f"{doc}/confirm", headers, json={"code": code})
    assert (last.status_code, last.json["error"]) == (409, "code_used_up")
    assert link_of(app, public_id).confirmed_at is None
    more = call(client, "post", f"{one}/send-code", f"{doc}/send-code", headers)
    assert (more.status_code, more.json["error"]) == (409, "no_more_codes")


def test_confirm_refusals(app, client, headers, parent):
    public_id = call(client, "post", URL, URL, headers, json=BODY).json["public_id"]
    one, doc = f"{URL}/{public_id}", "/counter/api/children/{public_id}"
    early = call(client, "post", f"{one}/confirm", f"{doc}/confirm", headers,
                 json={"code": "123456"})
    assert (early.status_code, early.json["error"]) == (409, "code_not_sent")
    for junk in ("x" * 22, "nope"):
        missing = call(client, "get", f"{URL}/{junk}", doc, headers)
        assert (missing.status_code, missing.json["error"]) == (404, "not_found")
    assert call(client, "post", f"{one}/confirm", f"{doc}/confirm", headers,
                json={"code": 7}).status_code == 400
    with app.app_context():
        other = enrolled_clerk(post_office(code="HCM-SG", name="Sài Gòn", province_code="79"),
                               national_id="079090000011").id
    elsewhere = call(client, "get", one, doc, api_headers(app, other))
    assert (elsewhere.status_code, elsewhere.json["error"]) == (404, "not_found")
    call(client, "post", f"{one}/send-code", f"{doc}/send-code", headers)
    code = last_sent(app, TEMPLATE, CODE_RE)
    with app.app_context():  # the parent comes back the next day: the link has lapsed
        link = db.session.scalar(select(Guardianship).where(Guardianship.public_id == public_id))
        link.created_at -= timedelta(days=1)
        db.session.commit()
    late = call(client, "post", f"{one}/confirm", f"{doc}/confirm", headers, json={"code": code})
    assert (late.status_code, late.json["error"]) == (409, "day_passed")
    assert link_of(app, public_id).confirmed_at is None
    # Registering again the next day replaces the lapsed link: a new one, pending.
    again = call(client, "post", URL, URL, headers, json=BODY)
    assert again.status_code == 201 and again.json["public_id"] != public_id
    assert again.json["new_account"] is False


@pytest.mark.parametrize(("changes", "error"), [
    ({"document_number": "001099099999"}, "document.number_mismatch"),
    ({"photo_match": False}, "document.mismatch"),
    ({"expires_on": "2020-01-01", "issued_on": "2010-01-01"}, "document.expired"),
])
def test_the_parents_card_check_is_refused_and_nothing_is_stored(app, client, headers, parent,
                                                                 changes, error):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Guardianship))
    response = call(client, "post", URL, URL, headers, json={**BODY, **changes})
    assert (response.status_code, response.json["error"]) == (400, error)
    assert response.json["problems"][0]["code"] == error
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Guardianship)) == before
    missing = call(client, "post", URL, URL, headers,
                   json={k: v for k, v in BODY.items() if k != "photo_match"})
    assert (missing.status_code, missing.json["error"]) == (400, "invalid_request")


def test_the_parent_approves_on_their_own_phone(app, parent):
    with app.test_request_context():
        link = registered_child(enrolled_clerk(post_office()), db.session.get(Account, parent))
        public_id = link.public_id
    phone = app.test_client()
    sign_in(phone)
    page = phone.get("/account/children")
    assert page.status_code == 200 and public_id in page.get_data(as_text=True)
    token = csrf_token(phone, "/account/children")
    assert phone.post(f"/account/children/{public_id}/approve").status_code == 400  # no CSRF
    assert phone.post("/account/children/nope/approve",
                      data={"csrf_token": token}).status_code == 404
    done = phone.post(f"/account/children/{public_id}/approve", data={"csrf_token": token})
    assert (done.status_code, done.headers["Location"]) == (303, "/account/children?done=approved")
    link = link_of(app, public_id)
    assert (link.confirmed_at is not None, link.confirmed_by.value) == (True, "own_device")
    assert tags(app).count("guardian.confirm") == 1


def test_a_lapsed_link_cannot_be_approved_on_the_phone(app, parent):
    with app.test_request_context():
        link = registered_child(enrolled_clerk(post_office()), db.session.get(Account, parent))
        link.created_at -= timedelta(days=1)
        db.session.commit()
        public_id = link.public_id
    phone = app.test_client()
    sign_in(phone)
    assert public_id not in phone.get("/account/children").get_data(as_text=True)
    token = csrf_token(phone, "/account/children")
    response = phone.post(f"/account/children/{public_id}/approve", data={"csrf_token": token})
    assert response.status_code == 409
    assert link_of(app, public_id).confirmed_at is None
    assert tags(app)[-1] == "guardian.confirm.failure"


def test_the_console_sends_the_code_and_confirms(app, clerk, parent):
    console = console_client(app, clerk)
    made = console.post(NEW, data={**FORM, "csrf_token": csrf_token(console, NEW)})
    assert made.status_code == 303
    page_url = made.headers["Location"]
    public_id = page_url.rsplit("/", 1)[1]
    page = console.get(page_url)
    assert page.status_code == 200
    assert f"/counter/children/{public_id}/send-code" in page.get_data(as_text=True)
    token = csrf_token(console, page_url)
    sent = console.post(f"{page_url}/send-code", data={"csrf_token": token})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("?done=sent")
    code = last_sent(app, TEMPLATE, CODE_RE)
    bad = console.post(f"{page_url}/confirm", data={"csrf_token": token, "code": wrong(code)})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert console.post(f"{page_url}/confirm", data={"csrf_token": "x", "code": code}
                        ).status_code == 400
    done = console.post(f"{page_url}/confirm", data={"csrf_token": token, "code": code})
    assert done.status_code == 303 and done.headers["Location"].endswith("?done=confirmed")
    assert link_of(app, public_id).confirmed_by.value == "sms_code"
    with app.app_context():
        staff = db.session.get(StaffMember, clerk)
        [event] = db.session.scalars(select(AuditEvent).where(
            AuditEvent.tag == "guardian.confirm")).all()
        assert (event.staff_id, event.office_id, event.actor_id) == (staff.id, staff.office_id,
                                                                     parent)


def test_a_delegated_session_cannot_approve(app, parent):
    """Only the parent's own session approves: a session opened for a child (delegated) is
    refused by the service even if a page let it through."""
    from idp.errors import Refusal
    from idp.models import UserSession
    from idp.services.identity import guardian_confirmation
    with app.test_request_context():
        link = registered_child(enrolled_clerk(post_office()), db.session.get(Account, parent))
        session = UserSession(account_id=parent, guardianship_id=link.id)
        with pytest.raises(Refusal) as caught:
            guardian_confirmation.approve(session, link.public_id)
        assert (caught.value.code, caught.value.status) == ("guardian.delegated", 403)
        db.session.refresh(link)
        assert link.confirmed_at is None
