"""Self-registration (docs/architecture.md §7): pending until the phone code is confirmed, then LoA1.

No enumeration: `start` answers the same way whether or not the ID number or phone already
belongs to an account. For a duplicate the existing account's phone is warned instead, and
the browser gets a code challenge that no code can ever satisfy. Both paths hash the password,
write one registration, one challenge and one SMS, so they also cost about the same time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from idp.domain.errors import N_
from idp.domain.terms import TERMS_VERSION
from idp.errors import Conflict, Refusal, ResendRefused
from idp.extensions import db
from idp.models import Account, AuditTag
from idp.models.base import utcnow
from idp.models.registration import OtpChallenge, OtpPurpose, PendingRegistration
from idp.services.identity import accounts, contact_email, sessions
from idp.services.identity.accounts import CitizenDetails
from idp.services.platform import audit, notify, otp, passwords, throttle
from idp.services.platform.failures import fail
from idp.services.platform.secrets import new_token, token_hash
from idp.settings import current_settings

CONFIRM_FAILED = N_("The code is not correct or has expired. Check the SMS, or ask for a new code.")
RESEND_TOO_EARLY = N_("Please wait %(seconds)s seconds before asking for a new code.")
RESEND_EXHAUSTED = N_("No more codes can be sent for this registration. Please start again.")
MAX_TOKEN_LENGTH = 128


def _confirm_failed() -> Refusal:
    return Refusal("registration.confirm_failed", CONFIRM_FAILED, field="code")


@dataclass(frozen=True)
class Confirmed:
    account: Account
    new_session: sessions.NewSession


def start(clean: CitizenDetails, password: str, *, locale: str = "vi") -> str:
    """Record a pending registration and send the phone code (or the duplicate warning).

    `clean` comes from accounts.validate_citizen; the caller has checked that the person
    accepted the current terms (TERMS_VERSION, recorded now and copied to the account when the
    phone is confirmed). Returns the browser's token. One transaction.
    """
    settings = current_settings()
    token = new_token()
    now = utcnow()
    registration = PendingRegistration(
        token_hash=token_hash(token), national_id=clean.national_id, full_name=clean.full_name,
        birthdate=clean.birthdate, gender=clean.gender, phone=clean.phone, email=clean.email,
        password_hash=passwords.hash_password(password), terms_version=TERMS_VERSION,
        locale=locale, created_at=now,
        expires_at=now + timedelta(hours=settings.registration_hours),
    )
    db.session.add(registration)
    db.session.flush()
    existing = accounts.taken_by(clean.national_id, clean.phone)
    _challenge, code = otp.issue_code(OtpPurpose.REGISTER_PHONE, clean.phone,
                                      registration_id=registration.id, usable=not existing)
    if existing:
        for account in existing:
            if account.phone is not None:  # a child's account (MINOR) has none: nobody to warn
                _warn_existing(account)
        audit.record(AuditTag.REGISTRATION_DUPLICATE, account_id=existing[0].id,
                     registration_id=registration.id)
    else:
        _send_code(clean.phone, code, locale, clean.national_id)
        audit.record(AuditTag.REGISTRATION_START, registration_id=registration.id)
    db.session.commit()
    return token


def _send_code(phone: str, code: str, locale: str, national_id: str) -> None:
    minutes = current_settings().otp_seconds // 60
    with force_locale(locale):
        text = gettext("PostID: your code is %(code)s. It is valid for %(minutes)s minutes. "
                       "Never share it with anyone.", code=code, minutes=minutes)
    notify.send_sms(phone, text, template="register.code", locale=locale, national_id=national_id)


def _warn_existing(account: Account) -> None:
    with force_locale(account.locale):
        text = gettext("PostID: someone tried to register a new account with your details. "
                       "If it was you, sign in or recover your password. If not, ignore this message.")
    notify.send_sms(account.own_phone, text, template="register.duplicate", account_id=account.id,
                    locale=account.locale)


def load(token: str | None) -> PendingRegistration | None:
    """The live (not expired, not completed) registration for a browser token."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    registration = db.session.scalar(
        select(PendingRegistration).where(PendingRegistration.token_hash == token_hash(token)))
    if registration is None or registration.completed_at is not None:
        return None
    if registration.expires_at <= utcnow():
        return None
    return registration


def challenge_for(registration: PendingRegistration) -> OtpChallenge | None:
    return db.session.scalar(
        select(OtpChallenge)
        .where(OtpChallenge.registration_id == registration.id,
               OtpChallenge.purpose == OtpPurpose.REGISTER_PHONE)
        .order_by(OtpChallenge.id.desc()).limit(1))


def _throttle_key(registration: PendingRegistration) -> str:
    return f"otp:register:{registration.phone}"


