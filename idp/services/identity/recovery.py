"""Forgotten password (docs/architecture.md §7): a code to the confirmed phone (10 min) or a link to the
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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select, update

from idp.domain.errors import N_
from idp.domain.password_policy import SERVICE_WORDS, check_password
from idp.errors import Refusal
from idp.extensions import db
from idp.models import Account, AuditTag
from idp.models.base import utcnow
from idp.models.credentials import PasswordCredential
from idp.models.mfa import MfaChallenge
from idp.models.notification import OutboxMessage
from idp.models.registration import OtpChallenge, OtpPurpose
from idp.services.identity import accounts, devices, logout
from idp.services.identity.accounts import canonical_identifier
from idp.services.platform import audit, notify, otp, passwords, throttle
from idp.services.platform.failures import fail
from idp.services.portals import tokens
from idp.settings import current_settings

PURPOSE = OtpPurpose.RECOVER_PASSWORD
CODE_FAILED = N_("The code is not correct or has expired. Check the SMS, or start again.")
THROTTLED = N_("Too many attempts. Wait a little, then try again.")
MAX_FLOW_LENGTH = 256


def _failed() -> Refusal:
    """Every failure of a code or a link, alike on purpose."""
    return Refusal("recovery.failed", CODE_FAILED, field="code")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_settings().secret_key, salt="postid-recovery-flow")


def flow_seconds() -> int:
    return int(current_settings().otp_seconds)


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


def start(identifier: str, *, link_path: Callable[[str], str],
          device_token: str | None = None) -> str:
    """Send the code (and link) if an active account matches; always returns a flow token.

    A browser holding the account's known-device cookie (`device_token`, services.devices)
    is the owner's: its sends and attempts count apart from strangers' (sms_limits "device",
    platform.throttle), so strangers asking with the person's ID number cannot hold it back.
    `link_path(token)`, from the web layer, is the path of the page that opens the e-mail
    link; the message carries it on the issuer's address.

    Raises Throttled when this account (or identifier) asked too often; that answer, too, is
    the same for known and unknown identifiers. One transaction.

    Same work on every path (known identifiers answered 2-3 ms slower): two
    challenges, an SMS and an e-mail through the same code (SMS limits included), one audit
    event, one DELETE. A message with nobody to receive it is a stand-in, written and deleted
    again in the same transaction, so nothing is sent and the SQL is the same.
    """
    account = _recoverable(identifier)
    key = _key_for(identifier, account)
    device = devices.device_id(device_token, account) if account is not None else None
    asker = "stranger" if device is None else "device"
    # Never marked succeeded: every send counts.
    throttle.begin("start:" + key + ("" if device is None else ":device:" + device),
                   message=THROTTLED)
    phone_ok = account is not None and account.phone_verified_at is not None
    email_ok = account is not None and bool(account.email) and account.email_verified_at is not None
    account_id = account.id if account is not None else None
    stand_in = _stand_in_person(identifier, key)
    to_phone = account if account is not None and phone_ok else stand_in
    to_email = account if account is not None and email_ok else stand_in
    challenge, code = otp.issue_code(
        PURPOSE, to_phone.own_phone if phone_ok else otp.secret_hash(key), account_id=account_id,
        usable=phone_ok)
    _link, link_token = otp.issue_link(
        PURPOSE, (to_email.email or "") if email_ok else otp.secret_hash("link:" + key),
        account_id=account_id if email_ok else None)
    sms = _send_code(to_phone, code, account_id if phone_ok else None, stand_in=not phone_ok,
                     asker=asker)
    mail = _send_link(to_email, link_path(link_token), account_id if email_ok else None,
                      stand_in=not email_ok)
    notify.discard([message for message, sent in ((sms, phone_ok), (mail, email_ok)) if not sent])
    audit.record(AuditTag.ACCOUNT_PASSWORD_RECOVER, account_id=account_id, step="start",
                 sms=phone_ok, email=email_ok)
    db.session.flush()
    # Fixed width: the cookie is signed, not encrypted, and its length must not vary.
    flow = _serializer().dumps({"c": f"{challenge.id:020d}", "k": key})
    db.session.commit()
    return flow


@dataclass(frozen=True)
class _Person:
    """Who a recovery message is addressed to: the account, or a stand-in for nobody."""

    phone: str
    email: str | None
    national_id: str | None
    full_name: str
    locale: str | None

    @property
    def own_phone(self) -> str:  # as Account.own_phone
        return self.phone


def _stand_in_person(identifier: str, key: str) -> _Person:
    """A typed phone number or ID number stands in for itself, so its SMS count grows as if
    an account had it (sms_limits); the other one, which only an account could supply, is a
    digest of the key that is never a real number. Both are always set: an SMS with an ID
    number makes more store calls than one without, and the calls are timed too."""
    canonical = canonical_identifier(identifier)
    kind, value = canonical if canonical else ("", "")
    phone = value if kind == "phone" else "stand-in:" + key[-24:]
    national_id = value if kind == "national_id" else "stand-in:" + otp.secret_hash(
        "stand-in:" + key)[:24]
    return _Person(phone=phone, email="stand-in@invalid", national_id=national_id,
                   full_name="-", locale="vi")


def _send_code(person: Account | _Person, code: str, account_id: int | None, *,
               stand_in: bool = False, asker: str = "stranger") -> OutboxMessage | None:
    minutes = current_settings().otp_seconds // 60
    with force_locale(person.locale or "vi"):
        text = gettext("PostID: your password recovery code is %(code)s. It is valid for "
                       "%(minutes)s minutes. Never share it with anyone, not even PostID staff.",
                       code=code, minutes=minutes)
    return notify.send_sms(person.own_phone, text, template="recover.code", account_id=account_id,
                           locale=person.locale or "vi", national_id=person.national_id,
                           data={"stand_in": True} if stand_in else None, asker=asker)


def _send_link(person: Account | _Person, path: str, account_id: int | None, *,
               stand_in: bool = False) -> OutboxMessage | None:
    assert person.email
    link = current_settings().issuer + path
    hours = current_settings().email_link_hours
    with force_locale(person.locale or "vi"):
        subject = gettext("PostID: choose a new password")
        text = gettext("Hello %(name)s,\n\nTo choose a new password for your PostID account, "
                       "open this link within %(hours)s hours:\n\n%(link)s\n\n"
                       "If you did not ask for this, ignore this message: your password stays "
                       "the same.", name=person.full_name, hours=hours, link=link)
    return notify.send_email(person.email, subject, text, template="recover.link",
                             account_id=account_id, locale=person.locale or "vi",
                             data={"stand_in": True} if stand_in else None)


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
    """Check the code, then set the password. Raises Throttled, the Refusal "recovery.failed"
    or DomainError (policy: nothing changes, the code stays usable). Returns queued logouts."""
    loaded = load_flow(flow)
    if loaded is None:
        passwords.spend_verification_time(code)
        raise _failed()
    challenge, key = loaded
    attempt = throttle.begin("code:" + key, message=THROTTLED)
    if not otp.check_code(challenge, code) or challenge.account_id is None:
        fail(_failed())  # with the failure count
    account = db.session.get(Account, challenge.account_id)
    if account is None or not account.is_active:
        fail(_failed())  # the code is spent
    queued = _complete(account, new_password, via="sms")
    throttle.succeeded(attempt)
    return queued


def link_valid(token: str) -> bool:
    return otp.find_link(PURPOSE, token) is not None


def reset_with_link(token: str, new_password: str) -> list[int]:
    """Like reset_with_code for an e-mail link; "recovery.failed" if used, expired or unknown."""
    challenge = otp.consume_link(PURPOSE, token)
    if challenge is None or challenge.account_id is None:
        db.session.rollback()
        raise _failed()
    account = db.session.get(Account, challenge.account_id)
    if account is None or not account.is_active or account.email != challenge.destination:
        fail(_failed())  # the link is spent
    return _complete(account, new_password, via="email")


def _complete(account: Account, new_password: str, *, via: str) -> list[int]:
    """The challenge is consumed in the open transaction; a policy error rolls it back."""
    try:
        check_password(new_password, personal_values=(account.national_id, account.own_phone),
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
    queued = logout.end_other_sessions_in_transaction(
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
