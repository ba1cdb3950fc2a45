"""Activation of a counter-registered account on the citizen's own phone, through HTTP: the
whole walk-in journey, enumeration-safe answers, single-use and expiring codes, bad input."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.domain.terms import TERMS_VERSION
from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditEvent,
    IdentityVerification,
    OutboxMessage,
    StaffMember,
    UserSession,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.models.registration import OtpChallenge
from idp.services.counter import decisions
from idp.services.platform import throttle as login_throttle
from tests.conftest import csrf_token
from tests.counter.helpers import console_client
from tests.factories import PASSWORD, active_citizen
from tests.staff_factories import enrolled_clerk, enrolled_supervisor, post_office

WALK_IN = {
    "national_id": "001099012345", "full_name": "Nguyễn Văn An", "birthdate": "17/05/1999",
    "gender": "male", "phone": "0912 345 678", "email": "an@example.vn",
    "document_type": "can_cuoc", "document_number": "001099012345", "issued_on": "01/06/2021",
    "expires_on": "17/05/2039", "photo_match": "y", "province_code": "01",
    "ward": "Phường Hoàn Kiếm", "street": "12 Hàng Bài",
}
CITIZEN_PASSWORD = "mây trắng bay qua đồi 42"
GENERIC_VI = "Số định danh hoặc số điện thoại và mật khẩu không khớp"
COOKIE = "postid_activation"


@pytest.fixture
def office_staff(app: Flask) -> tuple[int, int]:
    with app.app_context():
        office = post_office()
        return enrolled_clerk(office).id, enrolled_supervisor(office).id


@pytest.fixture
def walk_in(app: Flask, office_staff) -> str:  # type: ignore[no-untyped-def]
    """A clerk registers the walk-in at the console; returns the verification's public id."""
    console = console_client(app, office_staff[0])
    data = {**WALK_IN, "csrf_token": csrf_token(console, "/counter/register")}
    response = console.post("/counter/register", data=data)
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[1]


def sms_code(app: Flask) -> str:
    with app.app_context():
        body = db.session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.template == "activate.code").order_by(OutboxMessage.id)).all()[-1]
    return re.findall(r"(?<!\d)\d{6}(?!\d)", body)[0]


def enter_code(client: FlaskClient, code: str, national_id: str = "001099012345"):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, "/activate"), "national_id": national_id, "code": code}
    return client.post("/activate", data=data)


def choose_password(client: FlaskClient, password: str, confirm: str | None = None, *,  # type: ignore[no-untyped-def]
                    accept_terms: bool = True):
    data = {"csrf_token": csrf_token(client, "/activate/password"), "password": password,
            "password_confirm": password if confirm is None else confirm}
    if accept_terms:
        data["accept_terms"] = "y"
    return client.post("/activate/password", data=data)


def ask_new_code(client: FlaskClient, national_id: str = "001099012345"):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, "/activate/new-code"), "national_id": national_id}
    return client.post("/activate/new-code", data=data)


def sign_in(client: FlaskClient, identifier: str, password: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client), "identifier": identifier, "password": password}
    return client.post("/login", data=data)


def count(app: Flask, model: type, *where) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def account_status(app: Flask) -> AccountStatus:
    with app.app_context():
        return db.session.scalar(select(Account.status).where(Account.national_id == "001099012345"))


def everything_stored(app: Flask) -> str:
    """Every row of every table, as text: where a leaked password would show."""
    with app.app_context():
        rows = []
        for table in db.metadata.sorted_tables:
            rows += [json.dumps([str(v) for v in row]) for row in db.session.execute(table.select())]
        return "\n".join(rows)


