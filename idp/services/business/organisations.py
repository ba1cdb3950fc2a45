"""Registering an organisation online, and what the organisation pages show (docs/architecture.md §10).

- A signed-in, active citizen registers an organisation by its tax code and becomes its
  representative: an active member with the role REPRESENTATIVE. The organisation is
  UNVERIFIED until a counter check is approved (idp.services.business.enrolment).
- One organisation per tax code (a unique index; a concurrent registration loses with the
  same refusal as a sequential one). At most MAX_REGISTRATIONS_PER_DAY per account in 24 h.
- Squatting: anybody can type someone else's tax code. An unverified registration holds its
  tax code for HOLD_DAYS after it was made; after that, unless a check of it was ever
  approved at a counter, another person's registration of the same tax code replaces it:
  the stale one and its codes are deleted, a pending code cancelled first so that a clerk
  cannot check it at the same moment (audited ORGANISATION_REGISTER with `replaced`). A
  check awaiting a supervisor (submitted) also holds the registration. A registration once
  approved, even if since revoked, is evidence of a counter action: never replaced online.
  A check that was rejected (e.g. suspected fraud) does not hold it.
- Races: the row being replaced is locked (SELECT ... FOR UPDATE) before it is released;
  code requests and counter actions lock it against deletion (`still_there`, FOR KEY
  SHARE), so each either sees it gone (not found) or finishes before it is replaced.
- Known limits: the hold can be renewed by a squatter with several accounts taking turns
  (each replacement holds for another HOLD_DAYS), and a legitimate representative whose
  registration was never approved can lose it (and its live code) after HOLD_DAYS. There
  is no counter action yet to release a tax code held by a squatter: the real
  representative waits for the hold to end or asks the operator. Replacing deletes the
  stale registration with its checks, including a rejected check's counter record (its
  audit events stay).
- Every refusal is audited (idp.services.business.refusals) and stores nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from idp.domain.document_check import PostalAddress, address_problems, check_address
from idp.domain.errors import N_, DomainError
from idp.domain.organisation_rules import (
    MSG_TITLE,
    check_title,
    normalize_organisation_name,
    parse_typed_tax_code,
)
from idp.domain.tax_code import TaxCode
from idp.extensions import db, rowcount
from idp.models import (
    Account,
    AuditTag,
    MemberRole,
    MembershipStatus,
    Organisation,
    OrganisationMember,
    OrganisationStatus,
    OrganisationVerification,
    RepresentativeTitle,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.business.refusals import OrganisationRefusal, refuse
from idp.services.platform import audit
from idp.services.platform.secrets import new_public_id
from idp.services.standing.organisation_access import identity_verified
from idp.services.standing.verification_state import transition

MAX_REGISTRATIONS_PER_DAY = 5
RATE_WINDOW = timedelta(hours=24)
HOLD_DAYS = 30
PUBLIC_ID_LENGTH = 22
# A check in one of these statuses was approved by a supervisor (and perhaps revoked since).
EVER_APPROVED = (VerificationStatus.APPROVED, VerificationStatus.REVOKED)

MSG_REGISTER_NOT_VERIFIED = N_("To register an organisation, your own identity must first be "
                               "verified at a post office (level 2).")
MSG_NOT_ACTIVE = N_("This account cannot register an organisation: it is not active.")
MSG_DUPLICATE = N_("An organisation with this tax code is already registered. If it is yours "
                   "and you did not register it, bring its registration certificate to a post "
                   "office.")
MSG_TOO_MANY = N_("You have registered too many organisations today. Please try again "
                  "tomorrow.")
MSG_NOT_FOUND = N_("This organisation was not found.")

_ADDRESS_FIELDS = {"address.province": "province_code", "address.ward": "ward",
                   "address.street": "street"}


@dataclass(frozen=True)
class RegistrationInput:
    """The registration form as typed; every rule is applied by `register`."""

    tax_code: str
    name: str
    title: str
    province_code: str
    ward: str
    street: str


Problem = tuple[str, str, str]  # code, message, form field


def _registration_values(details: RegistrationInput, account: Account) -> tuple[
        TaxCode | None, str | None, PostalAddress | None, RepresentativeTitle | None,
        list[Problem]]:
    """Each field checked on its own, in the form's order; the title against the kind of tax
    code only when both are valid on their own (else its refusal would mislead)."""
    problems: list[Problem] = []
    tax_code = name = head_office = title = None
    try:
        tax_code = parse_typed_tax_code(details.tax_code)
    except DomainError as exc:
        problems.append((exc.code, exc.message, "tax_code"))
    try:
        name = normalize_organisation_name(details.name)
    except DomainError as exc:
        problems.append((exc.code, exc.message, "name"))
    address = address_problems(details.street, details.ward, details.province_code)
    for field in ("province_code", "ward", "street"):
        problems += [(p.code, p.message, field) for p in address
                     if _ADDRESS_FIELDS[p.code] == field]
    if not address:
        head_office = check_address(details.street, details.ward, details.province_code)
    try:
        title = RepresentativeTitle(details.title)
    except ValueError:
        problems.append(("organisation.title", MSG_TITLE, "title"))
    if title is not None and tax_code is not None:
        try:
            check_title(title.value, tax_code, own_national_id=account.national_id)
        except DomainError as exc:
            problems.append((exc.code, exc.message, "title"))
    return tax_code, name, head_office, title, problems


def _recent_registrations(account_id: int) -> int:
    return db.session.scalar(
        select(func.count(Organisation.id)).where(
            Organisation.representative_account_id == account_id,
            Organisation.created_at > utcnow() - RATE_WINDOW)
    ) or 0


def _stale(existing: Organisation, *, by: Account) -> bool:
    """Someone else's unverified registration past its hold (checks in `_release_if_stale`)."""
    return (existing.representative_account_id != by.id
            and existing.status is OrganisationStatus.UNVERIFIED
            and existing.created_at <= utcnow() - timedelta(days=HOLD_DAYS))


