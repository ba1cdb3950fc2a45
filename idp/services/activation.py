"""Activation of an account registered at a counter (DESIGN §5, assisted registration), on the
citizen's own phone, at /activate:

1. `check_code`: ID number + the SMS code. The code is checked and consumed (otp.check_code:
   single use, 5 wrong guesses kill it); the browser gets a signed flow token naming the
   consumed challenge, good for FLOW_SECONDS.
2. `activate`: the citizen chooses their own password (policy with the context blocklist, as
   at registration) -> in one transaction the account becomes ACTIVE with the phone confirmed
   and the password stored (argon2), audited ACCOUNT_ACTIVATE, and the citizen is signed in:
   they just proved the phone and chose the password, asking for it again adds nothing.
   TOTP enrolment stays optional.

No enumeration: an unknown ID number, an active or disabled account and a wrong, expired or
used code all get the same ActivationFailed; `send_new_code` answers the same way whether or
not a code was sent. Guesses and sends are throttled per ID number (login_throttle, whether
or not an account exists), on top of the per-code limits of idp.services.otp.

New codes follow otp.py's resend rules: the live code is renewed after the doubling back-off
(an expired code too: that is how it is renewed from the page). A code that can no longer be
renewed (5 wrong guesses, all sends used, or consumed by a step 1 whose step 2 was abandoned)
is replaced by a new challenge, so a stranger who burns a code cannot lock the citizen out:
the send throttle paces replacements, the guess throttle bounds guessing across them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update

from idp.domain.errors import N_, DomainError
from idp.domain.national_id import normalize_national_id
from idp.domain.password_policy import SERVICE_WORDS, check_password
from idp.domain.terms import TERMS_VERSION
from idp.errors import IdpError
from idp.extensions import db
from idp.models import Account, AccountStatus, AuditTag
from idp.models.base import utcnow
from idp.models.credentials import PasswordCredential
from idp.models.registration import OtpChallenge, OtpPurpose
from idp.services import audit, login_throttle, notify, otp, passwords, registration, sessions

PURPOSE = OtpPurpose.ACTIVATE_ACCOUNT
FLOW_SECONDS = 15 * 60
MAX_FLOW_LENGTH = 256
MAX_CODE_LENGTH = 16

FAILED = N_("The ID number or the code is not correct, or the code has expired or was already "
            "used. Check the SMS, or ask for a new code.")
THROTTLED = N_("Too many attempts. Wait a little, then try again.")
FLOW_EXPIRED = N_("This activation has expired. Enter your ID number and a code again; if the "
                  "code was already used, ask for a new one.")


class ActivationFailed(IdpError):
    def __init__(self) -> None:
        super().__init__("activation.failed", FAILED, field="code")


class ActivationThrottled(IdpError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("activation.throttled", THROTTLED)
        self.retry_after = retry_after


class ActivationExpired(IdpError):
    def __init__(self) -> None:
        super().__init__("activation.expired", FLOW_EXPIRED)


@dataclass(frozen=True)
class Activated:
    account: Account
    new_session: sessions.NewSession


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["IDP_SETTINGS"].secret_key,
                                  salt="postid-activation-flow")


def _throttle_key(kind: str, national_id: str) -> str:
    """Per ID number as the person typed it, canonicalised; known or not."""
    try:
        value = normalize_national_id(national_id)
    except DomainError:
        value = "raw:" + "".join(national_id.split())[:64]
    return f"activate:{kind}:{value}"


def _pending_account(national_id: str) -> Account | None:
    try:
        number = normalize_national_id(national_id)
    except DomainError:
        return None
    return db.session.scalar(select(Account).where(
        Account.national_id == number, Account.status == AccountStatus.PENDING_ACTIVATION))


def latest_challenge(account_id: int) -> OtpChallenge | None:
    return db.session.scalar(
        select(OtpChallenge)
        .where(OtpChallenge.account_id == account_id, OtpChallenge.purpose == PURPOSE)
        .order_by(OtpChallenge.id.desc()).limit(1))


def check_code(national_id: str, code: str) -> str:
    """Step 1: check and consume the SMS code of a pending account; returns the flow token.

    Raises ActivationThrottled (nothing checked) or ActivationFailed (every other failure,
    indistinguishable on purpose). One transaction (a wrong guess is counted)."""
    try:
        attempt = login_throttle.begin(_throttle_key("code", national_id))
    except login_throttle.Throttled as exc:
        raise ActivationThrottled(exc.retry_after) from None
    code = (code or "")[:MAX_CODE_LENGTH]
    account = _pending_account(national_id)
    challenge = latest_challenge(account.id) if account is not None else None
    if challenge is None:
        otp.secret_hash(code)  # the work of a real comparison
        db.session.rollback()
        raise ActivationFailed()
    if not otp.check_code(challenge, code):
        db.session.commit()  # the failure count
        raise ActivationFailed()
    db.session.commit()
    login_throttle.succeeded(attempt)
    return _serializer().dumps({"c": f"{challenge.id:020d}"})  # fixed width: signed, not secret


def load_flow(flow: str | None) -> tuple[Account, OtpChallenge] | None:
    """The pending account and consumed challenge of a step-1 flow token still in time."""
    if not flow or len(flow) > MAX_FLOW_LENGTH:
        return None
    try:
        challenge_id = int(_serializer().loads(flow, max_age=FLOW_SECONDS)["c"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    challenge = db.session.get(OtpChallenge, challenge_id)
    if (challenge is None or challenge.purpose is not PURPOSE or challenge.account_id is None
            or challenge.consumed_at is None
            or utcnow() - challenge.consumed_at > timedelta(seconds=FLOW_SECONDS)):
        return None
    account = db.session.get(Account, challenge.account_id)
    if account is None or account.status is not AccountStatus.PENDING_ACTIVATION:
        return None
    return account, challenge


def activate(flow: str | None, password: str, *, user_agent: str | None = None,
             locale: str | None = None) -> Activated:
    """Step 2: set the citizen's own password, activate the account and sign in.

    The caller has checked that the citizen accepted the current terms (TERMS_VERSION): the
    clerk cannot accept them for the citizen, so acceptance is recorded here, by the owner.

    Raises ActivationExpired (no valid step 1, or the account was activated meanwhile) or
    DomainError (password policy; nothing changed, the flow stays usable). One transaction.

    `locale`: the language the citizen activates in (the clerk's choice, Vietnamese, is only a
    default): every later notice, from the "activated" SMS on, is sent in it."""
    loaded = load_flow(flow)
    if loaded is None:
        db.session.rollback()
        raise ActivationExpired()
    account, _challenge = loaded
    check_password(password, personal_values=(account.national_id, account.phone),
                   name=account.full_name, service_words=SERVICE_WORDS)
    password_hash = passwords.hash_password(password)
    now = utcnow()
    # Conditional: of two browsers finishing with the same flow token, one activates.
    won = db.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.status == AccountStatus.PENDING_ACTIVATION)
        .values(status=AccountStatus.ACTIVE, phone_verified_at=now, updated_at=now,
                terms_version=TERMS_VERSION, terms_accepted_at=now,
                **({"locale": locale} if locale else {}))
        .execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        db.session.rollback()
        raise ActivationExpired()
    db.session.refresh(account)
    account.password = PasswordCredential(hash=password_hash, created_at=now, changed_at=now)
    db.session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.account_id == account.id, OtpChallenge.purpose == PURPOSE,
               OtpChallenge.consumed_at.is_(None))
        .values(consumed_at=now).execution_options(synchronize_session=False))
    audit.record(AuditTag.ACCOUNT_ACTIVATE, account_id=account.id, phone_confirmed=True,
                 terms_version=TERMS_VERSION)
    _notify_activated(account)
    if account.email and account.email_verified_at is None:
        # Typed by the clerk: confirmed by the citizen's own mailbox, like self-registration.
        registration.send_email_link(account)
    new = sessions.open_session(account, amr="pwd", user_agent=user_agent)
    db.session.flush()
    audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=account.id, session_id=new.session.id)
    db.session.commit()
    return Activated(account=account, new_session=new)


def _notify_activated(account: Account) -> None:
    with force_locale(account.locale or "vi"):
        text = gettext("PostID: your account is now active. If you did not activate it yourself, "
                       "go to a post office with your ID card right away.")
    notify.send_sms(account.phone, text, template="activate.done", account_id=account.id,
                    locale=account.locale or "vi")


def send_new_code(national_id: str) -> None:
    """Send a new activation code to the phone of a pending account, if the rules allow.

    Returns nothing whatever happened (a code sent, too early, no such pending account), so
    the answer cannot tell whether the ID number is waiting for activation. Raises
    ActivationThrottled when this ID number asked too often. One transaction."""
    try:
        login_throttle.begin(_throttle_key("send", national_id))  # never cleared: every send counts
    except login_throttle.Throttled as exc:
        raise ActivationThrottled(exc.retry_after) from None
    account = _pending_account(national_id)
    if account is None:
        otp.secret_hash(otp.new_code())
        db.session.rollback()
        return
    challenge = latest_challenge(account.id)
    code = _next_code(account, challenge)
    if code is not None:
        _send_code(account, code)
    db.session.commit()


def _next_code(account: Account, challenge: OtpChallenge | None) -> str | None:
    """A renewed or replacement code, or None while the back-off runs."""
    now = utcnow()
    if challenge is not None:
        wait = otp.resend_wait(challenge, now)
        if wait is not None and challenge.failed_attempts < otp.MAX_FAILURES:
            return otp.renew_code(challenge) if wait == 0 else None
        if now - challenge.last_sent_at < timedelta(seconds=otp.FIRST_RESEND_SECONDS):
            return None
        if challenge.consumed_at is None:
            challenge.consumed_at = now  # replaced: the old code must not outlive it
    _new, code = otp.issue_code(PURPOSE, account.phone, account_id=account.id)
    return code


def _send_code(account: Account, code: str) -> None:
    minutes = current_app.config["IDP_SETTINGS"].otp_seconds // 60
    with force_locale(account.locale or "vi"):
        text = gettext("PostID: your activation code is %(code)s. It is valid for %(minutes)s "
                       "minutes. Never share it with anyone, not even post office staff.",
                       code=code, minutes=minutes)
    notify.send_sms(account.phone, text, template="activate.code", account_id=account.id,
                    locale=account.locale or "vi")
