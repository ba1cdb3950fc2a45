"""A verified parent registers a child under 14 at a counter (docs/architecture.md §14), on the
birth certificate; a second parent is linked the same way.

`register_child` is one transaction that writes, or refuses with nothing written but the
refusal's audit event:
- the guardian: an active account verified at a counter (LoA2), neither the clerk nor one of
  the clerk's office colleagues (the same for the child), whose ID card the clerk checked as
  in a verification (citizen_kind.card_problems; recorded on the link);
- the child's data pass the ID-number rules against the birth date and sex, the birth date
  says under 14 today in Vietnam (idp.domain.guardianship.check_child_registration) and the
  name follows the registration's rules (idp.domain.names); the clerk has seen the birth
  certificate and its data match what was typed;
- a new ID number: an Account (MINOR: no password, no phone, nobody signs in to it but a
  guardian), at identity level 2, because the identity was checked at a counter on the birth
  certificate with a verified parent present; its Guardianship (GUARDIAN_CHILD_REGISTER);
- an ID number that is a minor's account with fewer than two guardians, with the same data and
  the same birth certificate (number and date) as its first link: this parent is linked
  (GUARDIAN_LINK). Anything else with that number is refused without saying why
  (`account_exists`, as assisted registration does).

The link is PENDING and grants nothing until the parent confirms it with their own
authentication, on the same Vietnamese day (idp.services.identity.guardian_confirmation); a
link left unconfirmed past its day counts for nothing. The child's account is made at
registration all the same: it has no confirmed guardian, so nobody can sign in to it, and a
registration made again on another day (or by the other parent) finds it and links to it.

Retries: the same clerk sending the same data again within RETRY_WINDOW gets the earlier link
back with `created=False`: nothing new is written or sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from idp.domain import names
from idp.domain.document_check import DocumentCheck
from idp.domain.errors import N_, DomainError
from idp.domain.gender import parse_gender
from idp.domain.national_id import decode_national_id
from idp.errors import IdpError, InvalidInput
from idp.extensions import db
from idp.models import Account, AccountStatus, AuditTag, DocumentType, Guardianship, StaffMember
from idp.models.base import utcnow
from idp.services.counter.child_details import (
    BirthCertificate,
    ChildDetails,
    child_errors,
)
from idp.services.counter.citizen_kind import card_problems
from idp.services.counter.guardian_refusals import GuardianRefusal as GuardianRefusal
from idp.services.counter.guardian_refusals import refuse
from idp.services.identity.guardian_confirmation import confirmable
from idp.services.identity.guardian_sign_in import PUBLIC_ID
from idp.services.platform import audit
from idp.services.platform.locks import advisory_xact_lock
from idp.services.standing.delegation import is_colleague

MAX_GUARDIANS = 2  # the two parents
RETRY_WINDOW = timedelta(minutes=10)
INSERT_ATTEMPTS = 3  # a public id collision or a concurrent registration of the same child

MSG_INVALID = N_("Some details are missing or not valid. Check the marked fields.")
# The verification's wording of these problems ("reject the check") does not fit a link.
GUARDIAN_WORDING = {
    "document.expired": N_("The parent's document has expired: no child can be registered "
                           "with it."),
    "document.mismatch": N_("Every item must match the parent's document to register a child."),
}


class ChildInvalid(IdpError):
    """The typed data are refused; `errors` holds every field's problem."""

    def __init__(self, errors: list[InvalidInput]) -> None:
        super().__init__("invalid_input", MSG_INVALID)
        self.errors = errors


@dataclass(frozen=True)
class ChildRegistration:
    link: Guardianship
    created: bool  # False: a retry got the earlier registration back
    new_account: bool  # False: a second guardian linked to an existing child


