"""What is particular to a citizen's identity check at the counter (docs/architecture.md §8), as the counter
workflow (idp.services.counter.workflow) needs it: the check of the physical ID card against the
account, the account's level of assurance and verified address on approval and revocation, and
the notices to the citizen (SMS, and e-mail when their address is confirmed, in the account's
language).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import force_locale, gettext

from idp.domain.document_check import DocumentCheck, check_problems
from idp.domain.errors import N_, DomainError
from idp.models import (
    Account,
    AuditTag,
    DocumentType,
    IdentityVerification,
    RejectReason,
    StaffMember,
)
from idp.services.counter.kind import AuditTags, CheckKind
from idp.services.counter.refusals import CounterRefusal
from idp.services.identity import logout
from idp.services.platform import notify
from idp.services.platform.clock import today_in_vietnam
from idp.services.portals import tokens

REVOKE_REASON = "verification_revoked"

# Plain words for the reason codes, shown to staff and sent to the citizen.
REASON_LABELS = {
    RejectReason.DOCUMENT_EXPIRED: N_("The ID document has expired"),
    RejectReason.NUMBER_MISMATCH: N_("The number on the document is not the declared ID number"),
    RejectReason.DATA_MISMATCH: N_("The name, date of birth or sex does not match the document"),
    RejectReason.PHOTO_MISMATCH: N_("The photo does not match the person"),
    RejectReason.DOCUMENT_DAMAGED: N_("The document is damaged or cannot be read"),
    RejectReason.SUSPECTED_FRAUD: N_("Suspected fraud"),
    RejectReason.OTHER: N_("Another reason"),
}

def is_own(staff: StaffMember, verification: IdentityVerification) -> bool:
    return verification.account.national_id == staff.national_id


def card_problems(account: Account, check: DocumentCheck) -> list[DomainError]:
    """idp.domain.document_check.check_problems of the citizen's ID card against the account,
    today in Vietnam: the one rule of a citizen's card check at the counter, for a
    verification and for a mandate (idp.services.counter.mandates)."""
    return check_problems(check, declared_national_id=account.national_id,
                          birthdate=account.birthdate, today=today_in_vietnam())


def problems(verification: IdentityVerification, check: DocumentCheck) -> list[DomainError]:
    """`card_problems` of the verification's account; an expired card is refused with
    `document.expired` (the clerk rejects instead)."""
    return card_problems(verification.account, check)


def check_values(staff: StaffMember, check: DocumentCheck, now: datetime) -> dict[str, Any]:
    return {
        "office_id": staff.office_id, "clerk_id": staff.id, "submitted_at": now,
        "document_type": DocumentType(check.document_type),
        "document_number": check.document_number,
        "document_issued_on": check.issued_on, "document_expires_on": check.expires_on,
        "name_match": check.name_match, "birthdate_match": check.birthdate_match,
        "sex_match": check.sex_match, "photo_match": check.photo_match,
        "verified_address": check.address.to_json() if check.address else None,
    }


def submit_audit(check: DocumentCheck) -> dict[str, Any]:
    return {"document_type": check.document_type, "address": check.address is not None}


def approved(verification: IdentityVerification, now: datetime) -> dict[str, Any]:
    """The account becomes LoA2 and takes the verified postal address, if one was recorded."""
    account = verification.account
    account.identity_loa = 2
    if verification.verified_address:
        account.postal_address = verification.verified_address
        account.address_verified_at = now
    return {"address": verification.verified_address is not None}


def revoked(verification: IdentityVerification) -> list[int]:
    """The account drops to LoA1 and loses its verified address; every sign-in session ends and
    every token is revoked, with back-channel logouts queued to the portals."""
    account = verification.account
    account.identity_loa = 1
    account.postal_address = None
    account.address_verified_at = None
    return _sign_out_everywhere(account)


def _sign_out_everywhere(account: Account) -> list[int]:
    """Sessions carry the LoA they were opened with, and tokens the acr they were issued at:
    end them all (docs/architecture.md §9: refresh tokens are revoked on verification revocation)."""
    logouts = logout.end_other_sessions_in_transaction(
        account.id, current_session_id=None, reason=REVOKE_REASON)
    tokens.revoke_for_account(account.id, reason=REVOKE_REASON)
    return logouts


def _notify_approved(account: Account) -> None:
    with force_locale(account.locale or "vi"):
        sms = gettext("PostID: your identity has been verified at a post office. Sign in again "
                      "to use services that need verified identity.")
        subject = gettext("PostID: your identity has been verified")
        body = gettext("Hello %(name)s,\n\nYour identity has been verified in person at a post "
                       "office. Sign in again to use public services that need a verified "
                       "identity.", name=account.full_name)
    notify.tell_account(account, template="counter.approved", sms=sms, subject=subject, body=body)


def _notify_rejected(account: Account, reason: RejectReason) -> None:
    with force_locale(account.locale or "vi"):
        why = gettext(REASON_LABELS[reason])
        sms = gettext("PostID: your identity could not be verified at the post office (%(why)s). "
                      "You can ask for a new code online and visit any post office.", why=why)
        subject = gettext("PostID: your identity could not be verified")
        body = gettext("Hello %(name)s,\n\nYour identity could not be verified at the post "
                       "office. Reason: %(why)s.\n\nYou can ask for a new enrolment code in your "
                       "account and visit any post office with your ID card.",
                       name=account.full_name, why=why)
    notify.tell_account(account, template="counter.rejected", sms=sms, subject=subject, body=body)


def _notify_revoked(account: Account) -> None:
    with force_locale(account.locale or "vi"):
        sms = gettext("PostID: the verification of your identity was withdrawn and every device "
                      "was signed out. Visit a post office with your ID card.")
        subject = gettext("PostID: the verification of your identity was withdrawn")
        body = gettext("Hello %(name)s,\n\nThe in-person verification of your identity was "
                       "withdrawn by the post office, and every device and service was signed "
                       "out. To be verified again, visit any post office with your ID card.",
                       name=account.full_name)
    notify.tell_account(account, template="counter.revoked", sms=sms, subject=subject, body=body)


CITIZEN = CheckKind(
    model=IdentityVerification,
    refusal=CounterRefusal,
    owner=IdentityVerification.account,
    tags=AuditTags(refused=AuditTag.COUNTER_VERIFICATION_REFUSED,
                   view=AuditTag.COUNTER_VERIFICATION_VIEW,
                   submit=AuditTag.COUNTER_VERIFICATION_SUBMIT,
                   approve=AuditTag.COUNTER_VERIFICATION_APPROVE,
                   reject=AuditTag.COUNTER_VERIFICATION_REJECT,
                   revoke=AuditTag.COUNTER_VERIFICATION_REVOKE),
    account_id=lambda verification: verification.account_id,
    audit_ids=lambda verification: {},
    account=lambda verification: verification.account,
    is_own=is_own,
    owner_exists=None,  # nothing online replaces an account while a clerk acts on it
    problems=problems,
    check_values=check_values,
    submit_audit=submit_audit,
    approved=approved,
    revoked=revoked,
    notify_approved=lambda verification: _notify_approved(verification.account),
    notify_rejected=lambda verification, reason: _notify_rejected(verification.account, reason),
    notify_revoked=lambda verification: _notify_revoked(verification.account),
)
