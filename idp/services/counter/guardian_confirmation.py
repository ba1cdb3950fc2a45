"""The parent confirms their link to a child at the counter with a one-time code sent to their
own confirmed phone (docs/architecture.md §14): the clerk sends it, the parent types it into the
counter screen. The clerk never chooses the confirmation: only the parent's phone has the code.

The same machinery as a mandate's code (idp.services.counter.mandate_confirmation): an ordinary
SMS code (platform.otp, OtpPurpose.CONFIRM_GUARDIAN), single use, dead after 5 wrong guesses,
resent after a doubling back-off, counted against the counter's SMS budget; only on the
Vietnamese calendar day the link was made. Failed code checks are committed with their
GUARDIAN_CONFIRM_FAILURE event before the refusal is raised.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale, gettext

from idp.domain import names
from idp.extensions import db
from idp.models import (
    AccountStatus,
    AuditTag,
    Guardianship,
    MandateConfirmation,
    OtpChallenge,
    StaffMember,
)
from idp.models.registration import OtpPurpose
from idp.services.counter.guardian_refusals import GuardianRefusal, refuse
from idp.services.counter.guardians import registration_for
from idp.services.identity import guardian_confirmation
from idp.services.platform import audit, failures, notify, otp

# Not a "counter." notice (sms_limits.NOTICE_PREFIXES are never limited): a code staff can
# have sent again and again counts against the counter's budget of the number.
MAX_CODE_INPUT = 32


@dataclass(frozen=True)
class CodeSent:
    """`sent`: a code went out now (False: one went out moments ago, nothing sent);
    `resend_in`: seconds before another may be sent (None: no more)."""

    link: Guardianship
    sent: bool
    resend_in: int | None


def get_link(staff: StaffMember, public_id: str, *, channel: str, action: str) -> Guardianship:
    """A link made at `staff`'s office. Refusal: not_found (404: unknown, malformed, or
    another office's)."""
    link = registration_for(staff, public_id)
    if link is None:
        refuse(staff, "not_found", channel=channel, account_id=None, action=action)
    return link


def challenge_of(link: Guardianship) -> OtpChallenge | None:
    if link.confirmation_challenge_id is None:
        return None
    return db.session.get(OtpChallenge, link.confirmation_challenge_id)


def resend_in(link: Guardianship) -> int | None:
    """Seconds before the clerk may send a (new) code: 0 now, None never again."""
    challenge = challenge_of(link)
    if challenge is None:
        return 0
    if challenge.failed_attempts >= otp.MAX_FAILURES:
        return None
    return otp.resend_wait(challenge)


def _require_confirmable(staff: StaffMember, link: Guardianship, *, channel: str,
                         action: str) -> None:
    """Pending, made today (Vietnamese date), and the parent still active and verified."""
    account_id = link.child_account_id
    if not guardian_confirmation.is_pending(link):
        refuse(staff, "conflict", channel=channel, account_id=account_id, action=action)
    if not guardian_confirmation.confirmable(link):
        refuse(staff, "day_passed", channel=channel, account_id=account_id, action=action)
    guardian = link.guardian
    if guardian.status is not AccountStatus.ACTIVE or guardian.identity_loa < 2:
        refuse(staff, "guardian_not_verified", channel=channel, account_id=account_id,
               action=action)


