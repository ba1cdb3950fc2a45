"""The citizen confirms a mandate at the counter with a one-time code sent to their own
confirmed phone (docs/architecture.md §14): the agent sends it, the citizen types it into the
counter screen. The agent never chooses the confirmation: only the citizen's phone has the code.

The code is an ordinary SMS code (idp.services.platform.otp, OtpPurpose.CONFIRM_MANDATE): single
use, dead after 5 wrong guesses (which a resend does not forgive), resent after a doubling
back-off. A pending mandate can be confirmed only on the Vietnamese calendar day it was made.
Failed code checks are committed with their MANDATE_CONFIRM_FAILURE event before the refusal
is raised (platform.failures), so a guesser gets no attempt for free.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import update

from idp.domain import mandates as rules
from idp.extensions import db, rowcount
from idp.models import (
    AccountStatus,
    AuditTag,
    Mandate,
    MandateConfirmation,
    OtpChallenge,
    StaffMember,
)
from idp.models.base import utcnow
from idp.models.registration import OtpPurpose
from idp.services.counter.mandate_refusals import MandateRefusal, refuse
from idp.services.counter.mandate_scope import duration_words, scope_words
from idp.services.counter.mandates import get_mandate
from idp.services.platform import audit, failures, notify, otp
from idp.services.standing import delegation

# Not a "counter." notice (sms_limits.NOTICE_PREFIXES are never limited): a code staff can
# have sent again and again counts against the counter's budget of the number.
SMS_TEMPLATE = "mandate.confirm_code"
MAX_CODE_INPUT = 32


@dataclass(frozen=True)
class CodeSent:
    """`sent`: a code went out now; False when one went out moments ago (a retry inside the
    back-off: nothing sent, nothing recorded). `resend_in`: seconds before another may be
    sent (None: no more sends)."""

    mandate: Mandate
    sent: bool
    resend_in: int | None


def challenge_of(mandate: Mandate) -> OtpChallenge | None:
    if mandate.confirmation_challenge_id is None:
        return None
    return db.session.get(OtpChallenge, mandate.confirmation_challenge_id)


def resend_in(mandate: Mandate) -> int | None:
    """Seconds before the agent may send a (new) code: 0 now, None never again."""
    challenge = challenge_of(mandate)
    if challenge is None:
        return 0
    if challenge.failed_attempts >= otp.MAX_FAILURES:
        return None
    return otp.resend_wait(challenge)


def _require_confirmable(staff: StaffMember, mandate: Mandate, *, channel: str,
                         action: str) -> None:
    """Pending, made today (Vietnamese date), and the citizen still active and verified."""
    now = utcnow()
    status = delegation.status_of(mandate, now=now)
    if status is not rules.Status.PENDING:
        refuse(staff, "conflict", channel=channel, action=action, mandate=mandate,
               mandate_status=status)
    if rules.vietnam_date(mandate.created_at) != rules.vietnam_date(now):
        refuse(staff, "day_passed", channel=channel, action=action, mandate=mandate)
    account = mandate.account
    if account.status is not AccountStatus.ACTIVE or account.identity_loa < mandate.loa:
        refuse(staff, "not_verified", channel=channel, action=action, mandate=mandate)


def send_confirmation_code(staff: StaffMember, public_id: str, *,
                           channel: str = "web") -> CodeSent:
    """Send the citizen a code to confirm a pending mandate of the office: to their own
    confirmed phone, in their language, naming the office, the scope and the duration.
    Audited MANDATE_CODE_SENT. A new code replaces the last one after the back-off; asked
    for inside it, nothing is sent (`sent` False). Refusals: not_found (404), conflict (409:
    no longer pending), day_passed, not_verified, no_more_codes (409)."""
    mandate = get_mandate(staff, public_id, channel=channel, action="send_code")
    _require_confirmable(staff, mandate, channel=channel, action="send_code")
    account = mandate.account
    challenge = challenge_of(mandate)
    if challenge is None:
        challenge, code = otp.issue_code(OtpPurpose.CONFIRM_MANDATE, account.own_phone,
                                         account_id=account.id)
        db.session.flush()
        mandate.confirmation_challenge_id = challenge.id
    else:
        wait = resend_in(mandate)
        if wait is None:
            refuse(staff, "no_more_codes", channel=channel, action="send_code", mandate=mandate)
        if wait > 0:
            db.session.rollback()
            return CodeSent(mandate, sent=False, resend_in=wait)
        code = otp.renew_code(challenge)
    locale = account.locale or "vi"
    with force_locale(locale):
        text = gettext(
            "PostID: %(office)s asks you to confirm a mandate: its staff may sign in to "
            "public services for you (%(scope)s), for %(duration)s. Your code: %(code)s. Give "
            "it to the clerk only if you agree.", office=mandate.office.name,
            scope=scope_words(mandate), duration=duration_words(mandate.months), code=code)
    # The counter's own SMS budget (sms_limits); over it nothing is written, and the clerk is
    # told so rather than waiting for a code that will never come.
    if notify.send_sms(account.own_phone, text, template=SMS_TEMPLATE, locale=locale,
                       account_id=account.id, national_id=account.national_id,
                       asker="counter") is None:
        refuse(staff, "sms_not_sent", channel=channel, action="send_code", mandate=mandate)
    audit.record(AuditTag.MANDATE_CODE_SENT, account_id=account.id, staff_id=staff.id,
                 office_id=staff.office_id, channel=channel, mandate=mandate.public_id,
                 sends=challenge.sends)
    db.session.commit()
    return CodeSent(mandate, sent=True, resend_in=otp.resend_wait(challenge))


def _is_the_code(challenge: OtpChallenge | None, code: str) -> bool:
    return challenge is not None and hmac.compare_digest(challenge.secret_hash,
                                                         otp.secret_hash(code.strip()))


def confirm_with_code(staff: StaffMember, public_id: str, code: str, *,
                      channel: str = "web") -> Mandate:
    """The citizen typed the code into the counter screen: the pending mandate becomes active
    (confirmed_by SMS_CODE), audited MANDATE_CONFIRM. The code is used once; the same code
    typed again on the mandate it confirmed returns it unchanged (a retry). Refusals: not_found
    (404), conflict, day_passed, not_verified, code_not_sent (409); wrong_code (400) and
    code_used_up (409) are committed with a MANDATE_CONFIRM_FAILURE event first."""
    code = code if isinstance(code, str) and len(code) <= MAX_CODE_INPUT else ""
    mandate = get_mandate(staff, public_id, channel=channel, action="confirm")
    challenge = challenge_of(mandate)
    if mandate.confirmed_by is MandateConfirmation.SMS_CODE and _is_the_code(challenge, code):
        return mandate
    _require_confirmable(staff, mandate, channel=channel, action="confirm")
    if challenge is None:
        refuse(staff, "code_not_sent", channel=channel, action="confirm", mandate=mandate)
    event: dict[str, Any] = {"account_id": mandate.account_id, "staff_id": staff.id,
                             "office_id": staff.office_id, "channel": channel,
                             "mandate": mandate.public_id}
    if not otp.is_live(challenge):
        failures.fail(MandateRefusal("code_used_up"), AuditTag.MANDATE_CONFIRM_FAILURE,
                      reason="code_used_up", **event)
    if not otp.check_code(challenge, code):
        if _is_the_code(challenge, code):  # the right code, spent by a concurrent request
            db.session.rollback()
            db.session.refresh(mandate)
            if mandate.confirmed_by is MandateConfirmation.SMS_CODE:
                return mandate  # a double click: the other request confirmed it
        dead = not otp.is_live(challenge)
        failures.fail(MandateRefusal("code_used_up" if dead else "wrong_code"),
                      AuditTag.MANDATE_CONFIRM_FAILURE,
                      reason="wrong_code", failures=challenge.failed_attempts, **event)
    now = utcnow()
    won = rowcount(db.session.execute(
        update(Mandate).where(Mandate.id == mandate.id, Mandate.confirmed_at.is_(None),
                              Mandate.revoked_at.is_(None), Mandate.expires_at > now)
        .values(confirmed_at=now, confirmed_by=MandateConfirmation.SMS_CODE)
        .execution_options(synchronize_session=False)))
    if not won:  # the citizen approved or declined on their phone meanwhile
        db.session.rollback()
        db.session.refresh(mandate)
        refuse(staff, "conflict", channel=channel, action="confirm", mandate=mandate,
               mandate_status=delegation.status_of(mandate))
    db.session.refresh(mandate)
    audit.record(AuditTag.MANDATE_CONFIRM, by=MandateConfirmation.SMS_CODE.value, **event)
    db.session.commit()
    return mandate
