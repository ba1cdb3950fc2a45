"""The e-mail address on the account page (docs/architecture.md §7), re-confirmed; the phone is in
idp.services.identity.contact_change, which also holds the shared password check.

A link goes to the NEW address (CONFIRM_EMAIL, bound to the account, the address in
`destination`); opening it (signed in as the owner) sets the address and email_verified_at.
Until then the new address is pending (pending_email): its link can be sent again or the
change cancelled. Removing the e-mail needs only the password.
Confirming the CURRENT, unconfirmed address is no change (send_confirmation_link): a link to
it, no password, audited ACCOUNT_EMAIL_CONFIRM (step "requested", then "confirmed"); once
confirmed, the address receives recovery links, so the phone is told (tell_email_confirmed).

A new request supersedes the earlier pending link. Audit ACCOUNT_CONTACT_CHANGE (a change)
or ACCOUNT_EMAIL_CONFIRM (the current address confirmed).

`link_path(token)`, passed in by the web layer, is the path of the page that opens a link;
the message carries it on the issuer's address.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask_babel import force_locale, gettext

from idp.domain.email_address import mask_email, normalize_email
from idp.domain.errors import N_, DomainError
from idp.errors import ResendRefused
from idp.extensions import db
from idp.models import Account, AuditTag
from idp.models.base import utcnow
from idp.models.registration import OtpChallenge, OtpPurpose
from idp.services.identity.contact_change import (
    NO_EMAIL,
    SAME_EMAIL,
    check_password,
    supersede,
)
from idp.services.platform import audit, notify, otp
from idp.services.platform.secrets import new_token
from idp.settings import current_settings

LINK_TOO_EARLY = N_("Please wait %(seconds)s seconds before asking for the link again.")
LINK_EXHAUSTED = N_("No more links can be sent to this address. Open the last one we sent.")


def request_email_change(account: Account, *, raw_email: str, password: str,
                         session_id: int | None, link_path: Callable[[str], str]) -> str:
    """Check the password, send a confirmation link to the new address. Returns the address.

    The current, unconfirmed address typed again is no change: it is confirmed instead
    (send_confirmation_link). Raises WrongPassword / Throttled (nothing sent), DomainError
    (address) or ResendRefused (the current address, too early)."""
    check_password(account, password)
    email = normalize_email(raw_email)
    if email == account.email:
        if account.email_verified_at is not None:
            raise DomainError("contact.same_email", SAME_EMAIL)
        send_confirmation_link(account, session_id=session_id, link_path=link_path)
        return email
    supersede(account.id, OtpPurpose.CONFIRM_EMAIL)
    _challenge, token = otp.issue_link(OtpPurpose.CONFIRM_EMAIL, email, account_id=account.id)
    _send_link(account, email, link_path(token), new_address=True)
    audit.record(AuditTag.ACCOUNT_CONTACT_CHANGE, account_id=account.id, session_id=session_id,
                 field="email", step="requested")
    db.session.commit()
    return email


def _send_link(account: Account, email: str, path: str, *, new_address: bool) -> None:
    """The confirmation link, to a new address (a change) or to the current one."""
    link = current_settings().issuer + path
    locale = account.locale or "vi"
    values = {"name": account.full_name, "hours": current_settings().email_link_hours, "link": link}
    with force_locale(locale):
        if new_address:
            subject = gettext("PostID: confirm your new e-mail address")
            text = gettext("Hello %(name)s,\n\nTo use this e-mail address for your PostID "
                           "account, open this link within %(hours)s hours while signed in to "
                           "PostID:\n\n%(link)s\n\nIf you did not ask for this, ignore this "
                           "message.", **values)
        else:
            subject = gettext("PostID: confirm your e-mail address")
            text = gettext("Hello %(name)s,\n\nTo confirm this e-mail address for your PostID "
                           "account, open this link within %(hours)s hours while signed in to "
                           "PostID:\n\n%(link)s\n\nIf you did not ask for this, ignore this "
                           "message.", **values)
    template = "account.change_email_link" if new_address else "account.confirm_email_link"
    notify.send_email(email, subject, text, template=template, account_id=account.id,
                      locale=locale)


def _live_email_link(account: Account) -> OtpChallenge | None:
    """The newest live e-mail link of the account (to its address or to a new one)."""
    return otp.live_of_account(account.id, OtpPurpose.CONFIRM_EMAIL)


def pending_email(account: Account) -> str | None:
    """The NEW address waiting for its link to be opened, if any (not the current address)."""
    challenge = _live_email_link(account)
    if challenge is None or challenge.destination == account.email:
        return None
    return challenge.destination


def _renewed_link(account: Account, challenge: OtpChallenge | None, destination: str) -> str:
    """A fresh token for the live link to `destination` after otp's doubling back-off (the
    old token dies, the expiry restarts), or a new link when none is live (a link to another
    address is superseded: one e-mail link at a time). Raises
    ResendRefused while the back-off runs or when every send of the link is used."""
    if challenge is None or challenge.destination != destination:
        supersede(account.id, OtpPurpose.CONFIRM_EMAIL)
        _new, token = otp.issue_link(OtpPurpose.CONFIRM_EMAIL, destination, account_id=account.id)
        return token
    wait = otp.resend_wait(challenge)
    if wait is None or wait > 0:
        raise ResendRefused("contact.resend_refused", wait, too_early=LINK_TOO_EARLY,
                            exhausted=LINK_EXHAUSTED)
    token = new_token()
    now = utcnow()
    challenge.secret_hash = otp.secret_hash(token)
    challenge.sends += 1
    challenge.last_sent_at = now
    challenge.expires_at = now + timedelta(hours=current_settings().email_link_hours)
    return token


def send_confirmation_link(account: Account, *, session_id: int | None,
                           link_path: Callable[[str], str]) -> str:
    """Send a link to the account's own, unconfirmed address: confirming it changes nothing,
    so no password is asked (the mailbox and the session prove it). Returns the address.

    Raises DomainError (no address, or already confirmed) or ResendRefused (too early)."""
    if not account.email:
        raise DomainError("contact.no_email", NO_EMAIL)
    if account.email_verified_at is not None:
        raise DomainError("contact.same_email", SAME_EMAIL)
    token = _renewed_link(account, _live_email_link(account), account.email)
    _send_link(account, account.email, link_path(token), new_address=False)
    audit.record(AuditTag.ACCOUNT_EMAIL_CONFIRM, account_id=account.id, session_id=session_id,
                 step="requested")
    db.session.commit()
    return account.email


def resend_change_link(account: Account, *, session_id: int | None,
                       link_path: Callable[[str], str]) -> str | None:
    """Send the link to the pending NEW address again (its password was checked when it was
    asked for), audited like the first request (an Activity line for every link sent, as for
    the current address). None when no change is pending; raises ResendRefused (too early)."""
    challenge = _live_email_link(account)
    if challenge is None or challenge.destination == account.email:
        db.session.rollback()
        return None
    token = _renewed_link(account, challenge, challenge.destination)
    _send_link(account, challenge.destination, link_path(token), new_address=True)
    audit.record(AuditTag.ACCOUNT_CONTACT_CHANGE, account_id=account.id, session_id=session_id,
                 field="email", step="requested")
    db.session.commit()
    return challenge.destination


def cancel_email_change(account: Account, *, session_id: int | None) -> bool:
    """Kill the link to the pending NEW address; False when none is pending."""
    if pending_email(account) is None:
        db.session.rollback()
        return False
    supersede(account.id, OtpPurpose.CONFIRM_EMAIL)
    audit.record(AuditTag.ACCOUNT_CONTACT_CHANGE, account_id=account.id, session_id=session_id,
                 field="email", step="cancelled")
    db.session.commit()
    return True


def remove_email(account: Account, *, password: str, session_id: int | None) -> None:
    """Remove the e-mail address (and any pending link). Raises WrongPassword, Throttled,
    DomainError (no address)."""
    check_password(account, password)
    if not account.email:
        raise DomainError("contact.no_email", NO_EMAIL)
    supersede(account.id, OtpPurpose.CONFIRM_EMAIL)
    account.email = None
    account.email_verified_at = None
    _tell_phone_email_changed(account)
    audit.record(AuditTag.ACCOUNT_CONTACT_CHANGE, account_id=account.id, session_id=session_id,
                 field="email", step="removed")
    db.session.commit()


def _tell_phone_email_changed(account: Account) -> None:
    locale = account.locale or "vi"
    with force_locale(locale):
        text = gettext("PostID: the e-mail address of your account was changed. If this was not "
                       "you, contact PostID at a post office right away.")
    notify.send_sms(account.own_phone, text, template="account.email_changed", locale=locale,
                    account_id=account.id)


def tell_email_confirmed(account: Account) -> None:
    """The SMS notice that the account's own address was just confirmed.

    Confirming the current address asks no password (send_confirmation_link; a registration
    link asks not even a session), yet a confirmed address receives recovery links: whoever
    holds it can reset the password. So the phone is told, like for a change. Called before
    the address counts as confirmed, so tell_account does not write to the address itself:
    its holder has just proved it and is not the one who needs warning."""
    with force_locale(account.locale or "vi"):
        sms = gettext("PostID: the e-mail address %(email)s was confirmed as a way to recover "
                      "your account: a link sent to it can reset your password. If this was not "
                      "you, remove it on your account page right away, or go to a post office "
                      "with your ID card.", email=mask_email(account.email or ""))
    notify.tell_account(account, template="account.email_confirmed", sms=sms, subject="",
                        body="")


def email_link_pending(account: Account, token: str) -> bool:
    challenge = otp.find_link(OtpPurpose.CONFIRM_EMAIL, token)
    return challenge is not None and challenge.account_id == account.id


def confirm_email(account: Account, token: str, *, session_id: int | None) -> str | None:
    """Consume a link of this account; set the address it was sent to. None if not valid
    (unknown, used, expired, superseded, or another account's link: not consumed then)."""
    if not email_link_pending(account, token):
        db.session.rollback()
        return None
    challenge = otp.consume_link(OtpPurpose.CONFIRM_EMAIL, token)
    if challenge is None:
        db.session.rollback()
        return None
    changed = account.email != challenge.destination
    if not changed and account.email_verified_at is None:
        tell_email_confirmed(account)
    account.email = challenge.destination
    account.email_verified_at = utcnow()
    if changed:
        _tell_phone_email_changed(account)
        audit.record(AuditTag.ACCOUNT_CONTACT_CHANGE, account_id=account.id,
                     session_id=session_id, field="email", step="confirmed")
    else:  # the address it already had: confirmed, not changed
        audit.record(AuditTag.ACCOUNT_EMAIL_CONFIRM, account_id=account.id,
                     session_id=session_id, step="confirmed")
    db.session.commit()
    return challenge.destination
