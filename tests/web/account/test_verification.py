"""Account page: get verified at a post office (idp.web.citizen.verification)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from idp.extensions import db
from idp.i18n import LOCALE_COOKIE
from idp.models import (
    Account,
    AuditEvent,
    IdentityVerification,
    RejectReason,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.identity import enrolment
from idp.web.citizen.verification import qr_data_uri
from tests.conftest import csrf_token
from tests.factories import second_citizen
from tests.oidc.flow import citizen, sign_in
from tests.services.identity.test_enrolment import verification_row
from tests.staff_factories import enrolled_clerk, enrolled_supervisor, post_office

PAGE = "/account/verification"
PRINT_BUTTON = '<button class="button button-primary" type="button" data-print hidden>Print this page</button>'
PRINT_SCRIPT = '<script src="/static/js/print.js" defer></script>'
CODE_RE = re.compile(r'class="enrolment-code[^"]*"><strong>([A-Z0-9]{4}-[A-Z0-9]{4})</strong>')
QR_RE = re.compile(r'<img class="qr" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


def _signed_in(app: Flask, client: FlaskClient, *, english: bool = True) -> int:
    account_id = citizen(app)
    sign_in(client)
    if english:
        client.set_cookie(LOCALE_COOKIE, "en")
    return account_id


def _post(client: FlaskClient, path: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, PAGE), **data})


def _rows(app: Flask) -> list[IdentityVerification]:
    with app.app_context():
        rows = list(db.session.scalars(select(IdentityVerification).order_by(IdentityVerification.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _count(app: Flask, tag: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.tag == tag)) or 0


def _shown_code(client: FlaskClient) -> str:
    page = client.get(PAGE).get_data(as_text=True)
    match = CODE_RE.search(page)
    assert match, page
    return match.group(1)


def test_requires_sign_in(client: FlaskClient) -> None:
    for path in (PAGE, PAGE + "/print"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_nothing_yet_explains_and_offers_a_code(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    page = client.get(PAGE)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Level 1 — declared online" in text
    assert 'action="/account/verification/request"' in text and "Get an enrolment code" in text
    assert 'href="/account/verification" aria-current="page"' in text
    assert _rows(app) == []  # GET stores nothing


def test_request_shows_code_qr_and_expiry(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    response = _post(client, PAGE + "/request")
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    [row] = _rows(app)
    assert (row.account_id, row.status) == (account_id, VerificationStatus.PENDING)
    page = client.get(PAGE).get_data(as_text=True)
    assert _shown_code(client) == f"{row.code[:4]}-{row.code[4:]}"
    svg = base64.b64decode(QR_RE.search(page).group(1)).decode()
    assert svg.startswith("<?xml") and "<svg" in svg and "<path" in svg
    assert "original chip ID card" in page and "any post office" in page
    assert f'name="target" value="{row.public_id}"' in page
    assert QR_RE.search(page).group(0).endswith(qr_data_uri(f"POSTID:{row.code}") + '"')
    assert "Valid until " in page
    # Asking again (a double click, another tab) shows the same code.
    assert _post(client, PAGE + "/request").status_code == 303
    assert [r.id for r in _rows(app)] == [row.id]
    assert _count(app, "verification.request") == 1


def test_expiry_is_shown_in_vietnam_time(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client, english=False)
    with app.app_context():
        account = db.session.get(Account, account_id)
        verification_row(account, VerificationStatus.PENDING,
                         expires_at=datetime(2099, 12, 31, 18, 30, tzinfo=UTC))
    page = client.get(PAGE).get_data(as_text=True)
    assert "01:30, 01/01/2100" in page  # UTC+7: the next morning


def test_cancel_then_new_code(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    _post(client, PAGE + "/request")
    [first] = _rows(app)
    response = _post(client, PAGE + "/cancel", target=first.public_id)
    assert response.status_code == 303 and response.headers["Location"] == PAGE + "?cancelled=1"
    [row] = _rows(app)
    assert row.status is VerificationStatus.CANCELLED and row.live_account_id is None
    page = client.get(PAGE + "?cancelled=1").get_data(as_text=True)
    assert "Your enrolment code was cancelled." in page and "Get a new enrolment code" in page
    assert CODE_RE.search(page) is None
    _post(client, PAGE + "/request")
    assert _shown_code(client) != first.display_code
    assert [r.status for r in _rows(app)] == [VerificationStatus.CANCELLED, VerificationStatus.PENDING]


def test_expired_code_offers_a_new_one(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    _post(client, PAGE + "/request")
    with app.app_context():
        db.session.execute(update(IdentityVerification).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    page = client.get(PAGE).get_data(as_text=True)
    assert "expired before it was used" in page and CODE_RE.search(page) is None
    assert _post(client, PAGE + "/request").status_code == 303
    assert [r.status for r in _rows(app)] == [VerificationStatus.EXPIRED, VerificationStatus.PENDING]


def test_request_limit(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    for _ in range(enrolment.MAX_CODES_PER_DAY):
        _post(client, PAGE + "/request")
        _post(client, PAGE + "/cancel", target=_rows(app)[-1].public_id)
    response = _post(client, PAGE + "/request")
    assert response.status_code == 429
    assert "too many codes today" in response.get_data(as_text=True)
    assert len(_rows(app)) == enrolment.MAX_CODES_PER_DAY
    assert all(r.status is VerificationStatus.CANCELLED for r in _rows(app))


def test_verified_account_cannot_ask(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    with app.app_context():
        db.session.get(Account, account_id).identity_loa = 2
        db.session.commit()
    text = client.get(PAGE).get_data(as_text=True)
    assert "Level 2 — verified at a post office" in text
    response = _post(client, PAGE + "/request")
    assert response.status_code == 409
    assert "already been verified" in response.get_data(as_text=True)
    assert _rows(app) == []


def test_cannot_cancel_someone_elses_code(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    with app.app_context():
        theirs = enrolment.request_code(second_citizen())
        public_id = theirs.public_id
    response = _post(client, PAGE + "/cancel", target=public_id)
    assert response.status_code == 404
    assert [r.status for r in _rows(app)] == [VerificationStatus.PENDING]
    assert _count(app, "verification.cancel") == 0


@pytest.mark.parametrize("target", ["", "123", "x" * 23, "a b c d e f g h i j k l", "é" * 22, "z" * 5000])
def test_cancel_with_bad_target_is_400(app: Flask, client: FlaskClient, target: str) -> None:
    _signed_in(app, client)
    _post(client, PAGE + "/request")
    assert _post(client, PAGE + "/cancel", target=target).status_code == 400
    assert [r.status for r in _rows(app)] == [VerificationStatus.PENDING]


def test_unknown_target_is_404(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    assert _post(client, PAGE + "/cancel", target="A" * 22).status_code == 404


def test_submitted_check_cannot_be_cancelled(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    with app.app_context():
        row = verification_row(db.session.get(Account, account_id), VerificationStatus.SUBMITTED)
        public_id = row.public_id
    response = _post(client, PAGE + "/cancel", target=public_id)
    assert response.status_code == 409
    assert "can no longer be cancelled online" in response.get_data(as_text=True)
    assert [r.status for r in _rows(app)] == [VerificationStatus.SUBMITTED]


def test_forms_need_csrf_and_post(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    assert client.post(PAGE + "/request").status_code == 400
    assert client.post(PAGE + "/request", data={"csrf_token": "forged"}).status_code == 400
    assert _rows(app) == []
    _post(client, PAGE + "/request")
    [row] = _rows(app)
    assert client.post(PAGE + "/cancel", data={"target": row.public_id}).status_code == 400
    for path in ("/request", "/cancel"):
        assert client.get(PAGE + path).status_code == 405
    assert [r.status for r in _rows(app)] == [VerificationStatus.PENDING]


def _staffed(app: Flask, account_id: int, status: VerificationStatus, **values: object) -> None:
    with app.app_context():
        office = post_office(name="Bưu điện Trung tâm Sài Gòn", code="HCM-TT", province_code="79")
        clerk, supervisor = enrolled_clerk(office), enrolled_supervisor(office)
        verification_row(db.session.get(Account, account_id), status, office_id=office.id,
                         clerk_id=clerk.id, submitted_at=datetime(2026, 3, 2, 3, tzinfo=UTC),
                         decided_by=None if status is VerificationStatus.SUBMITTED else supervisor.id,
                         **values)


def test_submitted_state(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    _staffed(app, account_id, VerificationStatus.SUBMITTED)
    text = client.get(PAGE).get_data(as_text=True)
    assert "checked at Bưu điện Trung tâm Sài Gòn on 2 March 2026" in text
    assert "waiting for a supervisor" in text
    assert "verification/request" not in text and "verification/cancel" not in text


def test_approved_state(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    _staffed(app, account_id, VerificationStatus.APPROVED, decided_at=datetime(2026, 3, 3, 20, tzinfo=UTC))
    with app.app_context():
        db.session.get(Account, account_id).identity_loa = 2
        db.session.commit()
    text = client.get(PAGE).get_data(as_text=True)
    assert "verified at Bưu điện Trung tâm Sài Gòn since 4 March 2026" in text  # 03:00 in Vietnam
    assert "Level 2 — verified at a post office" in text and "verification/request" not in text


def test_rejected_state(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    _staffed(app, account_id, VerificationStatus.REJECTED, decided_at=utcnow(),
             reject_reason=RejectReason.DOCUMENT_EXPIRED)
    text = client.get(PAGE).get_data(as_text=True)
    assert "was not approved" in text and "The ID card you brought had expired." in text
    assert "Get a new enrolment code" in text and 'action="/account/verification/request"' in text


def test_revoked_state(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    _staffed(app, account_id, VerificationStatus.REVOKED, decided_at=utcnow(),
             revoked_at=datetime(2026, 5, 1, 2, tzinfo=UTC), revoke_reason=RejectReason.PHOTO_MISMATCH)
    text = client.get(PAGE).get_data(as_text=True)
    assert "withdrawn on 1 May 2026" in text and "could not be matched" in text
    assert "back to level 1" in text and "Level 1 — declared online" in text


def test_every_state_renders_in_vietnamese(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client, english=False)
    for status in VerificationStatus:
        with app.app_context():
            db.session.execute(update(IdentityVerification).values(live_account_id=None))
            verification_row(db.session.get(Account, account_id), status,
                             reject_reason=RejectReason.OTHER, revoke_reason=RejectReason.OTHER,
                             decided_at=utcnow(), submitted_at=utcnow(), revoked_at=utcnow())
        assert client.get(PAGE).status_code == 200, status
        assert client.get("/account").status_code == 200, status


def test_print_view(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    assert client.get(PAGE + "/print").headers["Location"] == PAGE
    _post(client, PAGE + "/request")
    [row] = _rows(app)
    page = client.get(PAGE + "/print")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and row.display_code in text and QR_RE.search(text)
    assert "account-nav" not in text and "<form method=\"post\" action=\"/account" not in text
    assert PRINT_BUTTON in text and PRINT_SCRIPT in text
    with client.get("/static/js/print.js") as script:
        assert script.status_code == 200 and "window.print()" in script.get_data(as_text=True)
        assert "javascript" in script.headers["Content-Type"]


def test_account_page_calls_to_action(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    text = client.get("/account").get_data(as_text=True)
    assert "Level 1 — declared online" in text
    assert 'href="/account/verification">Get verified at a post office</a>' in text
    with app.app_context():
        db.session.get(Account, account_id).identity_loa = 2
        db.session.commit()
    text = client.get("/account").get_data(as_text=True)
    assert "Get verified at a post office" not in text and "Level 2" in text
