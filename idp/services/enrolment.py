"""The citizen's side of counter verification (DESIGN §5): ask for an enrolment code, cancel
it, see where the verification stands.

- A code is for an ACTIVE account that is not yet LoA2. The account has at most one live
  (pending or submitted) verification, a database rule (unique `live_account_id`): asking
  again while one is live returns that one, so a double click or a second tab gets the same
  code rather than an error.
- At most MAX_CODES_PER_DAY codes per account in 24 hours. One live code is all anybody
  needs; asking for many in a row is a script or a hijacked session, and each request is a
  row and an audit event that stay for good.
- Only a pending code is cancelled online. Once a clerk has checked the card (submitted) the
  record is evidence of a counter action awaiting a supervisor: withdrawing it would let a
  citizen erase a check made in their name, so the supervisor decides.
- Each function that changes something is one transaction; the status itself changes only
  through idp.services.verification_state. Audit events carry the account id and the
  verification's public id, never the code or personal data.
- The person's verifications are part of their data export and are erased with the account
  (export_rows, erase_for_deletion, called by idp.services.account_data).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from idp.domain.enrolment_code import new_code
from idp.domain.errors import N_
from idp.errors import IdpError
from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditTag,
    IdentityVerification,
    OrganisationVerification,
    PostOffice,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services import audit
from idp.services.verification_state import expire_if_due, transition

MAX_CODES_PER_DAY = 5
RATE_WINDOW = timedelta(hours=24)
# A collision of 8 characters from 29 is ~1 in 5·10^11 per live code: one retry is plenty,
# a few more cost nothing and stop an infinite loop on a broken generator.
INSERT_ATTEMPTS = 5
PUBLIC_ID_RE = re.compile(r"[A-Za-z0-9_-]{22}")

NOT_ACTIVE = N_("This account cannot be verified: it is not active.")
ALREADY_VERIFIED = N_("Your identity has already been verified at a post office.")
TOO_MANY_CODES = N_("You have asked for too many codes today. Please try again tomorrow.")
NOT_FOUND = N_("This enrolment code was not found.")
NOT_CANCELLABLE = N_(
    "A clerk has already checked your card, so this request can no longer be cancelled online. "
    "A supervisor at the post office will decide on it."
)


class EnrolmentError(IdpError):
    status = 400


class AccountNotActive(EnrolmentError):
    status = 403

    def __init__(self) -> None:
        super().__init__("verification.account_not_active", NOT_ACTIVE)


class AlreadyVerified(EnrolmentError):
    status = 409

    def __init__(self) -> None:
        super().__init__("verification.already_verified", ALREADY_VERIFIED)


class TooManyCodes(EnrolmentError):
    status = 429

    def __init__(self) -> None:
        super().__init__("verification.too_many_codes", TOO_MANY_CODES)


class VerificationNotFound(EnrolmentError):
    status = 404

    def __init__(self) -> None:
        super().__init__("verification.not_found", NOT_FOUND)


class NotCancellable(EnrolmentError):
    status = 409

    def __init__(self) -> None:
        super().__init__("verification.not_cancellable", NOT_CANCELLABLE)


@dataclass(frozen=True)
class Standing:
    """What the status page shows: the latest verification (if any) and its office."""

    loa: int
    verification: IdentityVerification | None
    office: PostOffice | None

    @property
    def state(self) -> str:
        return self.verification.status.value if self.verification else "none"


def unused_code() -> str:
    """A fresh enrolment code held by no citizen's and no organisation's verification: a clerk
    types one code and must find one record, whichever kind it is. Each table's unique index
    still guards against a concurrent insert of the same code (the caller retries)."""
    for _ in range(INSERT_ATTEMPTS):
        code = new_code()
        taken = db.session.scalar(
            select(IdentityVerification.id).where(IdentityVerification.code == code)
        ) or db.session.scalar(
            select(OrganisationVerification.id).where(OrganisationVerification.code == code))
        if not taken:
            return code
    raise RuntimeError("could not draw an unused enrolment code")  # pragma: no cover


def _live(account_id: int) -> IdentityVerification | None:
    return db.session.scalar(
        select(IdentityVerification).where(IdentityVerification.live_account_id == account_id)
    )


def _is_verified(account: Account) -> bool:
    approved = db.session.scalar(
        select(func.count(IdentityVerification.id)).where(
            IdentityVerification.account_id == account.id,
            IdentityVerification.status == VerificationStatus.APPROVED)
    )
    return account.identity_loa >= 2 or bool(approved)


def _recent_requests(account_id: int) -> int:
    """Codes the citizen asked for online in the window (counter-opened ones do not count)."""
    return db.session.scalar(
        select(func.count(IdentityVerification.id)).where(
            IdentityVerification.account_id == account_id,
            IdentityVerification.assisted.is_(False),
            IdentityVerification.created_at > utcnow() - RATE_WINDOW)
    ) or 0


def _live_or_none(account: Account) -> IdentityVerification | None:
    """The live verification, after lazily expiring it if its code ran out (caller commits)."""
    live = _live(account.id)
    if live is not None and expire_if_due(live):
        return None
    return live


def request_code(account: Account, *, session_id: int | None = None) -> IdentityVerification:
    """A pending verification with a fresh enrolment code, or the account's live one.

    Raises AccountNotActive, AlreadyVerified or TooManyCodes (no code stored). One
    transaction: commits the new code (audited VERIFICATION_REQUEST) or a lazy expiry."""
    if account.status is not AccountStatus.ACTIVE:
        raise AccountNotActive()
    if _is_verified(account):
        raise AlreadyVerified()
    for _ in range(INSERT_ATTEMPTS):
        live = _live_or_none(account)
        if live is not None:
            db.session.commit()
            return live
        if _recent_requests(account.id) >= MAX_CODES_PER_DAY:
            db.session.commit()  # keeps a lazy expiry that happened above
            raise TooManyCodes()
        days = current_app.config["IDP_SETTINGS"].enrolment_code_days
        verification = IdentityVerification(
            public_id=secrets.token_urlsafe(16), account_id=account.id,
            live_account_id=account.id, code=unused_code(), status=VerificationStatus.PENDING,
            expires_at=utcnow() + timedelta(days=days))
        db.session.add(verification)
        audit.record(AuditTag.VERIFICATION_REQUEST, account_id=account.id, session_id=session_id,
                     verification=verification.public_id)
        try:
            db.session.commit()
        except IntegrityError:
            # A concurrent request won the live slot (the loop then returns its code), or the
            # code / public id collided (the loop draws new ones). Rollback drops the audit event.
            db.session.rollback()
            continue
        return verification
    raise RuntimeError("could not store an enrolment code")  # pragma: no cover


def _own(account: Account, public_id: str) -> IdentityVerification:
    if not isinstance(public_id, str) or not PUBLIC_ID_RE.fullmatch(public_id):
        raise VerificationNotFound()
    verification = db.session.scalar(
        select(IdentityVerification).where(IdentityVerification.public_id == public_id,
                                           IdentityVerification.account_id == account.id)
    )
    if verification is None:
        raise VerificationNotFound()
    return verification


def cancel(account: Account, public_id: str, *, session_id: int | None = None) -> IdentityVerification:
    """Cancel the account's pending verification `public_id`.

    Idempotent for a code that is already cancelled or expired (nothing changes). Raises
    VerificationNotFound (no such verification of this account, or a malformed id) or
    NotCancellable (a clerk has submitted it, or it was decided). One transaction."""
    verification = _own(account, public_id)
    expire_if_due(verification)
    if verification.status is VerificationStatus.PENDING and transition(
            verification, VerificationStatus.PENDING, VerificationStatus.CANCELLED,
            cancelled_at=utcnow()):
        audit.record(AuditTag.VERIFICATION_CANCEL, account_id=account.id, session_id=session_id,
                     verification=verification.public_id)
    db.session.commit()
    # Lost a race with a clerk, or never was pending: report what it is now.
    if verification.status not in (VerificationStatus.CANCELLED, VerificationStatus.EXPIRED):
        raise NotCancellable()
    return verification


def current(account: Account) -> Standing:
    """The account's level and its latest verification, a pending one expired lazily when its
    code has run out (that change is committed). Never raises for a missing verification."""
    latest = db.session.scalar(
        select(IdentityVerification).where(IdentityVerification.account_id == account.id)
        .order_by(IdentityVerification.created_at.desc(), IdentityVerification.id.desc())
        .limit(1)
    )
    if latest is not None and expire_if_due(latest):
        db.session.commit()
    office = db.session.get(PostOffice, latest.office_id) if latest and latest.office_id else None
    return Standing(loa=account.identity_loa, verification=latest, office=office)


# --- the account's data: export and erasure (idp.services.account_data) -------------------


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_rows(account_id: int) -> list[dict[str, Any]]:
    """The person's verifications for the data export: what was checked, where, when, and
    the outcome. Not the staff members' identities (they act for their office) and not the
    enrolment code (a credential, like the token values the export leaves out)."""
    rows = db.session.execute(
        select(IdentityVerification, PostOffice.code)
        .outerjoin(PostOffice, PostOffice.id == IdentityVerification.office_id)
        .where(IdentityVerification.account_id == account_id)
        .order_by(IdentityVerification.id)
    ).all()
    return [
        {"status": v.status.value, "assisted": v.assisted, "office": office_code,
         "requested_at": _iso(v.created_at), "expires_at": _iso(v.expires_at),
         "cancelled_at": _iso(v.cancelled_at), "checked_at": _iso(v.submitted_at),
         "document_type": v.document_type.value if v.document_type else None,
         "document_number": v.document_number,
         "document_issued_on": _iso(v.document_issued_on),
         "document_expires_on": _iso(v.document_expires_on),
         "verified_address": v.verified_address,
         "decided_at": _iso(v.decided_at),
         "reject_reason": v.reject_reason.value if v.reject_reason else None,
         "revoked_at": _iso(v.revoked_at),
         "revoke_reason": v.revoke_reason.value if v.revoke_reason else None}
        for v, office_code in rows
    ]


def erase_for_deletion(account_id: int, *, session_id: int | None) -> None:
    """Account deletion, in the caller's transaction. The account row stays (disabled), so
    the foreign key's ON DELETE CASCADE never fires: erase here. A pending code goes (nothing
    was checked yet); a check awaiting a supervisor is cancelled, so nobody approves an erased
    identity; every record keeps its outcome, office and dates (the staff's accountability)
    but loses the document data, which holds the ID number and the address."""
    db.session.execute(
        delete(IdentityVerification)
        .where(IdentityVerification.account_id == account_id,
               IdentityVerification.status == VerificationStatus.PENDING)
        .execution_options(synchronize_session=False)
    )
    submitted = db.session.scalars(
        select(IdentityVerification)
        .where(IdentityVerification.account_id == account_id,
               IdentityVerification.status == VerificationStatus.SUBMITTED)
    ).all()
    for verification in submitted:
        if transition(verification, VerificationStatus.SUBMITTED, VerificationStatus.CANCELLED,
                      cancelled_at=utcnow()):
            audit.record(AuditTag.VERIFICATION_CANCEL, account_id=account_id,
                         session_id=session_id, verification=verification.public_id,
                         reason="account_deleted")
    db.session.execute(
        update(IdentityVerification)
        .where(IdentityVerification.account_id == account_id)
        .values(document_number=None, document_issued_on=None, document_expires_on=None,
                verified_address=None)
        .execution_options(synchronize_session=False)
    )