def test_walk_in_activates_on_their_phone_and_signs_in(app, client, walk_in, office_staff):
    # Before activation nobody can sign in, whatever password is tried.
    refused = sign_in(app.test_client(), "001099012345", CITIZEN_PASSWORD)
    assert refused.status_code == 401 and GENERIC_VI in refused.get_data(as_text=True)
    assert account_status(app) is AccountStatus.PENDING_ACTIVATION

    assert client.get("/activate").status_code == 200
    response = enter_code(client, sms_code(app))
    assert response.status_code == 303 and response.headers["Location"] == "/activate/password"
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE))
    assert "HttpOnly" in cookie and "Path=/activate" in cookie and "SameSite=Lax" in cookie
    assert client.get("/activate").headers["Location"] == "/activate/password"  # step 1 is done
    page = client.get("/activate/password")
    assert page.status_code == 200 and "Nguyễn Văn An" in page.get_data(as_text=True)

    done = choose_password(client, CITIZEN_PASSWORD)
    assert done.status_code == 303 and done.headers["Location"] == "/activate/done"
    assert client.get("/activate/done").status_code == 200
    assert client.get("/account").status_code == 200  # signed in
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.status is AccountStatus.ACTIVE and account.phone_verified_at is not None
        assert account.password.hash.startswith("$argon2id$")
        tags = list(db.session.scalars(select(AuditEvent.tag).where(
            AuditEvent.account_id == account.id).order_by(AuditEvent.id)))
        assert tags[:2] == ["account.create", "counter.registration.assisted"]
        assert tags[-2:] == ["account.activate", "account.login.success"]
        assert db.session.scalar(select(OutboxMessage.body).where(
            OutboxMessage.template == "activate.done"))
        # The e-mail the clerk typed is confirmed by the citizen's own mailbox, not trusted.
        assert account.email_verified_at is None
        assert db.session.scalar(select(OutboxMessage.recipient).where(
            OutboxMessage.template == "register.email_link")) == "an@example.vn"

    other = app.test_client()
    assert sign_in(other, "0912345678", CITIZEN_PASSWORD).status_code == 302
    # The password exists only as its argon2 hash: not in the outbox, audit or any other row.
    assert CITIZEN_PASSWORD not in everything_stored(app)

    # Four eyes: a supervisor approves the counter's check -> LoA2.
    with app.app_context():
        supervisor = db.session.get(StaffMember, office_staff[1])
        verification = decisions.approve(supervisor, walk_in)
        assert verification.status is VerificationStatus.APPROVED
        account = db.session.scalar(select(Account))
        assert account.identity_loa == 2 and account.postal_address["street"] == "12 Hàng Bài"
    later = app.test_client()
    assert sign_in(later, "001099012345", CITIZEN_PASSWORD).status_code == 302
    with app.app_context():
        newest = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()).limit(1))
        assert newest.loa == 2


def test_unknown_active_and_wrong_answers_are_the_same(app, client, walk_in):
    with app.app_context():
        active_citizen(national_id="079303001234", full_name="Trần Thị Bích Ngọc",
                       birthdate=date(2003, 2, 1),
                       gender="female", phone="0983456789", email=None)
    code = sms_code(app)
    wrong = "000000" if code != "000000" else "111111"
    answers = set()
    for national_id, guess in (("001099012345", wrong), ("079303001234", code),
                               ("001199012345", code)):
        response = enter_code(app.test_client(), guess, national_id)
        body = re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))
        answers.add((response.status_code, body))
    assert len(answers) == 1 and next(iter(answers))[0] == 400
    assert account_status(app) is AccountStatus.PENDING_ACTIVATION


def test_five_wrong_codes_kill_it_then_a_new_code_works(app, client, walk_in):
    code = sms_code(app)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert enter_code(client, wrong).status_code == 400
    assert enter_code(client, code).status_code in (400, 429)  # dead (or paced by the throttle)
    with app.app_context():
        challenge = db.session.scalar(select(OtpChallenge))
        challenge.last_sent_at -= timedelta(minutes=5)
        db.session.commit()
    sent = ask_new_code(client)
    assert sent.status_code == 303 and sent.headers["Location"] == "/activate?sent=1"
    fresh = sms_code(app)
    with app.test_request_context():  # the owner's own browser after the stranger's guesses
        login_throttle.succeeded(login_throttle.Attempt("activate:code:001099012345"))
    assert enter_code(app.test_client(), fresh).status_code == 303


def test_expired_code_is_renewed_from_the_page(app, client, walk_in):
    old = sms_code(app)
    with app.app_context():
        challenge = db.session.scalar(select(OtpChallenge))
        challenge.expires_at = challenge.last_sent_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert enter_code(client, old).status_code == 400
    assert ask_new_code(client).status_code == 303
    assert 'role="status"' in client.get("/activate?sent=1").get_data(as_text=True)
    assert enter_code(client, sms_code(app)).status_code == 303


def test_a_used_code_cannot_be_used_again(app, client, walk_in):
    code = sms_code(app)
    assert enter_code(client, code).status_code == 303
    assert enter_code(app.test_client(), code).status_code == 400


def test_new_code_answer_does_not_reveal_the_account(app, client, walk_in):
    before = count(app, OutboxMessage)
    unknown = ask_new_code(client, "079303001234")
    assert unknown.status_code == 303 and unknown.headers["Location"] == "/activate?sent=1"
    assert count(app, OutboxMessage) == before


