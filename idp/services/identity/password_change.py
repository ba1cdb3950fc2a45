"""Changing the password from the account page (docs/architecture.md §7): the current password is required
(throttled like a sign-in), the new one follows the policy, the phone is told, and the other
sessions can be ended in the same transaction."""

from __future__ import annotations

from flask_babel import force_locale, gettext

from idp.domain.errors import N_, DomainError
from idp.domain.password_policy import SERVICE_WORDS, check_password
from idp.extensions import db
from idp.models import Account, AuditTag
from idp.models.base import utcnow
from idp.models.credentials import PasswordCredential
from idp.models.notification import Channel
from idp.services.identity import authentication, logout
from idp.services.platform import audit, notify, passwords


def throttle_key(account_id: int) -> str:
    return f"pwchange:{account_id}"


def change_password(account: Account, *, current: str, new: str, session_id: int | None,
                    sign_out_others: bool) -> list[int]:
    """Set a new password. Raises WrongPassword, Throttled or DomainError (policy; nothing
    changed). One transaction; returns queued back-channel logouts."""
    authentication.require_password(account, current, key=throttle_key(account.id))
    check_password(new, personal_values=(account.national_id, account.own_phone),
                   name=account.full_name, service_words=SERVICE_WORDS)
    if passwords.verify_password(account.password.hash, new) if account.password else False:
        raise DomainError("password.same", N_("The new password must differ from the current one."))
    now = utcnow()
    if account.password is None:
        account.password = PasswordCredential(hash=passwords.hash_password(new), changed_at=now)
    else:
        account.password.hash = passwords.hash_password(new)
        account.password.changed_at = now
    queued: list[int] = []
    if sign_out_others:
        queued = logout.end_other_sessions_in_transaction(
            account.id, current_session_id=session_id, reason="password_change")
    with force_locale(account.locale or "vi"):
        body = gettext("PostID: the password of your account was changed. If this was not you, "
                       "contact PostID at a post office right away.")
    notify.enqueue(Channel.SMS, account.own_phone, template="account.password_changed", body=body,
                   locale=account.locale or "vi", account_id=account.id)
    audit.record(AuditTag.ACCOUNT_PASSWORD_CHANGE, account_id=account.id, session_id=session_id,
                 signed_out_others=sign_out_others)
    db.session.commit()
    return queued