def confirm(token: str | None, code: str, *, email_link_path: Callable[[str], str],
            user_agent: str | None = None) -> Confirmed:
    """Check the phone code; on success create the account, confirm the phone, sign in.
    `email_link_path`: see send_email_link.

    Raises Throttled, or the Refusal "registration.confirm_failed" for every other failure
    (unknown or expired registration, wrong/used/expired code, ID number or phone taken
    meanwhile).
    """
    registration = load(token)
    challenge = challenge_for(registration) if registration else None
    if registration is None or challenge is None:
        passwords.spend_verification_time(code)
        raise _confirm_failed()
    attempt = throttle.begin(_throttle_key(registration))
    if not otp.check_code(challenge, code):
        fail(_confirm_failed())  # with the failure count

    now = utcnow()
    clean = CitizenDetails(national_id=registration.national_id, full_name=registration.full_name,
                           birthdate=registration.birthdate, gender=registration.gender,
                           phone=registration.phone, email=registration.email)
    try:
        account = accounts.add_citizen_with_hash(clean, registration.password_hash, channel="web",
                                                 locale=registration.locale)
    except Conflict:
        # Taken between start and confirm: the code is spent, the registration is over.
        db.session.rollback()
        db.session.execute(update(OtpChallenge).where(OtpChallenge.id == challenge.id)
                           .values(consumed_at=now).execution_options(synchronize_session=False))
        db.session.execute(update(PendingRegistration)
                           .where(PendingRegistration.id == registration.id)
                           .values(expires_at=now).execution_options(synchronize_session=False))
        fail(_confirm_failed())
    account.phone_verified_at = now
    account.terms_version = registration.terms_version
    account.terms_accepted_at = registration.created_at  # ticked when the details were sent
    registration.completed_at = now
    challenge.account_id = account.id
    audit.record(AuditTag.ACCOUNT_PHONE_CONFIRM, account_id=account.id,
                 registration_id=registration.id, terms_version=registration.terms_version)
    if account.email:
        send_email_link(account, email_link_path)
    new = sessions.open_session(account, amr="pwd", user_agent=user_agent)
    db.session.flush()
    audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=account.id, session_id=new.session.id)
    db.session.commit()
    throttle.succeeded(attempt)
    return Confirmed(account=account, new_session=new)


def send_email_link(account: Account, link_path: Callable[[str], str]) -> None:
    """Queue the e-mail confirmation link (24 h) for the account's unconfirmed address.
    `link_path(token)`, from the web layer, is the path of the page that opens the link; the
    message carries it on the issuer's address."""
    assert account.email
    _challenge, link_token = otp.issue_link(OtpPurpose.CONFIRM_EMAIL, account.email,
                                            account_id=account.id)
    link = current_settings().issuer + link_path(link_token)
    hours = current_settings().email_link_hours
    with force_locale(account.locale):
        subject = gettext("PostID: confirm your e-mail address")
        text = gettext("Hello %(name)s,\n\nTo confirm this e-mail address for your PostID account, "
                       "open this link within %(hours)s hours:\n\n%(link)s\n\n"
                       "If you did not create a PostID account, ignore this message.",
                       name=account.full_name, hours=hours, link=link)
    notify.send_email(account.email, subject, text, template="register.email_link",
                      account_id=account.id, locale=account.locale)


def resend(token: str | None) -> None:
    """Send a new code after the back-off (a duplicate's challenge gets a dead code again)."""
    registration = load(token)
    challenge = challenge_for(registration) if registration else None
    if registration is None or challenge is None:
        raise _confirm_failed()
    wait = otp.resend_wait(challenge)
    if wait is None or wait > 0:
        raise ResendRefused("registration.resend_refused", wait, too_early=RESEND_TOO_EARLY,
                            exhausted=RESEND_EXHAUSTED)
    existing = accounts.taken_by(registration.national_id, registration.phone)
    code = otp.renew_code(challenge, usable=not existing)
    if not existing:
        _send_code(registration.phone, code, registration.locale, registration.national_id)
    db.session.commit()


def email_link_valid(token: str) -> bool:
    return otp.find_link(OtpPurpose.CONFIRM_EMAIL, token) is not None


def confirm_email(token: str) -> bool:
    """Consume an e-mail link; True when the address on the account is now confirmed."""
    challenge = otp.consume_link(OtpPurpose.CONFIRM_EMAIL, token)
    if challenge is None or challenge.account_id is None:
        db.session.rollback()
        return False
    account = db.session.get(Account, challenge.account_id)
    if account is None or account.email != challenge.destination:
        db.session.commit()  # the link is spent either way
        return False
    if account.email_verified_at is None:
        contact_email.tell_email_confirmed(account)
    account.email_verified_at = utcnow()
    audit.record(AuditTag.ACCOUNT_EMAIL_CONFIRM, account_id=account.id)
    db.session.commit()
    return True
