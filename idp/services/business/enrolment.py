"""The representative's side of an organisation's counter check (docs/architecture.md §8): ask for an
enrolment code, cancel it, see where the check stands. Mirrors idp.services.identity.enrolment; what
the two have in common is idp.services.standing.enrolment_codes.

- Only the organisation's representative, with an active membership, asks for or cancels a
  code, and only while the organisation is not verified.
- At most one live (pending or submitted) check per organisation, a database rule (unique
  `live_organisation_id`): asking again returns the live one. At most MAX_CODES_PER_DAY
  (enrolment_codes) codes per organisation in 24 hours. A code is valid `enrolment_code_days` (30) days and
  is unique across citizens' and organisations' checks (enrolment.unused_code).
- Only a pending code is cancelled online: a submitted check is a clerk's record awaiting a
  supervisor. Statuses change only through idp.services.standing.verification_state.transition.
- A refusal is audited (ORGANISATION_REFUSED) and changes nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import func, select

from idp.domain.errors import N_
from idp.extensions import db
from idp.models import (
    Account,
    AuditTag,
    MemberRole,
    MembershipStatus,
    Organisation,
    OrganisationStatus,
    OrganisationVerification,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.business import organisations
from idp.services.business.refusals import OrganisationRefusal, refuse
from idp.services.identity import enrolment
from idp.services.platform import audit
from idp.services.platform.secrets import new_public_id
from idp.services.standing import enrolment_codes
from idp.services.standing.enrolment_codes import RATE_WINDOW, Standing

MSG_NOT_REPRESENTATIVE = N_("Only the representative of the organisation can do this.")
MSG_ALREADY_VERIFIED = N_("This organisation has already been verified at a post office.")
MSG_TOO_MANY = N_("You have asked for too many codes for this organisation today. Please try "
                  "again tomorrow.")
MSG_NOT_FOUND = N_("This enrolment code was not found.")
MSG_NOT_CANCELLABLE = N_("A clerk has already checked the documents, so this request can no "
                         "longer be cancelled online. A supervisor at the post office will "
                         "decide on it.")


def _representative_of(account: Account, public_id: str, *, action: str,
                       session_id: int | None) -> Organisation:
    def no(code: str, message: str, status: int, **ids: Any) -> NoReturn:
        refuse(code, message, action=action, account_id=account.id, session_id=session_id,
               status=status, **ids)

    try:
        membership = organisations.viewer_membership(account, public_id)
    except OrganisationRefusal as exc:
        no(exc.code, exc.message, exc.status)
    organisation = membership.organisation
    if membership.role is not MemberRole.REPRESENTATIVE \
            or membership.status is not MembershipStatus.ACTIVE:
        no("organisation.forbidden", MSG_NOT_REPRESENTATIVE, 403, organisation=organisation.public_id)
    if organisation.status is OrganisationStatus.VERIFIED:
        no("organisation.already_verified", MSG_ALREADY_VERIFIED, 409,
           organisation=organisation.public_id)
    return organisation


def _recent_requests(organisation_id: int) -> int:
    return db.session.scalar(
        select(func.count(OrganisationVerification.id)).where(
            OrganisationVerification.organisation_id == organisation_id,
            OrganisationVerification.created_at > utcnow() - RATE_WINDOW)
    ) or 0


def request_code(account: Account, public_id: str, *,
                 session_id: int | None = None) -> OrganisationVerification:
    """A pending check with a fresh enrolment code for the organisation `public_id`, or its
    live one. OrganisationRefusal (audited): organisation.not_found (404; also if the
    registration is being replaced as stale at this moment),
    organisation.forbidden (403, not its active representative), organisation.already_verified
    (409), organisation.too_many_codes (429). One transaction."""
    organisation = _representative_of(account, public_id, action="verification_request",
                                      session_id=session_id)
    organisation_pk, organisation_public_id = organisation.id, organisation.public_id

    def find_live() -> OrganisationVerification | None:
        if not organisations.still_there(organisation_pk):
            refuse("organisation.not_found", organisations.MSG_NOT_FOUND,
                   action="verification_request", account_id=account.id,
                   session_id=session_id, status=404)
        found: OrganisationVerification | None = enrolment_codes.live(
            OrganisationVerification.live_organisation_id, organisation_pk)
        return found

    def too_many() -> NoReturn:
        refuse("organisation.too_many_codes", MSG_TOO_MANY, action="verification_request",
               account_id=account.id, session_id=session_id, status=429,
               organisation=organisation_public_id)

    def stage(expires_at: datetime) -> OrganisationVerification:
        verification = OrganisationVerification(
            public_id=new_public_id(), organisation_id=organisation_pk,
            live_organisation_id=organisation_pk, code=enrolment.unused_code(),
            status=VerificationStatus.PENDING, requested_by=account.id, expires_at=expires_at)
        db.session.add(verification)
        audit.record(AuditTag.ORGANISATION_VERIFICATION_REQUEST, account_id=account.id,
                     session_id=session_id, organisation=organisation_public_id,
                     verification=verification.public_id)
        return verification

    return enrolment_codes.issue(find_live=find_live,
                                 recent_requests=lambda: _recent_requests(organisation_pk),
                                 too_many=too_many, stage=stage)


def cancel(account: Account, public_id: str, verification_id: str, *,
           session_id: int | None = None) -> OrganisationVerification:
    """Cancel the organisation's pending check `verification_id`. Idempotent for a code already
    cancelled or expired. OrganisationRefusal (audited): those of request_code except too many,
    organisation.verification_not_found (404), organisation.not_cancellable (409)."""
    organisation = _representative_of(account, public_id, action="verification_cancel",
                                      session_id=session_id)
    verification = None
    if isinstance(verification_id, str) and enrolment.PUBLIC_ID_RE.fullmatch(verification_id):
        verification = db.session.scalar(select(OrganisationVerification).where(
            OrganisationVerification.public_id == verification_id,
            OrganisationVerification.organisation_id == organisation.id))
    if verification is None:
        refuse("organisation.verification_not_found", MSG_NOT_FOUND, action="verification_cancel",
               account_id=account.id, session_id=session_id, status=404,
               organisation=organisation.public_id)
    if not enrolment_codes.cancel_pending(verification, lambda: audit.record(
            AuditTag.ORGANISATION_VERIFICATION_CANCEL, account_id=account.id,
            session_id=session_id, organisation=organisation.public_id,
            verification=verification.public_id)):
        refuse("organisation.not_cancellable", MSG_NOT_CANCELLABLE, action="verification_cancel",
               account_id=account.id, session_id=session_id, status=409,
               organisation=organisation.public_id, verification=verification.public_id)
    return verification


def standing(organisation: Organisation) -> Standing[OrganisationVerification]:
    """The latest check of the organisation and its office, a pending one expired lazily when
    its code ran out (committed)."""
    return enrolment_codes.latest(OrganisationVerification.organisation_id, organisation.id)
