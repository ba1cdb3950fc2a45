"""Changing the contact data on the account page (docs/architecture.md §7): phone and e-mail, re-confirmed.

Both changes need the current password (throttled like a sign-in). Nothing on the account
changes until the new contact is proven:

* phone: a 6-digit code goes to the NEW phone (idp.services.platform.otp, CHANGE_PHONE, bound to the
  account); on confirmation the phone is replaced and the OLD phone gets a notice. A phone that
  already belongs to another account gets the same answer, but a challenge no code can satisfy
  and no SMS, so the form never tells whether a number is registered.
* e-mail (idp.services.identity.contact_email): a link goes to the NEW address (CONFIRM_EMAIL, bound to
  the account, the address in `destination`); opening it (signed in as the owner) sets the
  address and email_verified_at. Removing the e-mail needs only the password.

A new request supersedes the earlier pending one of the same kind. Audit ACCOUNT_CONTACT_CHANGE.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from idp.domain.errors import N_, DomainError
from idp.domain.phone import mask_phone, normalize_phone
from idp.errors import Refusal, ResendRefused
from idp.extensions import db
from idp.models import Account, AuditTag
from idp.models.base import utcnow
from idp.models.registration import OtpChallenge, OtpPurpose
from idp.services.identity import authentication
from idp.services.platform import audit, notify, otp
from idp.services.platform.failures import fail
from idp.settings import current_settings

CODE_FAILED = N_("The code is not correct or has expired. Check the SMS, or ask for a new code.")
RESEND_TOO_EARLY = N_("Please wait %(seconds)s seconds before asking for a new code.")
RESEND_EXHAUSTED = N_("No more codes can be sent for this change. Please start again.")
TOO_MANY_REQUESTS = N_("Too many changes were requested today. Please try again tomorrow.")
SAME_PHONE = N_("This is already your phone number.")
SAME_EMAIL = N_("This is already your confirmed e-mail address.")
NO_EMAIL = N_("There is no e-mail address to remove.")
# Phone-change requests (each one sends an SMS) per account per day.
MAX_REQUESTS_PER_DAY = 10


def _code_failed() -> Refusal:
    return Refusal("contact.code_failed", CODE_FAILED, field="code")


def throttle_key(account_id: int) -> str:
    return f"contact:{account_id}"


def check_password(account: Account, password: str) -> None:
    """Raises WrongPassword or Throttled (idp.errors); counted apart from sign-in."""
    authentication.require_password(account, password, key=throttle_key(account.id))


def supersede(account_id: int, purpose: OtpPurpose) -> None:
    now = utcnow()
    db.session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.account_id == account_id, OtpChallenge.purpose == purpose,
               OtpChallenge.consumed_at.is_(None))
        .values(consumed_at=now)
        .execution_options(synchronize_session=False))


# --- phone ---------------------------------------------------------------------------------

def clean_phone(account: Account, raw: str) -> str:
    """The E.164 form of a new phone; raises DomainError (field message)."""
    phone = normalize_phone(raw)
    if phone == account.phone:
        raise DomainError("contact.same_phone", SAME_PHONE)
    return phone


def _send_code(phone: str, code: str, locale: str, account_id: int, *, usable: bool) -> None:
    """The code, or for a number held by another account a stand-in through the same gate
    (sms_limits: same store calls) written and deleted again in this transaction, so a taken
    and a free number run the same SQL and nothing reaches the other account's phone."""
    with force_locale(locale):
        text = gettext("PostID: your code to change your phone number is %(code)s. It is valid "
                       "for %(minutes)s minutes. Never share it with anyone.",
                       code=code, minutes=current_settings().otp_seconds // 60)
    message = notify.send_sms(phone, text, template="account.change_phone_code", locale=locale,
                              account_id=account_id, data=None if usable else {"stand_in": True})
    notify.discard([] if usable else [message])


def _phone_taken(account: Account, phone: str) -> bool:
    return db.session.scalar(
        select(Account.id).where(Account.phone == phone, Account.id != account.id)) is not None


def request_phone_change(account: Account, *, raw_phone: str, password: str,
                         session_id: int | None) -> None:
    """Check the password and the number, send a code to the new phone. One transaction.

    Raises WrongPassword / Throttled (nothing sent), DomainError (the number), or the
    Refusal "contact.too_many" (too many requests today). A number held by another account is answered
    exactly like a free one, with a challenge no code can match and no SMS (a stand-in does
    the same work, see _send_code).
    """
    check_password(account, password)
    phone = clean_phone(account, raw_phone)
    since = utcnow() - timedelta(days=1)
    recent = db.session.scalar(select(func.count(OtpChallenge.id)).where(
        OtpChallenge.account_id == account.id, OtpChallenge.purpose == OtpPurpose.CHANGE_PHONE,
        OtpChallenge.created_at > since))
    if (recent or 0) >= MAX_REQUESTS_PER_DAY:
        raise Refusal("contact.too_many", TOO_MANY_REQUESTS)
    supersede(account.id, OtpPurpose.CHANGE_PHONE)
    usable = not _phone_taken(account, phone)
    _challenge, code = otp.issue_code(OtpPurpose.CHANGE_PHONE, phone, account_id=account.id,
                                      usable=usable)
    _send_code(phone, code, account.locale or "vi", account.id, usable=usable)
    audit.record(AuditTag.ACCOUNT_CONTACT_CHANGE, account_id=account.id, session_id=session_id,
                 field="phone", step="requested")
    db.session.commit()


def pending_phone(account: Account) -> OtpChallenge | None:
    """The live phone-change challenge of the account, if any."""
    return otp.live_of_account(account.id, OtpPurpose.CHANGE_PHONE)


def confirm_phone(account: Account, code: str, *, session_id: int | None) -> str:
    """Check the code; replace the phone, tell the old one. Returns the new phone.

    Raises the Refusal "contact.code_failed" for every failure (none pending, wrong, used,
    expired, dead after five wrong codes, or the number taken meanwhile)."""
    challenge = pending_phone(account)
    if challenge is None:
        raise _code_failed()
    if not otp.check_code(challenge, code):
        fail(_code_failed())  # with the failure count
    new_phone = challenge.destination
    old_phone = account.own_phone
    now = utcnow()
    account.phone = new_phone
    account.phone_verified_at = now
    try:
        db.session.flush()
    except IntegrityError:
        # Taken by a registration between request and confirmation: the code is spent.
        db.session.rollback()
        db.session.execute(update(OtpChallenge).where(OtpChallenge.id == challenge.id)
                           .values(consumed_at=now).execution_options(synchronize_session=False))
        fail(_code_failed())
    locale = account.locale or "vi"
    with force_locale(locale):
        text = gettext("PostID: the phone number of your account was changed to %(phone)s. "
                       "If this was not you, contact PostID at a post office right away.",
                       phone=mask_phone(new_phone))
    notify.send_sms(old_phone, text, template="account.phone_changed", locale=locale,
                    account_id=account.id)
    audit.record(AuditTag.ACCOUNT_CONTACT_CHANGE, account_id=account.id, session_id=session_id,
                 field="phone", step="confirmed")
    db.session.commit()
    return new_phone


def resend_phone_code(account: Account) -> None:
    """A new code to the pending number after the back-off (a taken number gets a dead one)."""
    challenge = pending_phone(account)
    if challenge is None:
        raise _code_failed()
    wait = otp.resend_wait(challenge)
    if wait is None or wait > 0:
        raise ResendRefused("contact.resend_refused", wait, too_early=RESEND_TOO_EARLY,
                            exhausted=RESEND_EXHAUSTED)
    usable = not _phone_taken(account, challenge.destination)
    code = otp.renew_code(challenge, usable=usable)
    _send_code(challenge.destination, code, account.locale or "vi", account.id, usable=usable)
    db.session.commit()
