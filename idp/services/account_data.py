"""What the account page shows and does (docs/architecture.md §7, §12): live sessions, the activity history,
the data export and the deletion of an account. Connected portals and their consent are in
idp.services.portals.consents.

Every function that changes something is one transaction: it commits, or raises before.
Back-channel logouts queued by a change are returned as delivery ids; the caller delivers them
after the commit (idp.services.portals.backchannel.deliver).
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import delete, select, update

from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditEvent,
    AuditTag,
    AuthorizationCode,
    UserSession,
)
from idp.models.base import utcnow
from idp.models.credentials import PasswordCredential
from idp.models.mfa import MfaChallenge, RecoveryCode, TotpCredential
from idp.models.passkey import Passkey
from idp.models.registration import OtpChallenge
from idp.services import retention
from idp.services.business import personal_data
from idp.services.identity import authentication, enrolment, logout, mandate_data
from idp.services.platform import audit, notify
from idp.services.platform.clock import iso
from idp.services.portals import tokens
from idp.services.portals.consents import connected_portals, history, withdraw_all_in_transaction
from idp.settings import current_settings

# --- paging ------------------------------------------------------------------------------


def parse_page(raw: str | None) -> int:
    """A page number from the query string: anything but a positive integer is page 1."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        return 1
    return max(1, int(raw))


# --- export ------------------------------------------------------------------------------


def export(account: Account, *, session_id: int | None) -> dict[str, Any]:
    """Everything held about the person, without secrets (no hashes, no token values).
    Records the export in the audit trail. One transaction."""
    consents = history(account.id)
    session_rows = db.session.scalars(
        select(UserSession).where(UserSession.account_id == account.id).order_by(UserSession.id)
    ).all()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.account_id == account.id).order_by(AuditEvent.id)
    ).all()
    password = account.password
    data: dict[str, Any] = {
        "format": "postid-account-export/1",
        "exported_at": iso(utcnow()),
        "profile": {
            "sub": account.sub,
            "national_id": account.national_id,
            "full_name": account.full_name,
            "birthdate": iso(account.birthdate),
            "gender": account.gender.value,
            "phone": account.phone,
            "phone_verified_at": iso(account.phone_verified_at),
            "email": account.email,
            "email_verified_at": iso(account.email_verified_at),
            "identity_loa": account.identity_loa,
            "locale": account.locale,
            "terms_version": account.terms_version,
            "terms_accepted_at": iso(account.terms_accepted_at),
            "status": account.status.value,
            "created_at": iso(account.created_at),
            "updated_at": iso(account.updated_at),
            "password_changed_at": iso(password.changed_at) if password else None,
            "postal_address": account.postal_address,
            "address_verified_at": iso(account.address_verified_at),
        },
        # Passkeys without their keys: what the person named and when they were used.
        "passkeys": [
            {"name": p.name, "synced": p.backup_eligible, "created_at": iso(p.created_at),
             "last_used_at": iso(p.last_used_at)}
            for p in db.session.scalars(select(Passkey).where(Passkey.account_id == account.id)
                                        .order_by(Passkey.id))
        ],
        "verifications": enrolment.export_rows(account.id),
        "mandates": mandate_data.export_rows(account.id),
        "organisations": personal_data.export_rows(account),
        "connected_portals": [
            {"portal": p.client.name, "client_id": p.client.client_id, "scopes": p.scopes,
             "claims": p.claims, "granted_at": iso(p.consent.granted_at)}
            for p in connected_portals(account.id)
        ],
        "consents": [
            {"portal": c.client.name, "client_id": c.client.client_id, "scope": c.scope,
             "text_version": c.text_version, "locale": c.locale,
             "granted_at": iso(c.granted_at), "revoked_at": iso(c.revoked_at)}
            for c in consents
        ],
        "sessions": [
            {"authenticated_at": iso(s.authenticated_at), "last_seen_at": iso(s.last_seen_at),
             "expires_at": iso(s.expires_at), "amr": s.amr.split(), "loa": s.loa,
             "user_agent": s.user_agent, "revoked_at": iso(s.revoked_at),
             "revoke_reason": s.revoke_reason}
            for s in session_rows
        ],
        "activity": [
            {"event": e.tag, "occurred_at": iso(e.occurred_at), "channel": e.channel,
             "data": e.data}
            for e in events
        ],
    }
    audit.record(AuditTag.ACCOUNT_DATA_EXPORT, account_id=account.id, session_id=session_id)
    db.session.commit()
    return data


