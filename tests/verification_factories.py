"""Counter verifications named after their states, written directly as rows (the citizen's and
the clerk's services are tested on their own). Call inside an application context."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from idp.domain.document_check import DocumentCheck, PostalAddress
from idp.domain.enrolment_code import new_code
from idp.extensions import db
from idp.models import (
    Account,
    DocumentType,
    IdentityVerification,
    RejectReason,
    StaffMember,
    VerificationStatus,
)
from idp.models.base import utcnow

ADDRESS = PostalAddress(street="12 Tràng Tiền", ward="Phường Hoàn Kiếm", province_code="01")


def good_check(account: Account, **overrides: Any) -> DocumentCheck:
    """A check with no problem for `account`: a căn cước card, every item matching."""
    values: dict[str, Any] = {
        "document_type": DocumentType.CAN_CUOC.value,
        "document_number": account.national_id,
        "issued_on": date(2024, 7, 15),
        "expires_on": date(2039, 5, 17),
        "name_match": True, "birthdate_match": True, "sex_match": True, "photo_match": True,
        "address": ADDRESS,
    }
    values.update(overrides)
    return DocumentCheck(**values)


def pending_verification(account: Account, **overrides: Any) -> IdentityVerification:
    now = utcnow()
    values: dict[str, Any] = {
        "public_id": secrets.token_urlsafe(16), "account_id": account.id,
        "live_account_id": account.id, "code": new_code(), "status": VerificationStatus.PENDING,
        "created_at": now, "expires_at": now + timedelta(days=30),
    }
    values.update(overrides)
    verification = IdentityVerification(**values)
    db.session.add(verification)
    db.session.commit()
    return verification


def expired_verification(account: Account) -> IdentityVerification:
    """Still `pending` in the database, past its expiry: becomes `expired` when looked at."""
    now = utcnow()
    return pending_verification(account, created_at=now - timedelta(days=31),
                                expires_at=now - timedelta(days=1))


def cancelled_verification(account: Account) -> IdentityVerification:
    return pending_verification(account, status=VerificationStatus.CANCELLED, live_account_id=None,
                                cancelled_at=utcnow())


def submitted_verification(account: Account, clerk: StaffMember,
                           **overrides: Any) -> IdentityVerification:
    check = good_check(account)
    values: dict[str, Any] = {
        "status": VerificationStatus.SUBMITTED, "office_id": clerk.office_id,
        "clerk_id": clerk.id, "submitted_at": utcnow(),
        "document_type": DocumentType(check.document_type),
        "document_number": check.document_number, "document_issued_on": check.issued_on,
        "document_expires_on": check.expires_on, "name_match": True, "birthdate_match": True,
        "sex_match": True, "photo_match": True, "verified_address": ADDRESS.to_json(),
    }
    values.update(overrides)
    return pending_verification(account, **values)


def approved_verification(account: Account, clerk: StaffMember, supervisor: StaffMember,
                          **overrides: Any) -> IdentityVerification:
    """Approved, with the account at LoA2 and its verified address, as approval leaves it."""
    now = utcnow()
    verification = submitted_verification(
        account, clerk, status=VerificationStatus.APPROVED, live_account_id=None,
        decided_by=supervisor.id, decided_at=now, **overrides)
    account.identity_loa = 2
    account.postal_address = verification.verified_address
    account.address_verified_at = now
    db.session.commit()
    return verification


def rejected_verification(account: Account, clerk: StaffMember) -> IdentityVerification:
    return pending_verification(
        account, status=VerificationStatus.REJECTED, live_account_id=None,
        office_id=clerk.office_id, clerk_id=clerk.id, decided_by=clerk.id, decided_at=utcnow(),
        reject_reason=RejectReason.PHOTO_MISMATCH)
