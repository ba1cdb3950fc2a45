"""What /register tells a first-time user: why no code may come, a name typed
without accents, the ID-number rule where its error appears, a date that does not exist, and a
person who is already signed in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import PendingRegistration
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen
from tests.web.register.test_register import _shape, count, register

NO_CODE_VI = "Chưa nhận được mã sau vài phút?"


def test_the_code_page_explains_a_missing_code_the_same_way_for_everyone(app):
    with app.app_context():
        active_citizen()  # 001099012345, 0912 345 678
    pages = []
    for changes in ({}, {"phone": "0912 345 678"},
                    {"national_id": "001099012345", "full_name": "Nguyễn Văn An",
                     "birthdate": "1999-05-17", "gender": "male"}):
        client = app.test_client()
        pages.append(_shape(client, register(client, **changes))[3])
    assert pages[0] == pages[1] == pages[2]
    text = pages[0]
    assert NO_CODE_VI in text
    assert "dùng chung" in text  # a shared phone
    assert 'href="/login"' in text and 'href="/recover"' in text and 'href="/register"' in text


def test_a_name_without_accents_is_asked_to_be_confirmed(app, client):
    response = register(client, full_name="Tran Thi Bich Ngoc")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="full_name-error"' in page and "Nguyễn Văn An" in page
    assert 'name="name_without_marks"' in page
    assert count(app, PendingRegistration) == 0

    confirmed = register(client, full_name="Tran Thi Bich Ngoc", name_without_marks="y")
    assert confirmed.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(PendingRegistration.full_name)) == "Tran Thi Bich Ngoc"


def test_a_name_with_accents_needs_no_extra_step(client):
    assert 'name="name_without_marks"' not in client.get("/register").get_data(as_text=True)
    assert register(client).status_code == 303


@pytest.mark.parametrize("changes,explains", [
    # 079303…: 4th digit 3 = a woman born 2000 or later; declared male.
    ({"gender": "male"}, "Chữ số thứ 4 của số định danh cho biết giới tính"),
    # Digits 5-6 are 03: born 2003; declared 2004.
    ({"birthdate": "2004-02-01"}, "chữ số thứ 5 và 6"),
])
def test_an_id_number_mismatch_explains_the_rule(app, client, changes, explains):
    response = register(client, **changes)
    assert response.status_code == 400
    error = re.search(r'id="national_id-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert explains in error.group(1)
    assert count(app, PendingRegistration) == 0


@pytest.mark.parametrize("birthdate", ["31/02/2003", "29/02/2003", "31/04/2003", "2003-02-30"])
def test_a_date_that_does_not_exist_is_called_so(app, client, birthdate):
    response = register(client, birthdate=birthdate)
    assert response.status_code == 400
    error = re.search(r'id="birthdate-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert "Ngày này không có" in error.group(1)
    assert count(app, PendingRegistration) == 0


@pytest.mark.parametrize("birthdate", ["31-02-2003", "1/2/03", "hôm qua"])
def test_a_date_in_another_shape_gets_the_format_hint(client, birthdate):
    response = register(client, birthdate=birthdate)
    error = re.search(r'id="birthdate-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert response.status_code == 400 and "nn/tt/nnnn" in error.group(1)  # ngày/tháng/năm


def test_a_leap_day_is_a_date(client):
    assert register(client, birthdate="29/02/2004", national_id="079304001234").status_code == 303


def test_a_signed_in_person_is_told_so_instead_of_an_empty_form(app, client):
    with app.app_context():
        active_citizen()
    login = client.post("/login", data={"csrf_token": csrf_token(client), "identifier":
                                        "001099012345", "password": PASSWORD})
    assert login.status_code == 302
    page = client.get("/register")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Nguyễn Văn An" in text and 'href="/account"' in text
    assert 'action="/logout"' in text
    assert 'name="national_id"' not in text


def test_a_visitor_gets_the_form(client):
    text = client.get("/register").get_data(as_text=True)
    assert 'name="national_id"' in text and 'action="/logout"' not in text


@pytest.mark.parametrize("birthdate", ["1/1/0000", "0000-05-17", "31/02/0000"])
def test_year_0000_is_called_a_wrong_year(app, client, birthdate):
    response = register(client, birthdate=birthdate)
    assert response.status_code == 400
    error = re.search(r'id="birthdate-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert "Không có năm 0000" in error.group(1) and "Ngày này không có" not in error.group(1)
    assert count(app, PendingRegistration) == 0


def _signed_in(app, client):  # type: ignore[no-untyped-def]
    with app.app_context():
        active_citizen()
    login = client.post("/login", data={"csrf_token": csrf_token(client), "identifier":
                                        "001099012345", "password": PASSWORD})
    assert login.status_code == 302


@pytest.mark.parametrize("changes", [{}, {"full_name": "", "birthdate": "31/02/2003"}])
def test_a_signed_in_person_cannot_register_and_nothing_is_stored(app, client, changes):
    from idp.models import OutboxMessage

    _signed_in(app, client)
    with app.app_context():
        messages = db.session.scalar(select(db.func.count(OutboxMessage.id)))
    response = register(client, **changes)
    assert response.status_code == 303 and response.headers["Location"] == "/register"
    assert count(app, PendingRegistration) == 0
    with app.app_context():
        assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == messages
    page = client.get("/register").get_data(as_text=True)
    assert "Nguyễn Văn An" in page and 'action="/logout"' in page


def test_signing_in_before_the_code_keeps_that_session(app, client):
    from idp.models import Account
    from tests.web.register.test_register import confirm, latest_code

    assert register(client).status_code == 303  # a registration started while signed out
    _signed_in(app, client)
    response = confirm(client, latest_code(app))
    assert response.status_code == 303 and response.headers["Location"] == "/register"
    assert count(app, Account) == 1  # no account for the registration
    assert "Nguyễn Văn An" in client.get("/account").get_data(as_text=True)