def _release_if_stale(existing: Organisation, *, by: Account) -> bool:
    """Delete `existing` if its hold on the tax code has lapsed (see the module docstring), in
    the caller's transaction. True if it is gone."""
    if not _stale(existing, by=by):
        return False
    # Lock the row first (a concurrent replacer, code request or clerk waits for this
    # transaction), then decide on what it is now: a concurrent winner may have deleted it.
    locked = db.session.scalar(
        select(Organisation).where(Organisation.id == existing.id).with_for_update()
        .execution_options(populate_existing=True))
    if locked is None:
        db.session.expunge(existing)
        return False  # replaced meanwhile: the new registration holds the tax code
    if not _stale(locked, by=by):
        return False
    pending = db.session.scalar(select(OrganisationVerification).where(
        OrganisationVerification.live_organisation_id == existing.id))
    if pending is not None and not transition(pending, VerificationStatus.PENDING,
                                              VerificationStatus.CANCELLED, cancelled_at=utcnow()):
        return False  # a clerk has just checked it
    # Only an approval is evidence that the registration is the organisation's own: a check
    # rejected (suspected fraud, wrong documents) must not make a squat permanent.
    checked = exists().where(OrganisationVerification.organisation_id == existing.id,
                             OrganisationVerification.status.in_(EVER_APPROVED))
    gone = rowcount(db.session.execute(
        delete(Organisation)
        .where(and_(Organisation.id == existing.id, Organisation.version == existing.version,
                    Organisation.status == OrganisationStatus.UNVERIFIED, ~checked))
        .execution_options(synchronize_session=False)
    )) == 1
    if gone:
        db.session.expunge(existing)
        if pending is not None:
            db.session.expunge(pending)
    return gone


def still_there(organisation_pk: int) -> bool:
    """Whether the organisation's row exists, locking it against deletion until the caller's
    transaction ends (FOR KEY SHARE: status updates do not conflict with it, a replacement
    does). For the code requests and counter actions that a replacement may race with: the
    stale registration is deleted either before, and then this says False (answer not found),
    or after the caller's transaction."""
    return db.session.scalar(
        select(Organisation.id).where(Organisation.id == organisation_pk)
        .with_for_update(read=True, key_share=True)) is not None


