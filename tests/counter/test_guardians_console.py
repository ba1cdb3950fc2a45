"""A child under 14 registered under a verified parent through the counter console
(/counter/children/new), and a young person's own account activated from the 14th birthday
(/counter/children/activate). Exact statuses and what was (not) stored."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditEvent,
    Guardianship,
    OutboxMessage,
    StaffMember,
)
from idp.services.platform.clock import today_in_vietnam
from tests.conftest import csrf_token
from tests.counter.helpers import console_client
from tests.guardian_factories import (
    birthdate_turning_14_in,
    child_number,
    registered_child,
    second_verified_parent,
    turning_14_today,
    verified_parent,
)
from tests.staff_factories import enrolled_clerk, post_office

NEW = "/counter/children/new"
ACTIVATE = "/counter/children/activate"
FORM = {
    "guardian_national_id": "0010 9901 2345", "national_id": child_number(date(2018, 3, 9)),
    "full_name": "Nguyễn Thị Mai", "birthdate": "09/03/2018", "gender": "female",
    "certificate_number": "123/2018/KS", "certificate_issued_on": "20/03/2018",
    "certificate_matches": "y",
    # The parent's ID card, checked as in a verification.
    "document_type": "can_cuoc", "document_number": "001099012345",
    "issued_on": (today_in_vietnam() - timedelta(days=300)).strftime("%d/%m/%Y"),
    "expires_on": (today_in_vietnam() + timedelta(days=3650)).strftime("%d/%m/%Y"),
    "name_match": "y", "birthdate_match": "y", "sex_match": "y", "photo_match": "y",
}
DONE_RE = re.compile(r"^/counter/children/([A-Za-z0-9_-]{22})(\?again=1)?$")


@pytest.fixture
def clerk(app: Flask) -> int:
    with app.app_context():
        return enrolled_clerk(post_office()).id


@pytest.fixture
def console(app: Flask, clerk: int):
    return console_client(app, clerk)


@pytest.fixture
def parent(app: Flask) -> int:
    with app.app_context():
        return verified_parent().id


def post_form(console, path=NEW, form=None, **changes):  # type: ignore[no-untyped-def]
    data = {**(form or FORM), "csrf_token": csrf_token(console, path), **changes}
    return console.post(path, data={k: v for k, v in data.items() if v is not None})


def stored(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))  # type: ignore[return-value]
                     for m in (Account, Guardianship, OutboxMessage))


def test_the_form_and_the_links_to_it(console):
    page = console.get(NEW)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in FORM:
        assert f'name="{name}"' in html
    assert 'href="/counter/children/new"' in console.get("/counter/").get_data(as_text=True)


def test_a_child_is_registered_and_the_result_page_shows_the_link(app, console, parent):
    response = post_form(console)
    assert response.status_code == 303
    match = DONE_RE.match(response.headers["Location"])
    assert match and match.group(2) is None
    page = console.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Nguyễn Thị Mai" in html and "Nguyễn Văn An" in html
    with app.app_context():
        kid = db.session.scalar(select(Account).where(Account.national_id == FORM["national_id"]))
        assert (kid.status, kid.phone) == (AccountStatus.MINOR, None)
    again = post_form(console)
    assert again.status_code == 303 and again.headers["Location"].endswith("?again=1")
    assert stored(app) == (2, 1, 1)  # the parent's account SMS; none until the code is asked for


@pytest.mark.parametrize(("changes", "field"), [
    ({"birthdate": "01/01/2010", "national_id": child_number(date(2010, 1, 1))}, "birthdate"),
    ({"birthdate": (today_in_vietnam() + timedelta(days=2)).strftime("%d/%m/%Y")}, "birthdate"),
    ({"national_id": "12345"}, "national_id"),
    ({"gender": "male"}, "national_id"),
    ({"certificate_matches": None}, "certificate_matches"),
    ({"certificate_issued_on": "31/02/2018"}, "certificate_issued_on"),
    ({"guardian_national_id": ""}, "guardian_national_id"),
    ({"full_name": "x" * 500}, "full_name"),
])
def test_bad_input_is_400_with_the_field_marked_and_nothing_stored(app, console, parent, changes,
                                                                   field):
    before = stored(app)
    response = post_form(console, **changes)
    assert response.status_code == 400
    assert f'id="{field}"' in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert stored(app) == before


def test_refusals_have_their_status_and_store_nothing(app, console, clerk):
    before = stored(app)
    assert post_form(console).status_code == 409  # no verified parent
    with app.app_context():
        verified_parent()
        second_verified_parent()
    assert post_form(console).status_code == 303
    third = post_form(console, guardian_national_id="079303001234",
                      document_number="079303001234")
    assert third.status_code == 303  # the second parent
    with app.app_context():
        verified_parent(national_id="001088012345", phone="0911000222", email=None,
                        birthdate=date(1988, 1, 1))
    before = stored(app)
    response = post_form(console, guardian_national_id="001088012345",
                         document_number="001088012345")
    assert response.status_code == 409
    assert stored(app) == before
    with app.app_context():
        own_id = db.session.get(StaffMember, clerk).national_id
    assert post_form(console, guardian_national_id=own_id).status_code == 403


def test_garbage_never_gives_a_500(console, parent):
    for junk in ({"birthdate": "\x00"}, {"national_id": "１２３"}, {"gender": "x" * 40},
                 {"certificate_number": "\u202e" * 40}, {"certificate_issued_on": "9999-99-99"}):
        assert post_form(console, **junk).status_code == 400
    assert console.post(NEW, data={"csrf_token": "nope"}).status_code == 400
    assert console.get("/counter/children/" + "x" * 22).status_code == 404
    assert console.get("/counter/children/nope").status_code == 404


def test_another_offices_result_page_is_404(app, console, parent):
    location = post_form(console).headers["Location"]
    with app.app_context():
        other = enrolled_clerk(post_office(code="HCM-SG", name="Sài Gòn", province_code="79"),
                               national_id="079090000011").id
    assert console_client(app, other).get(location).status_code == 404


# --- from the 14th birthday --------------------------------------------------------------------

def activation_form(kid: dict[str, str], **changes: str) -> dict[str, str]:
    today = today_in_vietnam()
    return {"national_id": kid["national_id"], "full_name": kid["full_name"],
            "birthdate": kid["birthdate"], "gender": kid["gender"], "phone": "0977 123 456",
            "email": "", "document_type": "can_cuoc", "document_number": kid["national_id"],
            "issued_on": (today - timedelta(days=3)).strftime("%d/%m/%Y"),
            "expires_on": (today + timedelta(days=3650)).strftime("%d/%m/%Y"), "photo_match": "y",
            "province_code": "", "ward": "", "street": "", **changes}


def minor(app: Flask, clerk: int, *, turned_14: bool) -> dict[str, str]:
    with app.test_request_context():
        staff = db.session.get(StaffMember, clerk)
        link = registered_child(staff, verified_parent(), birthdate_turning_14_in(1))
        if turned_14:
            turning_14_today(link)
        kid = link.child
        return {"national_id": kid.national_id, "full_name": kid.full_name,
                "birthdate": kid.birthdate.strftime("%d/%m/%Y"), "gender": kid.gender.value}


def test_at_14_the_clerk_activates_the_young_persons_own_account(app, console, clerk):
    kid = minor(app, clerk, turned_14=True)
    assert console.get(ACTIVATE).status_code == 200
    response = post_form(console, ACTIVATE, activation_form(kid))
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/counter/register/")
    assert console.get(response.headers["Location"]).status_code == 200
    with app.app_context():
        account = db.session.scalar(select(Account).where(
            Account.national_id == kid["national_id"]))
        assert (account.status, account.phone) == (AccountStatus.PENDING_ACTIVATION,
                                                   "+84977123456")
        link = db.session.scalar(select(Guardianship))
        assert link.end_reason == "turned_14"
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.tag == "guardian.link.end")) == 1


def test_before_14_the_activation_is_refused(app, console, clerk):
    kid = minor(app, clerk, turned_14=False)
    before = stored(app)
    response = post_form(console, ACTIVATE, activation_form(kid))
    assert response.status_code == 409
    assert stored(app) == before
    assert post_form(console, ACTIVATE, activation_form(
        kid, full_name="Nguyễn Thị Lan")).status_code == 404
    assert post_form(console, ACTIVATE, activation_form(kid, photo_match="")).status_code == 400