def register_child(staff: StaffMember, guardian_national_id: str, child: ChildDetails,
                   certificate: BirthCertificate, check: DocumentCheck, *,
                   channel: str) -> ChildRegistration:
    """Register (or link a second guardian to) a child under 14 for `staff` (office from the
    staff member), the link pending until the parent confirms it
    (counter.guardian_confirmation, identity.guardian_confirmation). `check` is the parent's
    ID card, checked as in a verification (citizen_kind.card_problems). Raises ChildInvalid
    (400, every problem) or GuardianRefusal (400 with the card's problems, 403/409; audited).
    One transaction."""
    errors = child_errors(child, certificate)
    guardian_id = _normalized(guardian_national_id)
    if guardian_id is None:
        errors.insert(0, InvalidInput("national_id.format", N_(
            "Type the parent's 12-digit ID number."), field="guardian_national_id"))
    if errors or certificate.issued_on is None or child.birthdate is None:
        raise ChildInvalid(errors)
    assert guardian_id is not None
    child_id = decode_national_id(child.national_id).number
    clean = ChildDetails(child_id, names.normalize_name(child.full_name), child.birthdate,
                         parse_gender(child.gender).value)
    cert = BirthCertificate(certificate.number.strip(), certificate.issued_on, True)
    for number in (guardian_id, child_id):
        if number == staff.national_id:
            _refuse(staff, "own_account", channel=channel, account_id=None)
        if is_colleague(number, staff.office_id):
            _refuse(staff, "colleague", channel=channel, account_id=None)
    for _ in range(INSERT_ATTEMPTS):
        advisory_xact_lock(f"guardian-child:{child_id}")  # at most two guardians, even racing
        guardian = db.session.scalar(select(Account).where(Account.national_id == guardian_id))
        if guardian is None or not guardian.is_active or guardian.identity_loa < 2:
            _refuse(staff, "guardian_not_verified", channel=channel,
                    account_id=guardian.id if guardian else None)
        assert guardian is not None
        problems = [DomainError(p.code, GUARDIAN_WORDING.get(p.code, p.message))
                    for p in card_problems(guardian, check)]
        if problems:
            _refuse(staff, problems[0].code, channel=channel, account_id=guardian.id,
                    problems=problems)
        try:
            result = _register(staff, guardian, clean, cert, check, channel=channel)
            db.session.commit()
            return result
        except IntegrityError:
            db.session.rollback()  # a concurrent registration: the next round finds it
    raise RuntimeError("could not store the child's registration")  # pragma: no cover


def _normalized(raw: str) -> str | None:
    try:
        return decode_national_id(raw).number
    except DomainError:
        return None


def _register(staff: StaffMember, guardian: Account, child: ChildDetails,
              cert: BirthCertificate, check: DocumentCheck, *,
              channel: str) -> ChildRegistration:
    existing = db.session.scalar(select(Account).where(Account.national_id == child.national_id))
    if existing is None:
        return _create_child(staff, guardian, child, cert, check, channel=channel)
    earlier = _earlier_attempt(staff, guardian, existing, child, cert)
    if earlier is not None:
        db.session.commit()  # nothing changed: ends the read transaction
        return ChildRegistration(earlier, created=False, new_account=_is_first(earlier))
    certificate = _certificate_of(existing)
    _drop_lapsed(existing, guardian)
    if (existing.status is not AccountStatus.MINOR or _declared(existing) != _declared(child)
            or certificate not in (None, (cert.number, cert.issued_on))
            or _linked(existing, guardian) or _live_links(existing) >= MAX_GUARDIANS):
        _refuse(staff, "account_exists", channel=channel, account_id=existing.id)
    link = _link(staff, guardian, existing, cert, check)
    audit.record(AuditTag.GUARDIAN_LINK, account_id=existing.id, actor_id=guardian.id,
                 staff_id=staff.id, office_id=staff.office_id, channel=channel,
                 guardianship=link.public_id)
    return ChildRegistration(link, created=True, new_account=False)


def _create_child(staff: StaffMember, guardian: Account, child: ChildDetails,
                  cert: BirthCertificate, check: DocumentCheck, *,
                  channel: str) -> ChildRegistration:
    assert child.birthdate is not None
    account = Account(
        sub=secrets.token_urlsafe(32), national_id=child.national_id, full_name=child.full_name,
        name_search_key=names.search_key(child.full_name), birthdate=child.birthdate,
        gender=parse_gender(child.gender), phone=None, email=None, locale=guardian.locale,
        status=AccountStatus.MINOR,
        # Checked at the counter on the birth certificate, with a verified parent present.
        identity_loa=2)
    db.session.add(account)
    db.session.flush()
    link = _link(staff, guardian, account, cert, check)
    audit.record(AuditTag.ACCOUNT_CREATE, account_id=account.id, staff_id=staff.id,
                 office_id=staff.office_id, channel=channel, minor=True)
    audit.record(AuditTag.GUARDIAN_CHILD_REGISTER, account_id=account.id, actor_id=guardian.id,
                 staff_id=staff.id, office_id=staff.office_id, channel=channel,
                 guardianship=link.public_id)
    return ChildRegistration(link, created=True, new_account=True)


