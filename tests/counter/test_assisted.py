"""Assisted registration through HTTP: the counter console (/counter/register) and the counter
API (POST /counter/api/registrations). Exact statuses, error values and what was stored."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditEvent,
    IdentityVerification,
    OutboxMessage,
    VerificationStatus,
)
from tests.conftest import csrf_token
from tests.counter.helpers import api_headers, console_client
from tests.factories import active_citizen
from tests.staff_factories import enrolled_clerk, post_office

FORM = {
    "national_id": "001099012345", "full_name": "Nguyễn Văn An", "birthdate": "17/05/1999",
    "gender": "male", "phone": "0912 345 678", "email": "", "document_type": "can_cuoc",
    "document_number": "0010 9901 2345", "issued_on": "01/06/2021", "expires_on": "17/05/2039",
    "photo_match": "y", "province_code": "", "ward": "", "street": "",
}
BODY = {
    "national_id": "001099012345", "full_name": "Nguyễn Văn An", "birthdate": "1999-05-17",
    "gender": "male", "phone": "+84912345678", "email": None, "document_type": "can_cuoc",
    "document_number": "001099012345", "issued_on": "2021-06-01", "expires_on": "2039-05-17",
    "photo_match": True,
    "address": {"province_code": "01", "ward": "Phường Hoàn Kiếm", "street": "12 Hàng Bài"},
}
DONE_RE = re.compile(r"^/counter/register/([A-Za-z0-9_-]{22})(\?again=1)?$")


@pytest.fixture
def clerk(app: Flask) -> int:
    with app.app_context():
        return enrolled_clerk(post_office()).id


@pytest.fixture
def console(app: Flask, clerk: int):
    return console_client(app, clerk)


def post_form(console, **changes: str):  # type: ignore[no-untyped-def]
    data = {**FORM, "csrf_token": csrf_token(console, "/counter/register"), **changes}
    return console.post("/counter/register", data={k: v for k, v in data.items() if v is not None})


def count(app: Flask, model: type, *where) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def nothing_stored(app: Flask) -> bool:
    return (count(app, Account) == count(app, IdentityVerification)
            == count(app, OutboxMessage) == 0)


# --- console ---------------------------------------------------------------------------------


def test_form_page_lists_every_field_and_what_happens_next(console):
    page = console.get("/counter/register")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("national_id", "full_name", "birthdate", "gender", "phone", "email",
                 "document_type", "document_number", "issued_on", "expires_on", "no_expiry",
                 "photo_match", "province_code", "ward", "street"):
        assert f'name="{name}"' in html
    assert 'name="name_match"' not in html  # typed from the card: matches by construction
    assert 'aria-current="page"' in html and "Lê Thị Quầy" in html


def test_walk_in_is_registered_and_the_done_page_says_what_next(app, console, clerk):
    response = post_form(console, province_code="01", ward="Phường Hoàn Kiếm", street="12 Hàng Bài")
    assert response.status_code == 303
    public_id = DONE_RE.match(response.headers["Location"]).group(1)
    with app.app_context():
        verification = db.session.scalar(select(IdentityVerification))
        assert verification.public_id == public_id and verification.clerk_id == clerk
        assert verification.status is VerificationStatus.SUBMITTED and verification.assisted
        assert verification.verified_address["street"] == "12 Hàng Bài"
        account = db.session.get(Account, verification.account_id)
        assert account.status is AccountStatus.PENDING_ACTIVATION and account.password is None
        assert db.session.scalar(select(OutboxMessage.recipient)) == "+84912345678"
    page = console.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "09*****678" in html and "/activate" in html and "Nguyễn Văn An" in html


def test_every_problem_shows_in_one_round_and_nothing_is_stored(app, console):
    response = post_form(console, full_name="", phone="12345", birthdate="31/02/1999",
                         document_number="001099012399", issued_on="99/99/9999",
                         photo_match=None, province_code="01")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for field_id in ("full_name", "phone", "birthdate", "issued_on", "document_number",
                     "photo_match", "ward"):
        assert f'id="{field_id}-error"' in html
    assert nothing_stored(app)


def summary_targets(html: str) -> list[str]:
    summary = html[html.index('id="error-summary"'):]
    return re.findall(r'href="#([a-z_]+)"', summary[:summary.index("</ul>")])


def test_the_error_summary_follows_the_order_of_the_page(console):
    response = post_form(console, national_id="", full_name="", birthdate="", gender="",
                         phone="", document_number="", issued_on="", photo_match=None,
                         province_code="01")
    assert response.status_code == 400
    targets = summary_targets(response.get_data(as_text=True))
    assert targets == ["national_id", "full_name", "birthdate", "gender", "phone",
                       "document_number", "issued_on", "photo_match", "ward", "street"]


def test_mismatch_messages_speak_to_the_clerk(app, console):
    console.set_cookie("postid_lang", "en")
    html = post_form(console, gender="female",
                     document_number="001099012399").get_data(as_text=True)
    assert "does not match the sex entered" in html
    assert "Check the number and the sex on the card." in html
    assert "not the ID number typed above" in html
    for citizen_words in ("the sex you chose", "your card", "the citizen declared"):
        assert citizen_words not in html
    assert nothing_stored(app)


def test_document_problems_are_field_errors(app, console):
    response = post_form(console, document_number="001099012399", expires_on="01/01/2024",
                         photo_match=None)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for field_id in ("document_number", "expires_on", "photo_match"):
        assert f'id="{field_id}-error"' in html
    assert nothing_stored(app)


def test_existing_account_gets_409_with_what_to_do(app, console):
    with app.app_context():
        active_citizen(phone="0983456789", email=None)
    response = post_form(console)
    assert response.status_code == 409
    assert "mã đăng ký xác minh" in response.get_data(as_text=True)
    assert count(app, Account) == 1 and count(app, IdentityVerification) == 0


def test_own_id_number_gets_403(app):
    with app.app_context():
        me = enrolled_clerk(post_office(), national_id="001099012345").id
    response = post_form(console_client(app, me))
    assert response.status_code == 403
    assert nothing_stored(app)


def test_a_double_submit_returns_the_first_registration(app, console):
    first = post_form(console)
    second = post_form(console)
    assert second.status_code == 303
    assert DONE_RE.match(first.headers["Location"]).group(1) == \
        DONE_RE.match(second.headers["Location"]).group(1)
    assert second.headers["Location"].endswith("?again=1")
    assert count(app, Account) == count(app, OutboxMessage) == 1
    assert "không có gì mới được tạo" in console.get(second.headers["Location"]).get_data(as_text=True)


def test_another_office_cannot_see_the_registration(app, console):
    location = post_form(console).headers["Location"]
    with app.app_context():
        other = enrolled_clerk(post_office(code="HCM-Q1", name="Bưu điện Quận 1",
                                           province_code="79"),
                               username="clerk-hcm", national_id="079085000001").id
    assert console_client(app, other).get(location).status_code == 404
    assert console.get("/counter/register/not-a-real-id").status_code == 404


def test_without_csrf_or_sign_in_nothing_happens(app, console, client):
    assert console.post("/counter/register", data=FORM).status_code == 400
    response = client.get("/counter/register")
    assert response.status_code == 302 and "/counter/login" in response.headers["Location"]
    assert client.post("/counter/register", data=FORM).status_code in (302, 400)
    assert nothing_stored(app)


@pytest.mark.parametrize("changes", [
    {"national_id": "9" * 5000}, {"full_name": "\x00\x01"}, {"gender": "other"},
    {"document_type": "driving_licence"}, {"province_code": "99", "ward": "x", "street": "y"},
    {"birthdate": "1999-05-17T00:00"}, {"expires_on": "", "no_expiry": ""},
    {"email": "a@" + "b" * 300},
])
def test_bad_input_is_a_400_never_a_500(app, console, changes):
    assert post_form(console, **changes).status_code == 400
    assert nothing_stored(app)


# --- API ---------------------------------------------------------------------------------------


def api_post(app: Flask, staff_id: int, body, **kwargs):  # type: ignore[no-untyped-def]
    return app.test_client().post("/counter/api/registrations", json=body,
                                  headers=api_headers(app, staff_id), **kwargs)


def test_api_registers_and_a_retry_returns_the_same_record(app, clerk):
    created = api_post(app, clerk, BODY)
    assert created.status_code == 201
    data = created.get_json()
    assert data["status"] == "submitted" and data["account_status"] == "pending_activation"
    assert data["created"] is True and len(data["public_id"]) == 22
    assert data["activation"]["code_valid_hours"] == 72
    again = api_post(app, clerk, BODY)
    assert again.status_code == 200
    assert again.get_json()["public_id"] == data["public_id"] and again.get_json()["created"] is False
    assert count(app, Account) == count(app, OutboxMessage) == 1
    with app.app_context():
        tags = list(db.session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))
        assert tags == ["account.create", "counter.registration.assisted"]
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.tag == tags[1]))
        assert event.channel == "api" and event.staff_id == clerk


def test_api_reports_every_field_problem(app, clerk):
    body = {**BODY, "birthdate": 19990517, "phone": "12345", "photo_match": "yes",
            "address": {"province_code": "99", "ward": "x", "street": "y"},
            "document_number": "001099012399"}
    del body["expires_on"]
    response = api_post(app, clerk, body)
    assert response.status_code == 400
    data = response.get_json()
    assert data["error"] == "invalid_input" and data["message"]
    assert set(data["fields"]) == {"birthdate", "phone", "photo_match", "address.province_code",
                                   "expires_on"}
    assert nothing_stored(app)


def test_api_document_problems(app, clerk):
    response = api_post(app, clerk, {**BODY, "document_number": "001099012399",
                                     "expires_on": "2024-01-01", "photo_match": False})
    assert response.status_code == 400
    assert set(response.get_json()["fields"]) == {"document_number", "expires_on", "photo_match"}
    assert nothing_stored(app)


def test_api_refusals(app, clerk):
    with app.app_context():
        active_citizen(national_id="079303001234", full_name="Trần Thị Bích Ngọc",
                       gender="female", birthdate=date(2003, 2, 1), email=None)
        me = enrolled_clerk(post_office(code="HN-2"), username="me", national_id="001099012345").id
    exists = api_post(app, clerk, {**BODY, "phone": "0912345678"})
    assert exists.status_code == 409 and exists.get_json()["error"] == "account_exists"
    own = api_post(app, me, BODY)
    assert own.status_code == 403 and own.get_json()["error"] == "own_account"
    assert count(app, IdentityVerification) == 0


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"null", b'"text"', b"{"])
def test_api_malformed_json_is_invalid_request(app, clerk, raw):
    response = app.test_client().post("/counter/api/registrations", data=raw,
                                      content_type="application/json",
                                      headers=api_headers(app, clerk))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_api_oversized_body_and_wrong_types(app, clerk):
    big = api_post(app, clerk, {**BODY, "full_name": "A" * 20000})
    assert big.status_code == 400 and big.get_json()["error"] == "invalid_request"
    typed = api_post(app, clerk, {**BODY, "national_id": 1099012345, "email": ["x"],
                                  "address": "Hà Nội"})
    assert typed.status_code == 400
    assert set(typed.get_json()["fields"]) == {"national_id", "email", "address"}
    assert nothing_stored(app)


def test_api_needs_a_bearer_session(app, clerk):
    response = app.test_client().post("/counter/api/registrations", json=BODY)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert nothing_stored(app)


# --- dates that do not exist, province order ----------------------------------------

NO_SUCH_DATE_VI = "Ngày này không có"


@pytest.mark.parametrize("field,value", [("birthdate", "31/02/1999"), ("issued_on", "31/04/2021"),
                                         ("expires_on", "30/02/2039")])
def test_a_date_that_does_not_exist_is_called_so(app, console, field, value):
    response = post_form(console, **{field: value})
    assert response.status_code == 400
    error = re.search(rf'id="{field}-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert NO_SUCH_DATE_VI in error.group(1)
    assert count(app, Account) == 0


def test_a_misshapen_date_still_gets_the_format_hint(console):
    response = post_form(console, issued_on="2021/06/01")
    error = re.search(r'id="issued_on-error">(.*?)</p>', response.get_data(as_text=True), re.S)
    assert response.status_code == 400 and "nn/tt/nnnn" in error.group(1)  # ngày/tháng/năm


def test_the_province_list_is_in_vietnamese_order(console):
    html = console.get("/counter/register").get_data(as_text=True)
    select = html.split('name="province_code"', 1)[1].split("</select>", 1)[0]
    names = re.findall(r'<option value="\d+">([^<]+)</option>', select)
    assert names.index("Cần Thơ") < names.index("Đà Nẵng") < names.index("Gia Lai")
    assert names[-1] == "Vĩnh Long"


@pytest.mark.parametrize(("lang", "pattern", "other"), [("vi", "nn/tt/nnnn", "dd/mm/yyyy"),
                                                        ("en", "dd/mm/yyyy", "nn/tt/nnnn")])
def test_date_placeholders_and_hints_speak_the_pages_language(console, lang, pattern, other):
    console.set_cookie("postid_lang", lang)
    html = post_form(console, birthdate="1999").get_data(as_text=True)
    assert f'placeholder="{pattern}"' in html and other not in html
    error = re.search(r'id="birthdate-error">(.*?)</p>', html, re.S)
    assert pattern in error.group(1)


def test_the_lookup_hint_says_the_same_true_thing_in_both_languages(console):
    console.set_cookie("postid_lang", "en")
    assert "Upper or lower case, with or without the dash." in console.get(
        "/counter/").get_data(as_text=True)
    console.set_cookie("postid_lang", "vi")
    assert "chữ hoa hoặc chữ thường, có hoặc không có dấu gạch ngang" in console.get(
        "/counter/").get_data(as_text=True)