# --- deletion ----------------------------------------------------------------------------


def placeholder_national_id(account_id: int) -> str:
    """12 characters starting with a letter: never a valid ID number, unique per account."""
    return "D" + str(account_id).zfill(11)


def placeholder_phone(account_id: int) -> str:
    """At most 16 characters, not E.164 (no "+"), unique per account."""
    return "D" + str(account_id).zfill(15)


def _notify_deleted(account: Account) -> None:
    """Told while the phone and the e-mail address are still there; the messages are blanked
    once delivered (notify.ERASE_AFTER_SEND). The account cannot be restored, so the advice is
    what a person who did not delete it can still do."""
    with force_locale(account.locale or "vi"):
        sms = gettext("PostID: your account was deleted and its data erased; it cannot be "
                      "restored. If this was not you, someone knew your password: register "
                      "again and tell us at %(contact)s.", contact=_privacy_contact())
        subject = gettext("PostID: your account was deleted")
        body = gettext("Hello %(name)s,\n\nYour PostID account was deleted, your personal details "
                       "were erased and every device and portal was signed out. A deleted "
                       "account cannot be restored.\n\nIf this was not you, someone knew your "
                       "password. Register again (you can use the same ID number and phone "
                       "number), use a new password there and for your e-mail, and tell us at "
                       "%(contact)s.", name=account.full_name, contact=_privacy_contact())
    notify.tell_account(account, template="account.deleted", sms=sms, subject=subject, body=body,
                        data={notify.ERASE_AFTER_SEND: True})


def _privacy_contact() -> str:
    return str(current_settings().privacy_contact_email)


def delete_account(account: Account, password: str, *, session_id: int | None) -> list[int]:
    """Erase the person's data and disable the account; keep the audit trail (Decree 69/2024).

    Raises WrongPassword (nothing changed) or Throttled (idp.errors). One transaction.
    Returns queued back-channel logouts for delivery after the commit."""
    authentication.require_password(account, password, key=f"pwdelete:{account.id}")
    account_id = account.id
    # Messages already sent, then the notice, while the phone and e-mail are still there.
    notify.forget_account_messages(account_id, [a for a in (account.phone, account.email) if a])
    _notify_deleted(account)
    retention.delete_registrations_of(account.national_id, account.phone)
    now = utcnow()
    queued = logout.end_other_sessions_in_transaction(account_id, current_session_id=None,
                                                      reason="account_deleted")
    # Sessions that are no longer live still must not come back; their tokens too.
    db.session.execute(
        update(UserSession)
        .where(UserSession.account_id == account_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason="account_deleted")
        .execution_options(synchronize_session=False)
    )
    tokens.revoke_for_account(account_id, reason="account_deleted")
    withdraw_all_in_transaction(account_id, now=now)
    db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.account_id == account_id, AuthorizationCode.redeemed_at.is_(None))
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    # Personal data in the device user agents goes too.
    db.session.execute(
        update(UserSession)
        .where(UserSession.account_id == account_id)
        .values(user_agent=None)
        .execution_options(synchronize_session=False)
    )
    for model in (PasswordCredential, TotpCredential, RecoveryCode, Passkey, MfaChallenge,
                  OtpChallenge):
        db.session.execute(delete(model).where(model.account_id == account_id))
    enrolment.erase_for_deletion(account_id, session_id=session_id)
    queued += mandate_data.erase_for_deletion_in_transaction(
        account_id, placeholder_number=placeholder_national_id(account_id))
    personal_data.erase_for_deletion(
        account_id, placeholder_national_id=placeholder_national_id(account_id),
        session_id=session_id)
    db.session.expire(account, ["password"])
    account.status = AccountStatus.DISABLED
    account.national_id = placeholder_national_id(account_id)
    account.phone = placeholder_phone(account_id)
    account.phone_verified_at = None
    account.full_name = ""
    account.name_search_key = ""
    account.email = None
    account.email_verified_at = None
    account.postal_address = None
    account.address_verified_at = None
    audit.record(AuditTag.ACCOUNT_DELETE, account_id=account_id, session_id=session_id)
    db.session.commit()
    return queued
