"""Activation of an account registered at a counter (docs/architecture.md §8, assisted registration), on the
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
used code all get the same refusal; `send_new_code` answers the same way whether or not a
code was sent. Guesses and sends are throttled per ID number (platform.throttle, whether or
not an account exists), on top of the per-code limits of idp.services.platform.otp.

New codes follow otp.py's resend rules: the live code is renewed after the doubling back-off
(an expired code too: that is how it is renewed from the page). A code that can no longer be
renewed (5 wrong guesses, all sends used, or consumed by a step 1 whose step 2 was abandoned)
is replaced by a new challenge, so a stranger who burns a code cannot lock the citizen out:
the send throttle paces replacements, the guess throttle bounds guessing across them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select, update

from idp.domain.errors import N_, DomainError
from idp.domain.national_id import normalize_national_id
from idp.domain.password_policy import SERVICE_WORDS, check_password
from idp.domain.terms import TERMS_VERSION
from idp.errors import Refusal
from idp.extensions import db, rowcount
from idp.models import Account, AccountStatus, AuditTag
from idp.models.base import utcnow
from idp.models.credentials import PasswordCredential
from idp.models.notification import OutboxMessage
from idp.models.registration import OtpChallenge, OtpPurpose
from idp.services.identity import registration, sessions
from idp.services.platform import audit, notify, otp, passwords, throttle
from idp.settings import current_settings

PURPOSE = OtpPurpose.ACTIVATE_ACCOUNT
FLOW_SECONDS = 15 * 60
MAX_FLOW_LENGTH = 256
MAX_CODE_LENGTH = 16

FAILED = N_("The ID number or the code is not correct, or the code has expired or was already "
            "used. Check the SMS, or ask for a new code.")
THROTTLED = N_("Too many attempts. Wait a little, then try again.")
FLOW_EXPIRED = N_("This activation has expired. Enter your ID number and a code again; if the "
                  "code was already used, ask for a new one.")


@dataclass(frozen=True)
class Activated:
    account: Account
    new_session: sessions.NewSession


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_settings().secret_key,
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
    return otp.latest_of_account(account_id, PURPOSE)


def check_code(national_id: str, code: str) -> str:
    """Step 1: check and consume the SMS code of a pending account; returns the flow token.

    Raises Throttled (nothing checked) or the Refusal "activation.failed" (every other
    failure, indistinguishable on purpose). One transaction (a wrong guess is counted).

    Same work whether or not the ID number has a pending account with a live code:
    a stand-in challenge no code matches is written, the code is checked against the live
    challenge or else the stand-in, the stand-in is deleted, and the transaction commits."""
    attempt = throttle.begin(_throttle_key("code", national_id), message=THROTTLED)
    code = (code or "")[:MAX_CODE_LENGTH]
    account = _pending_account(national_id)
    challenge = latest_challenge(account.id if account is not None else 0)
    stand_in = _stand_in_challenge(national_id)
    live = challenge if challenge is not None and otp.is_live(challenge) else None
    ok = otp.check_code(live if live is not None else stand_in, code)
    _delete_stand_in(stand_in)
    db.session.commit()  # the failure count, or the code spent
    if not ok or live is None:
        raise Refusal("activation.failed", FAILED, field="code")
    throttle.succeeded(attempt)
    return _serializer().dumps({"c": f"{live.id:020d}"})  # fixed width: signed, not secret


def _stand_in_challenge(national_id: str) -> OtpChallenge:
    """A challenge of nobody that no code matches, flushed now (deleted before the commit)."""
    digest = otp.secret_hash("activate-stand-in:" + _throttle_key("any", national_id))
    challenge, _code = otp.issue_code(PURPOSE, digest, usable=False)
    db.session.flush()
    return challenge


def _delete_stand_in(challenge: OtpChallenge | None) -> None:
    """One DELETE whether or not a stand-in was written, so every path runs the same SQL."""
    ids = [challenge.id] if challenge is not None else []
    db.session.execute(delete(OtpChallenge).where(OtpChallenge.id.in_(ids))
                       .execution_options(synchronize_session=False))
    if challenge is not None:
        db.session.expunge(challenge)


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


def activate(flow: str | None, password: str, *, email_link_path: Callable[[str], str],
             user_agent: str | None = None, locale: str | None = None) -> Activated:
    """Step 2: set the citizen's own password, activate the account and sign in.

    The caller has checked that the citizen accepted the current terms (TERMS_VERSION): the
    clerk cannot accept them for the citizen, so acceptance is recorded here, by the owner.

    Raises the Refusal "activation.expired" (no valid step 1, or the account was activated
    meanwhile) or DomainError (password policy; nothing changed, the flow stays usable). One
    transaction. `email_link_path`: see registration.send_email_link.

    `locale`: the language the citizen activates in (the clerk's choice, Vietnamese, is only a
    default): every later notice, from the "activated" SMS on, is sent in it."""
    loaded = load_flow(flow)
    if loaded is None:
        db.session.rollback()
        raise Refusal("activation.expired", FLOW_EXPIRED)
    account, _challenge = loaded
    check_password(password, personal_values=(account.national_id, account.own_phone),
                   name=account.full_name, service_words=SERVICE_WORDS)
    password_hash = passwords.hash_password(password)
    now = utcnow()
    # Conditional: of two browsers finishing with the same flow token, one activates.
    won = rowcount(db.session.execute(
        update(Account)
        .where(Account.id == account.id, Account.status == AccountStatus.PENDING_ACTIVATION)
        .values(status=AccountStatus.ACTIVE, phone_verified_at=now, updated_at=now,
                terms_version=TERMS_VERSION, terms_accepted_at=now,
                **({"locale": locale} if locale else {}))
        .execution_options(synchronize_session=False))) == 1
    if not won:
        db.session.rollback()
        raise Refusal("activation.expired", FLOW_EXPIRED)
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
        registration.send_email_link(account, email_link_path)
    new = sessions.open_session(account, amr="pwd", user_agent=user_agent)
    db.session.flush()
    audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=account.id, session_id=new.session.id)
    db.session.commit()
    return Activated(account=account, new_session=new)


def _notify_activated(account: Account) -> None:
    with force_locale(account.locale or "vi"):
        text = gettext("PostID: your account is now active. If you did not activate it yourself, "
                       "go to a post office with your ID card right away.")
    notify.send_sms(account.own_phone, text, template="activate.done", account_id=account.id,
                    locale=account.locale or "vi")


def send_new_code(national_id: str) -> None:
    """Send a new activation code to the phone of a pending account, if the rules allow.

    Returns nothing whatever happened (a code sent, too early, no such pending account), so
    the answer cannot tell whether the ID number is waiting for activation. Raises Throttled
    when this ID number asked too often. One transaction.

    Same work on every path (a pending account's ID number ran 7 statements and a
    commit, an unknown one 1 SELECT and a rollback): one UPDATE of a challenge (the renewal,
    the retirement of a dead code, or none), one new challenge (the replacement, or a
    stand-in), one SMS through the gate (the code, or a stand-in counted in the shadow total),
    one DELETE of stand-in messages and one of stand-in challenges, one commit."""
    # Never cleared: every send counts.
    throttle.begin(_throttle_key("send", national_id), message=THROTTLED)
    account = _pending_account(national_id)
    challenge = latest_challenge(account.id if account is not None else 0)
    plan = _plan(challenge, utcnow()) if account is not None else "wait"
    code = otp.renew_code(challenge) if plan == "renew" and challenge is not None else None
    _retire(challenge if plan == "replace" else None)  # the UPDATE (a renewal's is flushed here)
    if plan == "replace" and account is not None:
        _new, code = otp.issue_code(PURPOSE, account.own_phone, account_id=account.id)
        stand_in = None
        db.session.flush()
    else:
        stand_in = _stand_in_challenge(national_id)
    if code is not None and account is not None:
        _send_code(account, code)
        notify.discard([])
    else:
        notify.discard([_send_stand_in(national_id)])
    _delete_stand_in(stand_in)
    db.session.commit()


def _plan(challenge: OtpChallenge | None, now: datetime) -> str:
    """"renew" the live code, "replace" it by a new challenge, or "wait" (the back-off)."""
    if challenge is None:
        return "replace"
    wait = otp.resend_wait(challenge, now)
    if wait is not None and challenge.failed_attempts < otp.MAX_FAILURES:
        return "renew" if wait == 0 else "wait"
    if now - challenge.last_sent_at < timedelta(seconds=otp.FIRST_RESEND_SECONDS):
        return "wait"
    return "replace"


def _retire(challenge: OtpChallenge | None) -> None:
    """Exactly one UPDATE of otp_challenge: the renewal pending in the session (flushed), the
    replaced code's retirement (it must not outlive its replacement), or one that matches
    nothing."""
    if any(isinstance(obj, OtpChallenge) for obj in db.session.dirty):
        db.session.flush()
        return
    target = challenge.id if challenge is not None and challenge.consumed_at is None else 0
    db.session.execute(update(OtpChallenge).where(OtpChallenge.id == target)
                       .values(consumed_at=utcnow()).execution_options(synchronize_session=False))


def _send_stand_in(national_id: str) -> OutboxMessage | None:
    """An SMS of nobody through the same gate (shadow total); deleted before the commit.

    Its ID key is a stand-in too, never the typed ID number: it is written
    on every click that sends nothing - the resend back-off of a pending account included -
    and counting the person's ID number would let clicks during the wait use up their own SMS
    allowance, so the code after the wait was held back. Same number of windows and store
    calls as a real code (an ID key is always set), so the work stays the same."""
    digest = otp.secret_hash("activate-stand-in:" + _throttle_key("any", national_id))
    return notify.send_sms("stand-in:" + digest[:24], _code_text("vi", otp.new_code()),
                           template="activate.code", locale="vi",
                           national_id="stand-in:" + digest[24:48], data={"stand_in": True})


def _code_text(locale: str, code: str) -> str:
    minutes = current_settings().otp_seconds // 60
    with force_locale(locale):
        text: str = gettext("PostID: your activation code is %(code)s. It is valid for "
                            "%(minutes)s minutes. Never share it with anyone, not even post "
                            "office staff.", code=code, minutes=minutes)
    return text


def _send_code(account: Account, code: str) -> OutboxMessage | None:
    return notify.send_sms(account.own_phone, _code_text(account.locale or "vi", code),
                           template="activate.code", account_id=account.id,
                           locale=account.locale or "vi")