def register(account: Account, details: RegistrationInput, *,
             session_id: int | None = None) -> Organisation:
    """Register an organisation with `account` as its representative.

    Raises OrganisationRefusal (audited; nothing else stored): a tax code, name, address or
    title rule (400, with `field`), organisation.duplicate (409), organisation.too_many (429),
    organisation.account_not_active (403), organisation.identity_not_verified (403: the
    representative's own identity must be verified at a counter first). One transaction."""

    account_id = account.id  # readable after a failed flush too

    def no(code: str, message: str, status: int = 400, field: str | None = None,
           more: tuple[tuple[str, str, str], ...] = ()) -> NoReturn:
        refuse(code, message, action="register", account_id=account_id, session_id=session_id,
               status=status, field=field, more=more)

    if not account.is_active:
        no("organisation.account_not_active", MSG_NOT_ACTIVE, 403)
    if not identity_verified(account):
        # The representative acts for the organisation like any member: verified in person.
        # It also makes squatting a tax code cost a visit to a post office with one's own card.
        no("organisation.identity_not_verified", MSG_REGISTER_NOT_VERIFIED, 403)
    tax_code, name, head_office, title, problems = _registration_values(details, account)
    if problems:  # every field's refusal at once, so the form shows them all in one round
        (code, message, field), *more = problems
        no(code, message, field=field, more=tuple(more))
    assert tax_code is not None and name is not None and head_office is not None \
        and title is not None
    if _recent_registrations(account.id) >= MAX_REGISTRATIONS_PER_DAY:
        no("organisation.too_many", MSG_TOO_MANY, 429)
    existing = db.session.scalar(select(Organisation).where(Organisation.tax_code == tax_code.value))
    replaced = existing.public_id if existing is not None else None
    if existing is not None and not _release_if_stale(existing, by=account):
        no("organisation.duplicate", MSG_DUPLICATE, 409, "tax_code")
    now = utcnow()
    organisation = Organisation(
        public_id=new_public_id(), tax_code=tax_code.value, tax_code_kind=tax_code.kind,
        name=name, head_office=head_office.to_json(), representative_account_id=account.id,
        representative_title=title, status=OrganisationStatus.UNVERIFIED, created_at=now)
    extra: dict[str, Any] = {"replaced": replaced} if replaced else {}
    try:
        db.session.add(organisation)
        db.session.flush()  # its id, for the membership
        db.session.add(OrganisationMember(
            public_id=new_public_id(), organisation_id=organisation.id,
            national_id=account.national_id, live_national_id=account.national_id,
            account_id=account.id, role=MemberRole.REPRESENTATIVE, status=MembershipStatus.ACTIVE,
            invited_by=account.id, invited_at=now, accepted_at=now, changed_by=account.id))
        audit.record(AuditTag.ORGANISATION_REGISTER, account_id=account.id, session_id=session_id,
                     organisation=organisation.public_id, kind=tax_code.kind.value, **extra)
        db.session.commit()
    except IntegrityError:
        # A concurrent registration of the same tax code won (the unique index).
        no("organisation.duplicate", MSG_DUPLICATE, 409, "tax_code")
    return organisation


def hold_ends(organisation: Organisation) -> datetime:
    """When an unverified registration stops holding its tax code against other people."""
    return organisation.created_at + timedelta(days=HOLD_DAYS)


# --- what the pages show ------------------------------------------------------------------


def viewer_membership(account: Account, public_id: str) -> OrganisationMember:
    """The account's live (active or suspended) membership of the organisation `public_id`.
    OrganisationRefusal 404 (not audited: a page view) for anybody else, or a malformed id."""
    membership = None
    if isinstance(public_id, str) and len(public_id) == PUBLIC_ID_LENGTH:
        membership = db.session.scalar(
            select(OrganisationMember)
            .join(Organisation, Organisation.id == OrganisationMember.organisation_id)
            # the joined row fills the relationship: one join, not two
            .options(contains_eager(OrganisationMember.organisation))
            .where(Organisation.public_id == public_id,
                   OrganisationMember.account_id == account.id,
                   OrganisationMember.status.in_((MembershipStatus.ACTIVE,
                                                  MembershipStatus.SUSPENDED))))
    if membership is None:
        raise OrganisationRefusal("organisation.not_found", MSG_NOT_FOUND, status=404)
    return membership


def my_memberships(account: Account) -> list[OrganisationMember]:
    """The account's live memberships (active or suspended), by organisation name."""
    rows = db.session.scalars(
        select(OrganisationMember)
        .options(joinedload(OrganisationMember.organisation))
        .where(OrganisationMember.account_id == account.id,
               OrganisationMember.status.in_((MembershipStatus.ACTIVE,
                                              MembershipStatus.SUSPENDED)))
    ).all()
    return sorted(rows, key=lambda m: (m.organisation.name, m.organisation.tax_code))