def send_confirmation_code(staff: StaffMember, public_id: str, *,
                           channel: str = "web") -> CodeSent:
    """Send the parent a code to confirm a pending link made at the office, to their own
    confirmed phone, in their language, naming the office and the child. Audited
    GUARDIAN_CODE_SENT. Refusals: not_found, conflict, day_passed, guardian_not_verified,
    no_more_codes, sms_not_sent (429)."""
    action = "guardian_send_code"
    link = get_link(staff, public_id, channel=channel, action=action)
    _require_confirmable(staff, link, channel=channel, action=action)
    guardian = link.guardian
    challenge = challenge_of(link)
    if challenge is None:
        challenge, code = otp.issue_code(OtpPurpose.CONFIRM_GUARDIAN, guardian.own_phone,
                                         account_id=guardian.id)
        db.session.flush()
        link.confirmation_challenge_id = challenge.id
    else:
        wait = resend_in(link)
        if wait is None:
            refuse(staff, "no_more_codes", channel=channel, account_id=link.child_account_id,
                   action=action)
        if wait > 0:
            db.session.rollback()
            return CodeSent(link, sent=False, resend_in=wait)
        code = otp.renew_code(challenge)
    locale = guardian.locale or "vi"
    child = names.split_name(link.child.full_name).given if link.child.full_name else ""
    with force_locale(locale):
        text = gettext(
            "PostID: %(office)s asks you to confirm that you are the parent of %(child)s, so "
            "that you may sign in to public services for the child. Your code: %(code)s. Give "
            "it to the clerk only if you agree.", office=link.office.name, child=child,
            code=code)
    if notify.send_sms(guardian.own_phone, text, template="guardian.confirm_code", locale=locale,
                       account_id=guardian.id, national_id=guardian.national_id,
                       asker="counter") is None:
        refuse(staff, "sms_not_sent", channel=channel, account_id=link.child_account_id,
               action=action)
    audit.record(AuditTag.GUARDIAN_CODE_SENT, account_id=link.child_account_id,
                 actor_id=guardian.id, staff_id=staff.id, office_id=staff.office_id,
                 channel=channel, guardianship=link.public_id, sends=challenge.sends)
    db.session.commit()
    return CodeSent(link, sent=True, resend_in=otp.resend_wait(challenge))


def _is_the_code(challenge: OtpChallenge | None, code: str) -> bool:
    return challenge is not None and hmac.compare_digest(challenge.secret_hash,
                                                         otp.secret_hash(code.strip()))


def confirm_with_code(staff: StaffMember, public_id: str, code: str, *,
                      channel: str = "web") -> Guardianship:
    """The parent typed the code into the counter screen: the link is confirmed (SMS_CODE),
    audited GUARDIAN_CONFIRM, and the guardians are told. The same code typed again on the
    link it confirmed returns it unchanged (a retry). Refusals: not_found, conflict,
    day_passed, guardian_not_verified, code_not_sent (409); wrong_code (400) and code_used_up
    (409) are committed with a GUARDIAN_CONFIRM_FAILURE event first."""
    action = "guardian_confirm"
    code = code if isinstance(code, str) and len(code) <= MAX_CODE_INPUT else ""
    link = get_link(staff, public_id, channel=channel, action=action)
    challenge = challenge_of(link)
    if link.confirmed_by is MandateConfirmation.SMS_CODE and _is_the_code(challenge, code):
        return link
    _require_confirmable(staff, link, channel=channel, action=action)
    if challenge is None:
        refuse(staff, "code_not_sent", channel=channel, account_id=link.child_account_id,
               action=action)
    event: dict[str, Any] = {"account_id": link.child_account_id,
                             "actor_id": link.guardian_account_id, "staff_id": staff.id,
                             "office_id": staff.office_id, "channel": channel,
                             "guardianship": link.public_id}
    if not otp.is_live(challenge):
        failures.fail(GuardianRefusal("code_used_up"), AuditTag.GUARDIAN_CONFIRM_FAILURE,
                      reason="code_used_up", **event)
    if not otp.check_code(challenge, code):
        if _is_the_code(challenge, code):  # the right code, spent by a concurrent request
            db.session.rollback()
            db.session.refresh(link)
            if link.confirmed_by is MandateConfirmation.SMS_CODE:
                return link
        dead = not otp.is_live(challenge)
        failures.fail(GuardianRefusal("code_used_up" if dead else "wrong_code"),
                      AuditTag.GUARDIAN_CONFIRM_FAILURE, reason="wrong_code",
                      failures=challenge.failed_attempts, **event)
    if not guardian_confirmation.confirm_in_transaction(
            link, MandateConfirmation.SMS_CODE, staff_id=staff.id, office_id=staff.office_id,
            channel=channel):
        db.session.rollback()  # the parent approved on their phone meanwhile, or it ended
        db.session.refresh(link)
        refuse(staff, "conflict", channel=channel, account_id=link.child_account_id,
               action=action)
    db.session.commit()
    return link
