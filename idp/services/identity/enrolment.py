"""The citizen's side of counter verification (docs/architecture.md §8): ask for an enrolment code, cancel
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
  through idp.services.standing.verification_state. Audit events carry the account id and the
  verification's public id, never the code or personal data.
- The person's verifications are part of their data export and are erased with the account
  (export_rows, erase_for_deletion, called by idp.services.account_data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import delete, func, select, update

from idp.domain.enrolment_code import new_code
from idp.domain.errors import N_
from idp.errors import Refusal
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
from idp.services.platform import audit
from idp.services.platform.clock import iso
from idp.services.platform.secrets import new_public_id
from idp.services.standing import enrolment_codes
from idp.services.standing.enrolment_codes import INSERT_ATTEMPTS, RATE_WINDOW
from idp.services.standing.enrolment_codes import MAX_CODES_PER_DAY as MAX_CODES_PER_DAY  # re-exported
from idp.services.standing.verification_state import transition

PUBLIC_ID_RE = re.compile(r"[A-Za-z0-9_-]{22}")

NOT_ACTIVE = N_("This account cannot be verified: it is not active.")
ALREADY_VERIFIED = N_("Your identity has already been verified at a post office.")
TOO_MANY_CODES = N_("You have asked for too many codes today. Please try again tomorrow.")
NOT_FOUND = N_("This enrolment code was not found.")
NOT_CANCELLABLE = N_(
    "A clerk has already checked your card, so this request can no longer be cancelled online. "
    "A supervisor at the post office will decide on it."
)


# The citizen's refusals here are the people's-side Refusal (idp.errors), told apart by code.
def _refusal(code: str, message: str, status: int) -> Refusal:
    return Refusal(f"verification.{code}", message, status=status)


def account_not_active() -> Refusal:
    return _refusal("account_not_active", NOT_ACTIVE, 403)


def already_verified() -> Refusal:
    return _refusal("already_verified", ALREADY_VERIFIED, 409)


def too_many_codes() -> Refusal:
    return _refusal("too_many_codes", TOO_MANY_CODES, 429)


def verification_not_found() -> Refusal:
    return _refusal("not_found", NOT_FOUND, 404)


def not_cancellable() -> Refusal:
    return _refusal("not_cancellable", NOT_CANCELLABLE, 409)


@dataclass(frozen=True)
class Standing(enrolment_codes.Standing[IdentityVerification]):
    """What the status page shows: the account's level, its latest verification (if any) and
    that verification's office."""

    loa: int


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
    found: IdentityVerification | None = enrolment_codes.live(
        IdentityVerification.live_account_id, account.id)
    return found


def request_code(account: Account, *, session_id: int | None = None) -> IdentityVerification:
    """A pending verification with a fresh enrolment code, or the account's live one.

    Raises Refusal verification.account_not_active, .already_verified or .too_many_codes (no code
    stored). One transaction: commits the new code (audited VERIFICATION_REQUEST) or a lazy
    expiry."""
    if account.status is not AccountStatus.ACTIVE:
        raise account_not_active()
    if _is_verified(account):
        raise already_verified()

    def too_many() -> NoReturn:
        raise too_many_codes()

    def stage(expires_at: datetime) -> IdentityVerification:
        verification = IdentityVerification(
            public_id=new_public_id(), account_id=account.id,
            live_account_id=account.id, code=unused_code(), status=VerificationStatus.PENDING,
            expires_at=expires_at)
        db.session.add(verification)
        audit.record(AuditTag.VERIFICATION_REQUEST, account_id=account.id, session_id=session_id,
                     verification=verification.public_id)
        return verification

    # _live_or_none is looked up at each call, so a test can stand in for it.
    return enrolment_codes.issue(find_live=lambda: _live_or_none(account),
                                 recent_requests=lambda: _recent_requests(account.id),
                                 too_many=too_many, stage=stage)


def _own(account: Account, public_id: str) -> IdentityVerification:
    if not isinstance(public_id, str) or not PUBLIC_ID_RE.fullmatch(public_id):
        raise verification_not_found()
    verification = db.session.scalar(
        select(IdentityVerification).where(IdentityVerification.public_id == public_id,
                                           IdentityVerification.account_id == account.id)
    )
    if verification is None:
        raise verification_not_found()
    return verification


def cancel(account: Account, public_id: str, *, session_id: int | None = None) -> IdentityVerification:
    """Cancel the account's pending verification `public_id`.

    Idempotent for a code that is already cancelled or expired (nothing changes). Raises
    Refusal verification.not_found (no such verification of this account, or a malformed id) or
    verification.not_cancellable (a clerk has submitted it, or it was decided). One transaction."""
    verification = _own(account, public_id)
    if not enrolment_codes.cancel_pending(verification, lambda: audit.record(
            AuditTag.VERIFICATION_CANCEL, account_id=account.id, session_id=session_id,
            verification=verification.public_id)):
        # Lost a race with a clerk, or never was pending: report what it is now.
        raise not_cancellable()
    return verification


def current(account: Account) -> Standing:
    """The account's level and its latest verification, a pending one expired lazily when its
    code has run out (that change is committed). Never raises for a missing verification."""
    latest = enrolment_codes.latest(IdentityVerification.account_id, account.id)
    return Standing(loa=account.identity_loa, verification=latest.verification,
                    office=latest.office)


# --- the account's data: export and erasure (idp.services.account_data) -------------------


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
         "requested_at": iso(v.created_at), "expires_at": iso(v.expires_at),
         "cancelled_at": iso(v.cancelled_at), "checked_at": iso(v.submitted_at),
         "document_type": v.document_type.value if v.document_type else None,
         "document_number": v.document_number,
         "document_issued_on": iso(v.document_issued_on),
         "document_expires_on": iso(v.document_expires_on),
         "verified_address": v.verified_address,
         "decided_at": iso(v.decided_at),
         "reject_reason": v.reject_reason.value if v.reject_reason else None,
         "revoked_at": iso(v.revoked_at),
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
