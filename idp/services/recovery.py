"""Forgotten password (DESIGN §6): a code to the confirmed phone (10 min) or a link to the
confirmed e-mail address (24 h). Recovery replaces the password only: TOTP is still asked at
the next sign-in, and lost TOTP/recovery codes need a visit to a post office.

No enumeration: `start` answers the same way whether or not an account matches. For no
(active) account it still writes a code challenge that no code can satisfy, so the browser
gets the same cookie, page and failure messages, and nothing is sent.

On success, in one transaction: new password hash, challenge consumed (and every other live
recovery challenge of the account), every session ended and every token revoked (back-channel
logouts queued, returned for delivery after the commit), audit, SMS and e-mail notices.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app, url_for
from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select, update

from idp.domain.errors import N_
from idp.domain.password_policy import SERVICE_WORDS, check_password
from idp.errors import IdpError
from idp.extensions import db
from idp.models import Account, AuditTag
from idp.models.base import utcnow
from idp.models.credentials import PasswordCredential
from idp.models.mfa import MfaChallenge
from idp.models.registration import OtpChallenge, OtpPurpose
from idp.services import account_data, accounts, audit, login_throttle, notify, otp, passwords, tokens
from idp.services.accounts import canonical_identifier

PURPOSE = OtpPurpose.RECOVER_PASSWORD
CODE_FAILED = N_("The code is not correct or has expired. Check the SMS, or start again.")
THROTTLED = N_("Too many attempts. Wait a little, then try again.")
MAX_FLOW_LENGTH = 256


class RecoveryFailed(IdpError):
    def __init__(self) -> None:
        super().__init__("recovery.failed", CODE_FAILED, field="code")


class RecoveryThrottled(IdpError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("recovery.throttled", THROTTLED, field="code")
        self.retry_after = retry_after


def _settings():  # type: ignore[no-untyped-def]
    return current_app.config["IDP_SETTINGS"]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_settings().secret_key, salt="postid-recovery-flow")


def flow_seconds() -> int:
    return int(_settings().otp_seconds)


def _recoverable(identifier: str) -> Account | None:
    account = accounts.find_by_identifier(identifier)
    if account is None or not account.is_active:
        return None
    return account


def _key_for(identifier: str, account: Account | None) -> str:
    """Per canonical identifier, known or not, as a fixed-length digest: the key travels in the
    signed (not encrypted) flow cookie and the throttle answers, so neither may reveal whether
    an account exists nor link an ID number to a phone number."""
    canonical = canonical_identifier(identifier)
    value = f"{canonical[0]}:{canonical[1]}" if canonical else identifier.strip()[:64]
    return f"recover:{otp.secret_hash(value)}"


def start(identifier: str) -> str:
    """Send the code (and link) if an active account matches; always returns a flow token.

    Raises RecoveryThrottled when this account (or identifier) asked too often; that answer,
    too, is the same for known and unknown identifiers. One transaction.
    """
    account = _recoverable(identifier)
    key = _key_for(identifier, account)
    try:
        login_throttle.begin("start:" + key)  # never marked succeeded: every send counts
    except login_throttle.Throttled as exc:
        raise RecoveryThrottled(exc.retry_after) from None
    phone_ok = account is not None and account.phone_verified_at is not None
    destination = account.phone if phone_ok else otp.secret_hash(key)  # type: ignore[union-attr]
    challenge, code = otp.issue_code(PURPOSE, destination,
                                     account_id=account.id if account else None, usable=phone_ok)
    if account is not None and account.email and account.email_verified_at is not None:
        _link_challenge, link_token = otp.issue_link(PURPOSE, account.email, account_id=account.id)
        _send_link(account, link_token)
    else:
        otp.secret_hash(otp.new_code())  # about the same work as a link
    if phone_ok:
        _send_code(account, code)  # type: ignore[arg-type]
    if account is not None:
        audit.record(AuditTag.ACCOUNT_PASSWORD_RECOVER, account_id=account.id, step="start",
                     sms=phone_ok, email=bool(account.email and account.email_verified_at))
    db.session.flush()
    # Fixed width: the cookie is signed, not encrypted, and its length must not vary.
    flow = _serializer().dumps({"c": f"{challenge.id:020d}", "k": key})
    db.session.commit()
    return flow


def _send_code(account: Account, code: str) -> None:
    minutes = _settings().otp_seconds // 60
    with force_locale(account.locale or "vi"):
        text = gettext("PostID: your password recovery code is %(code)s. It is valid for "
                       "%(minutes)s minutes. Never share it with anyone, not even PostID staff.",
                       code=code, minutes=minutes)
    notify.send_sms(account.phone, text, template="recover.code", account_id=account.id,
                    locale=account.locale or "vi")


def _send_link(account: Account, token: str) -> None:
    assert account.email
    link = _settings().issuer + url_for("recovery.link", token=token)
    hours = _settings().email_link_hours
    with force_locale(account.locale or "vi"):
        subject = gettext("PostID: choose a new password")
        text = gettext("Hello %(name)s,\n\nTo choose a new password for your PostID account, "
                       "open this link within %(hours)s hours:\n\n%(link)s\n\n"
                       "If you did not ask for this, ignore this message: your password stays "
                       "the same.", name=account.full_name, hours=hours, link=link)
    notify.send_email(account.email, subject, text, template="recover.link",
                      account_id=account.id, locale=account.locale or "vi")


def load_flow(flow: str | None) -> tuple[OtpChallenge, str] | None:
    """The live code challenge of a browser's flow cookie and its throttle key."""
    if not flow or len(flow) > MAX_FLOW_LENGTH:
        return None
    try:
        data = _serializer().loads(flow, max_age=flow_seconds())
        challenge_id, key = int(data["c"]), str(data["k"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    challenge = db.session.get(OtpChallenge, challenge_id)
    if challenge is None or challenge.purpose is not PURPOSE or not otp.is_live(challenge):
        return None
    return challenge, key


def reset_with_code(flow: str | None, code: str, new_password: str) -> list[int]:
    """Check the code, then set the password. Raises RecoveryFailed, RecoveryThrottled or
    DomainError (policy: nothing changes, the code stays usable). Returns queued logouts."""
    loaded = load_flow(flow)
    if loaded is None:
        passwords.spend_verification_time(code)
        raise RecoveryFailed()
    challenge, key = loaded
    try:
        attempt = login_throttle.begin("code:" + key)
    except login_throttle.Throttled as exc:
        raise RecoveryThrottled(exc.retry_after) from None
    if not otp.check_code(challenge, code) or challenge.account_id is None:
        db.session.commit()  # the failure count
        raise RecoveryFailed()
    account = db.session.get(Account, challenge.account_id)
    if account is None or not account.is_active:
        db.session.commit()
        raise RecoveryFailed()
    queued = _complete(account, new_password, via="sms")
    login_throttle.succeeded(attempt)
    return queued


def link_valid(token: str) -> bool:
    return otp.find_link(PURPOSE, token) is not None


def reset_with_link(token: str, new_password: str) -> list[int]:
    """Like reset_with_code for an e-mail link; RecoveryFailed if used, expired or unknown."""
    challenge = otp.consume_link(PURPOSE, token)
    if challenge is None or challenge.account_id is None:
        db.session.rollback()
        raise RecoveryFailed()
    account = db.session.get(Account, challenge.account_id)
    if account is None or not account.is_active or account.email != challenge.destination:
        db.session.commit()  # spent
        raise RecoveryFailed()
    return _complete(account, new_password, via="email")


def _complete(account: Account, new_password: str, *, via: str) -> list[int]:
    """The challenge is consumed in the open transaction; a policy error rolls it back."""
    try:
        check_password(new_password, personal_values=(account.national_id, account.phone),
                       name=account.full_name, service_words=SERVICE_WORDS)
    except Exception:
        db.session.rollback()
        raise
    now = utcnow()
    new_hash = passwords.hash_password(new_password)
    if account.password is None:
        account.password = PasswordCredential(hash=new_hash, changed_at=now)
    else:
        account.password.hash = new_hash
        account.password.changed_at = now
    _kill_other_challenges(account.id, now)
    queued = account_data.end_other_sessions_in_transaction(
        account.id, current_session_id=None, reason="password_recover")
    tokens.revoke_for_account(account.id, reason="password_recover")
    db.session.execute(delete(MfaChallenge).where(MfaChallenge.account_id == account.id))
    audit.record(AuditTag.ACCOUNT_PASSWORD_RECOVER, account_id=account.id, step="done", via=via)
    _notify_changed(account)
    db.session.commit()
    return queued


def _kill_other_challenges(account_id: int, now: datetime) -> None:
    db.session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.account_id == account_id, OtpChallenge.purpose == PURPOSE,
               OtpChallenge.consumed_at.is_(None))
        .values(consumed_at=now).execution_options(synchronize_session=False))


def _notify_changed(account: Account) -> None:
    with force_locale(account.locale or "vi"):
        sms = gettext("PostID: your password was reset and every device was signed out. If this "
                      "was not you, go to a post office with your ID card right away.")
        subject = gettext("PostID: your password was reset")
        body = gettext("Hello %(name)s,\n\nThe password of your PostID account was reset and every "
                       "device and portal was signed out. If this was not you, go to any post "
                       "office with your ID card right away.", name=account.full_name)
    notify.tell_account(account, template="recover.done", sms=sms, subject=subject, body=body)


def live_challenges(account_id: int) -> list[OtpChallenge]:
    return list(db.session.scalars(select(OtpChallenge).where(
        OtpChallenge.account_id == account_id, OtpChallenge.purpose == PURPOSE,
        OtpChallenge.consumed_at.is_(None))))