def _link(staff: StaffMember, guardian: Account, child: Account, cert: BirthCertificate,
          check: DocumentCheck) -> Guardianship:
    assert cert.issued_on is not None
    link = Guardianship(
        public_id=secrets.token_urlsafe(16), child_account_id=child.id,
        guardian_account_id=guardian.id, office_id=staff.office_id, created_by_id=staff.id,
        birth_certificate_number=cert.number, birth_certificate_issued_on=cert.issued_on,
        birth_certificate_matches=True, document_type=DocumentType(check.document_type),
        document_number=check.document_number, document_issued_on=check.issued_on,
        document_expires_on=check.expires_on, created_at=utcnow())
    db.session.add(link)
    db.session.flush()
    return link


def _declared(values: Account | ChildDetails) -> tuple[object, ...]:
    gender = values.gender.value if hasattr(values.gender, "value") else values.gender
    return values.national_id, values.full_name, values.birthdate, gender


def _standing(child: Account) -> list[Guardianship]:
    """The child's links that were confirmed (even if ended since) or may still be today,
    oldest first; a link left unconfirmed past its day counts for nothing."""
    links = db.session.scalars(select(Guardianship).where(
        Guardianship.child_account_id == child.id).order_by(Guardianship.id)).all()
    now = utcnow()
    return [link for link in links if link.confirmed_at is not None or confirmable(link, now)]


def _certificate_of(child: Account) -> tuple[str, date] | None:
    """The birth certificate of the child's first link: a second guardian brings the same one
    (same child, same certificate)."""
    standing = _standing(child)
    if not standing:
        return None
    return standing[0].birth_certificate_number, standing[0].birth_certificate_issued_on


def _drop_lapsed(child: Account, guardian: Account) -> None:
    """This parent's earlier link to the child, never confirmed and past its day, is replaced
    (one link per parent and child); its registration stays in the audit trail."""
    link = db.session.scalar(select(Guardianship).where(
        Guardianship.child_account_id == child.id,
        Guardianship.guardian_account_id == guardian.id, Guardianship.confirmed_at.is_(None)))
    if link is not None and not confirmable(link):
        db.session.delete(link)
        db.session.flush()


def _linked(child: Account, guardian: Account) -> bool:
    return db.session.scalar(select(Guardianship.id).where(
        Guardianship.child_account_id == child.id,
        Guardianship.guardian_account_id == guardian.id)) is not None


def _live_links(child: Account) -> int:
    return sum(1 for link in _standing(child) if link.ended_at is None)


def _is_first(link: Guardianship) -> bool:
    first = db.session.scalar(select(func.min(Guardianship.id)).where(
        Guardianship.child_account_id == link.child_account_id))
    return first == link.id


def _earlier_attempt(staff: StaffMember, guardian: Account, child: Account,
                     details: ChildDetails, cert: BirthCertificate) -> Guardianship | None:
    """The same clerk's link of this guardian to this child moments ago, with the same data."""
    link = db.session.scalar(select(Guardianship).where(
        Guardianship.child_account_id == child.id,
        Guardianship.guardian_account_id == guardian.id, Guardianship.ended_at.is_(None)))
    if (link is None or link.created_by_id != staff.id or link.office_id != staff.office_id
            or utcnow() - link.created_at > RETRY_WINDOW or _declared(child) != _declared(details)
            or (link.birth_certificate_number, link.birth_certificate_issued_on)
            != (cert.number, cert.issued_on)):
        return None
    return link


def _refuse(staff: StaffMember, code: str, *, channel: str, account_id: int | None,
            problems: list[DomainError] | None = None) -> None:
    refuse(staff, code, channel=channel, account_id=account_id, problems=problems)


def registration_for(staff: StaffMember, public_id: str) -> Guardianship | None:
    """A link made at the staff member's office (for the result page); None otherwise."""
    if not isinstance(public_id, str) or not PUBLIC_ID.fullmatch(public_id):
        return None
    return db.session.scalar(select(Guardianship).where(
        Guardianship.public_id == public_id, Guardianship.office_id == staff.office_id))
