"""From the 14th birthday a young person activates their own account at a counter, as in
assisted registration (docs/architecture.md §8, §14): the guardians' links stop granting
sign-in on that day (idp.services.standing.delegation), and the child's account, which has no
password and no phone, becomes the young person's own.

`activate_young_person` is one transaction that writes, or refuses with nothing written but the
refusal's audit event:
- the clerk typed the card data and checked the card exactly as for a walk-in
  (assisted_registration.walk_in_errors); the typed data are those of a MINOR account whose
  holder is 14 or older today in Vietnam, and the young person's phone has no account;
- the account becomes PENDING_ACTIVATION with that phone, at identity level 1 (the card check
  raises it when a second person approves it); every guardianship ends (`turned_14`,
  GUARDIAN_LINK_END) with the sessions opened through it, and each guardian is told by SMS;
- the card check waits in the office's approval queue, and the activation code goes by SMS,
  both exactly as for a walk-in; the young person then activates at /activate.

Retries: the same clerk sending the same data again within RETRY_WINDOW gets the earlier
activation back with `created=False`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from idp.domain import guardianship as rules
from idp.domain import names
from idp.domain.document_check import DocumentCheck
from idp.domain.errors import N_
from idp.errors import IdpError
from idp.extensions import db, rowcount
from idp.models import (
    Account,
    AccountStatus,
    AuditTag,
    Guardianship,
    IdentityVerification,
    StaffMember,
)
from idp.models.base import utcnow
from idp.services.counter import steps
from idp.services.counter.assisted_registration import (
    RETRY_WINDOW,
    WalkInInvalid,
    add_assisted_check_in_transaction,
    normalize_document_number,
    send_activation_code_in_transaction,
    walk_in_errors,
)
from idp.services.identity import accounts, acting
from idp.services.identity.accounts import CitizenDetails
from idp.services.platform import audit, notify
from idp.services.platform.clock import today_in_vietnam
from idp.services.portals import backchannel
from idp.services.standing.delegation import is_colleague

END_REASON = "turned_14"

MESSAGES = {
    "own_account": N_("You cannot act on your own account. Ask a colleague."),
    "colleague": N_("You cannot act on a colleague's account. Ask a colleague of another "
                    "office."),
    "not_found": N_("No child's account has exactly these details. Check the ID number, name, "
                    "date of birth and sex against the card. A young person who never had a "
                    "child's account registers as a walk-in citizen."),
    "too_young": N_("The young person is not 14 yet: until the 14th birthday, a guardian signs "
                   "in for them."),
    "phone_taken": N_("This phone number already belongs to a PostID account. Ask for the young "
                      "person's own mobile phone number."),
}
STATUS = {"own_account": 403, "colleague": 403, "not_found": 404, "too_young": 409,
          "phone_taken": 409}


class ActivationRefusal(IdpError):
    def __init__(self, code: str) -> None:
        super().__init__(code, MESSAGES[code])
        self.status = STATUS[code]


@dataclass(frozen=True)
class YoungPersonActivation:
    account: Account
    verification: IdentityVerification
    created: bool  # False: a retry got the earlier activation back


def activate_young_person(staff: StaffMember, details: CitizenDetails,
                          document_check: DocumentCheck, *, channel: str,
                          activation_link: str) -> YoungPersonActivation:
    """Turn a MINOR account whose holder is now 14+ into one pending the holder's own
    activation. Raises WalkInInvalid (400) or ActivationRefusal (403/404/409, audited)."""
    errors = walk_in_errors(details, document_check)
    if errors:
        raise WalkInInvalid(errors)
    clean = accounts.validate_citizen(details, None)
    check = DocumentCheck(**{**document_check.__dict__,
                             "document_number": normalize_document_number(
                                 document_check.document_number)})
    if clean.national_id == staff.national_id:
        _refuse(staff, "own_account", channel=channel, account_id=None)
    if is_colleague(clean.national_id, staff.office_id):
        _refuse(staff, "colleague", channel=channel, account_id=None)
    account = db.session.scalar(select(Account).where(Account.national_id == clean.national_id))
    if account is not None and account.status is AccountStatus.PENDING_ACTIVATION:
        earlier = _earlier_attempt(staff, account, clean)
        if earlier is not None:
            db.session.commit()
            return YoungPersonActivation(account, earlier, created=False)
    if account is None or account.status is not AccountStatus.MINOR or \
            _declared(account) != _declared(clean):
        _refuse(staff, "not_found", channel=channel, account_id=account.id if account else None)
    assert account is not None
    if today_in_vietnam() < rules.link_ends_on(account.birthdate):
        _refuse(staff, "too_young", channel=channel, account_id=account.id)
    if db.session.scalar(select(Account.id).where(Account.phone == clean.phone)):
        _refuse(staff, "phone_taken", channel=channel, account_id=account.id)
    won = rowcount(db.session.execute(
        update(Account).where(Account.id == account.id, Account.status == AccountStatus.MINOR)
        # Level 1 until a second person approves the card check in the office's queue
        # (citizen_kind.approved raises it): never level 2 on one clerk's word.
        .values(status=AccountStatus.PENDING_ACTIVATION, phone=clean.phone, email=clean.email,
                identity_loa=1, updated_at=utcnow())
        .execution_options(synchronize_session=False)))
    if not won:  # a concurrent activation of the same account: the first one stands
        _refuse(staff, "not_found", channel=channel, account_id=account.id)
    db.session.refresh(account)
    queued = end_links_in_transaction(account, staff=staff, channel=channel)
    verification = add_assisted_check_in_transaction(staff, account, check)
    send_activation_code_in_transaction(account, activation_link)
    audit.record(AuditTag.COUNTER_ASSISTED_REGISTRATION, account_id=account.id, staff_id=staff.id,
                 office_id=staff.office_id, channel=channel, verification=verification.public_id,
                 turned_14=True)
    db.session.commit()
    backchannel.deliver_after_commit(queued)
    return YoungPersonActivation(account, verification, created=True)


def end_links_in_transaction(child: Account, *, staff: StaffMember, channel: str) -> list[int]:
    """End every guardianship of `child` (turned 14) with the sessions opened through it."""
    now = utcnow()
    queued: list[int] = []
    for link in db.session.scalars(select(Guardianship).where(
            Guardianship.child_account_id == child.id, Guardianship.ended_at.is_(None))).all():
        link.ended_at, link.end_reason = now, END_REASON
        queued += acting.end_guardian_sessions_in_transaction(link, reason=END_REASON)
        audit.record(AuditTag.GUARDIAN_LINK_END, account_id=child.id,
                     actor_id=link.guardian_account_id, staff_id=staff.id,
                     office_id=staff.office_id, channel=channel, guardianship=link.public_id,
                     reason=END_REASON)
        if link.confirmed_at is not None:
            _tell_guardian_link_ended(link, child)
    return queued


def _tell_guardian_link_ended(link: Guardianship, child: Account) -> None:
    guardian = link.guardian
    first_name = names.split_name(child.full_name).given if child.full_name else ""
    with force_locale(guardian.locale):
        text = gettext(
            "PostID: %(child)s is 14 and now has their own account, so you can no longer sign "
            "in to portals for them.", child=first_name)
    notify.send_sms(guardian.own_phone, text, template="guardian.link_ended",
                    account_id=guardian.id, locale=guardian.locale, asker="counter")


def _declared(values: Account | CitizenDetails) -> tuple[object, ...]:
    return values.national_id, values.full_name, values.birthdate, values.gender


def _earlier_attempt(staff: StaffMember, account: Account,
                     clean: CitizenDetails) -> IdentityVerification | None:
    if account.phone != clean.phone or _declared(account) != _declared(clean):
        return None
    verification = db.session.scalar(
        select(IdentityVerification)
        .where(IdentityVerification.account_id == account.id,
               IdentityVerification.assisted.is_(True),
               IdentityVerification.clerk_id == staff.id,
               IdentityVerification.office_id == staff.office_id)
        .order_by(IdentityVerification.id.desc()).limit(1))
    if verification is None or utcnow() - verification.created_at > RETRY_WINDOW:
        return None
    return verification


def _refuse(staff: StaffMember, code: str, *, channel: str, account_id: int | None) -> None:
    steps.store_refusal(AuditTag.COUNTER_VERIFICATION_REFUSED, staff, code, verification=None,
                        account_id=account_id, channel=channel, action="young_person_activation",
                        problems=None)
    raise ActivationRefusal(code)