def test_password_step_needs_step_one_and_follows_the_policy(app, client, walk_in):
    assert client.get("/activate/password").headers["Location"] == "/activate?expired=1"
    assert enter_code(client, sms_code(app)).status_code == 303
    for bad, confirm in (("short", None), ("postid 2026 an!", None), ("001099012345aa", None),
                         (CITIZEN_PASSWORD, "something else entirely")):
        response = choose_password(client, bad, confirm)
        assert response.status_code == 400
        assert 'id="password' in response.get_data(as_text=True)
    assert account_status(app) is AccountStatus.PENDING_ACTIVATION
    assert choose_password(client, CITIZEN_PASSWORD).status_code == 303
    assert account_status(app) is AccountStatus.ACTIVE


def test_a_forged_flow_cookie_is_refused(app, client, walk_in):
    client.set_cookie(COOKIE, "eyJjIjoiMDAwMDAwMDAwMDAwMDAwMDAwMDEifQ.forged.sig", path="/activate")
    assert client.get("/activate/password").headers["Location"] == "/activate?expired=1"
    assert account_status(app) is AccountStatus.PENDING_ACTIVATION


def test_guesses_are_throttled(app, client, walk_in):
    free = app.config["IDP_SETTINGS"].login_free_failures
    statuses = [enter_code(client, "000000", "079303001234").status_code for _ in range(free + 2)]
    assert statuses[:free] == [400] * free and statuses[-1] == 429


@pytest.mark.parametrize("data", [
    {"national_id": "1" * 5000, "code": "123456"}, {"national_id": "123", "code": "123456"},
    {"national_id": "001099012345", "code": "9" * 500}, {"national_id": "", "code": ""},
    {"national_id": "\x00\x00", "code": "\x00"},
])
def test_bad_input_is_a_400_never_a_500(app, client, walk_in, data):
    response = client.post("/activate", data={"csrf_token": csrf_token(client, "/activate"), **data})
    assert response.status_code == 400
    valid_id = data["national_id"] == "001099012345"
    assert ask_new_code(client, data["national_id"]).status_code == (303 if valid_id else 400)
    assert account_status(app) is AccountStatus.PENDING_ACTIVATION


def test_posts_need_csrf(app, client, walk_in):
    assert client.post("/activate", data={"national_id": "001099012345",
                                          "code": sms_code(app)}).status_code == 400
    assert client.post("/activate/new-code", data={"national_id": "001099012345"}).status_code == 400
    assert client.post("/activate/password", data={"password": PASSWORD}).status_code in (302, 400)
    assert account_status(app) is AccountStatus.PENDING_ACTIVATION
    assert count(app, IdentityVerification) == 1


def test_activation_asks_for_the_terms_and_stores_the_accepted_version(app, client, walk_in):
    with app.app_context():
        assert db.session.scalar(select(Account.terms_version)) is None  # the clerk cannot accept
    assert enter_code(client, sms_code(app)).status_code == 303
    page = client.get("/activate/password").get_data(as_text=True)
    label = re.search(r'<label for="accept_terms">(.*?)</label>', page, re.S).group(1)
    assert 'href="/terms"' in label and 'href="/privacy"' in label

    refused = choose_password(client, CITIZEN_PASSWORD, accept_terms=False)
    assert refused.status_code == 400
    assert 'id="accept_terms-error"' in refused.get_data(as_text=True)
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.status is AccountStatus.PENDING_ACTIVATION
        assert account.terms_version is None and account.terms_accepted_at is None
        assert account.password is None

    assert choose_password(client, CITIZEN_PASSWORD).status_code == 303
    with app.app_context():
        account = db.session.scalar(select(Account))
        assert account.status is AccountStatus.ACTIVE
        assert account.terms_version == TERMS_VERSION and account.terms_accepted_at is not None


def test_the_name_rule_shows_with_the_other_errors_in_one_round(app, client, walk_in):
    client.set_cookie("postid_lang", "en")
    assert enter_code(client, sms_code(app)).status_code == 303
    response = choose_password(client, "Nguyen-Ha-Noi-2026", "something else", accept_terms=False)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The password must not contain your name." in html
    assert 'id="password_confirm-error"' in html and 'id="accept_terms-error"' in html
    assert account_status(app) is AccountStatus.PENDING_ACTIVATION


def test_the_password_hint_names_every_rule(app, client, walk_in):
    client.set_cookie("postid_lang", "en")
    assert enter_code(client, sms_code(app)).status_code == 303
    html = client.get("/activate/password").get_data(as_text=True)
    assert "not your ID number, phone number, name or “PostID”" in html
