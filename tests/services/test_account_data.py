"""Account data service: page parsing, placeholders, password policy context checks."""

from __future__ import annotations

import pytest

from idp.domain.errors import DomainError
from idp.domain.password_policy import SERVICE_WORDS, check_password
from idp.services import account_data
from idp.services.identity import logout


@pytest.mark.parametrize("raw,page", [(None, 1), ("", 1), ("0", 1), ("abc", 1), ("-3", 1),
                                      ("2", 2), ("9" * 30, 1)])
def test_parse_page(raw: str | None, page: int) -> None:
    assert account_data.parse_page(raw) == page


def test_placeholders_fit_and_are_not_identifiers() -> None:
    for account_id in (1, 99_999_999_999):
        national_id = account_data.placeholder_national_id(account_id)
        assert len(national_id) == 12
        assert not national_id.isdigit()  # ID numbers are 12 digits
        phone = account_data.placeholder_phone(account_id)
        assert len(phone) <= 16 and not phone.startswith("+")


@pytest.mark.parametrize("password,code", [
    ("MyPostID-pass", "password.service_name"),
    ("nguyenvanan!", "password.name"),
    ("Nguyễn rất vui", "password.name"),
])
def test_context_specific_passwords_refused(password: str, code: str) -> None:
    with pytest.raises(DomainError) as raised:
        check_password(password, name="Nguyễn Văn An", service_words=SERVICE_WORDS)
    assert raised.value.code == code


def test_context_checks_are_opt_in() -> None:
    check_password("Hoa-sen-demo-2026", name="Nguyễn Văn An", service_words=SERVICE_WORDS)  # demo password
    check_password("an toàn tuyệt đối", name="Nguyễn Văn An", service_words=SERVICE_WORDS)


def test_ending_another_session_is_audited_once_and_revokes_it(app) -> None:
    from sqlalchemy import func, select

    from idp.extensions import db
    from idp.models import AuditEvent, UserSession
    from idp.services.identity import sessions
    from tests.factories import active_citizen

    with app.app_context():
        account = active_citizen()
        current = sessions.open_session(account).session
        other = sessions.open_session(account).session
        db.session.commit()
        assert logout.end_other_session(account.id, other.id, current_session_id=current.id) == []
        tags = db.session.scalars(select(AuditEvent.tag).where(AuditEvent.tag.in_(
            ["account.session.revoke", "account.logout"]))).all()
        assert tags == ["account.session.revoke"]
        assert db.session.get(UserSession, other.id).revoke_reason == "user_signout"
        assert db.session.scalar(select(func.count()).select_from(UserSession)
                                 .where(UserSession.revoked_at.is_(None))) == 1


def test_export_lists_verifications_without_staff_or_code(app) -> None:
    from datetime import date

    from idp.models import DocumentType, RejectReason, VerificationStatus
    from idp.models.base import utcnow
    from idp.services.identity import enrolment
    from tests.factories import active_citizen
    from tests.services.identity.test_enrolment import verification_row
    from tests.staff_factories import enrolled_clerk, enrolled_supervisor, post_office

    with app.app_context():
        account = active_citizen()
        office = post_office()
        clerk, supervisor = enrolled_clerk(office), enrolled_supervisor(office)
        rejected = verification_row(
            account, VerificationStatus.REJECTED, office_id=office.id, clerk_id=clerk.id,
            submitted_at=utcnow(), decided_by=supervisor.id, decided_at=utcnow(),
            document_type=DocumentType.CAN_CUOC, document_number=account.national_id,
            document_issued_on=date(2024, 7, 1), reject_reason=RejectReason.PHOTO_MISMATCH)
        pending = enrolment.request_code(account)
        exported = account_data.export(account, session_id=None)
        first, second = exported["verifications"]
        assert first["status"] == "rejected" and first["office"] == "HN-BOHO"
        assert first["reject_reason"] == "photo_mismatch" and first["document_type"] == "can_cuoc"
        assert first["document_issued_on"] == "2024-07-01"
        assert first["checked_at"] == rejected.submitted_at.isoformat()
        assert second["status"] == "pending" and second["office"] is None
        assert second["expires_at"] == pending.expires_at.isoformat()
        text = repr(exported["verifications"])
        for hidden in (pending.code, pending.display_code, rejected.code, "clerk", "decided_by",
                       str(clerk.username), clerk.full_name, supervisor.full_name):
            assert hidden not in text
        assert exported["profile"]["postal_address"] is None


def test_deletion_erases_verifications(app) -> None:
    from datetime import date

    from sqlalchemy import select

    from idp.extensions import db
    from idp.models import AuditEvent, DocumentType, IdentityVerification, VerificationStatus
    from idp.models.base import utcnow
    from idp.services.identity import enrolment
    from tests.factories import PASSWORD, active_citizen, second_citizen
    from tests.services.identity.test_enrolment import verification_row
    from tests.staff_factories import enrolled_clerk, post_office

    with app.app_context():
        account, other = active_citizen(), second_citizen()
        office = post_office()
        clerk = enrolled_clerk(office)
        checked = dict(office_id=office.id, clerk_id=clerk.id, submitted_at=utcnow(),
                       document_type=DocumentType.CCCD, document_number=account.national_id,
                       document_issued_on=date(2021, 3, 1), document_expires_on=date(2039, 5, 17),
                       verified_address={"street_address": "12 Tràng Tiền", "country": "VN"})
        old = verification_row(account, VerificationStatus.REJECTED, decided_at=utcnow(), **checked)
        submitted = verification_row(account, VerificationStatus.SUBMITTED, **checked)
        others = enrolment.request_code(other)
        account.postal_address = {"street_address": "12 Tràng Tiền"}
        account.address_verified_at = utcnow()
        db.session.commit()
        # One live verification per account: the pending case is the next test.
        old_id, submitted_id = old.id, submitted.id
        account_data.delete_account(account, PASSWORD, session_id=None)
        db.session.expire_all()
        rows = {v.id: v for v in db.session.scalars(
            select(IdentityVerification).where(IdentityVerification.account_id == account.id))}
        assert set(rows) == {old_id, submitted_id}
        assert rows[submitted_id].status is VerificationStatus.CANCELLED
        assert rows[submitted_id].live_account_id is None and rows[submitted_id].cancelled_at
        for row in rows.values():
            assert (row.document_number, row.document_issued_on, row.document_expires_on,
                    row.verified_address) == (None, None, None, None)
            assert row.office_id == office.id and row.document_type is DocumentType.CCCD
        assert rows[old_id].status is VerificationStatus.REJECTED
        cancel_event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.tag == "verification.cancel"))
        assert cancel_event.data == {"verification": submitted.public_id, "reason": "account_deleted"}
        refreshed = db.session.get(type(account), account.id)
        assert refreshed.postal_address is None and refreshed.address_verified_at is None
        # Another person's code is untouched.
        assert db.session.get(IdentityVerification, others.id).status is VerificationStatus.PENDING


def test_deletion_removes_a_pending_code(app) -> None:
    from sqlalchemy import func, select

    from idp.extensions import db
    from idp.models import IdentityVerification
    from idp.services.identity import enrolment
    from tests.factories import PASSWORD, active_citizen

    with app.app_context():
        account = active_citizen()
        code = enrolment.request_code(account).code
        account_data.delete_account(account, PASSWORD, session_id=None)
        assert db.session.scalar(select(func.count(IdentityVerification.id))) == 0
        assert db.session.scalar(select(IdentityVerification).where(
            IdentityVerification.code == code)) is None
