"""Keeping personal data no longer than the privacy notice says (/privacy, "How long we keep
it"): what was typed at registration and the SMS and e-mail messages. The periods are settings
(registration_retention_days, message_retention_days) that the notice prints; `idp purge`
applies them and is run daily by the operator (docs/deployment.md, “Periodic jobs”).

Every function changes rows in one transaction and commits, or is called inside the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select

from idp.extensions import db, rowcount
from idp.models import AuditTag
from idp.models.base import utcnow
from idp.models.notification import OutboxMessage
from idp.models.passkey import WebauthnChallenge
from idp.models.registration import OtpChallenge, PendingRegistration
from idp.services.platform import audit
from idp.settings import current_settings

CEREMONY_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Purged:
    registrations: int
    messages: int
    # Passkey ceremonies past their expiry (5 minutes): anyone can start one from the
    # sign-in page, so they are not kept (a day's grace keeps the recent ones for inquiries).
    ceremonies: int = 0


def _delete_registrations(where: ColumnElement[bool]) -> int:
    """Delete the matching registrations and their codes (also where the database does not
    cascade: SQLite without foreign keys)."""
    ids = select(PendingRegistration.id).where(where).scalar_subquery()
    db.session.execute(delete(OtpChallenge).where(OtpChallenge.registration_id.in_(ids))
                       .execution_options(synchronize_session=False))
    result = db.session.execute(delete(PendingRegistration).where(where)
                                .execution_options(synchronize_session=False))
    return rowcount(result)


def delete_registrations_of(national_id: str, phone: str | None) -> int:
    """At the deletion of an account, in the caller's transaction: every registration made with
    its ID number or phone number (a minor's account has none), finished or not."""
    if phone is None:
        return _delete_registrations(PendingRegistration.national_id == national_id)
    return _delete_registrations(or_(PendingRegistration.national_id == national_id,
                                     PendingRegistration.phone == phone))


def purge(*, now: datetime | None = None) -> Purged:
    """Delete registrations (finished or not: a finished one is in the account) sent more than
    registration_retention_days ago and messages written more than message_retention_days ago,
    delivered or not (a code a year old is no use). Idempotent: a second run finds nothing.
    Audited with the counts only. One transaction."""
    settings = current_settings()
    now = now or utcnow()
    registrations = _delete_registrations(
        PendingRegistration.created_at < now - timedelta(days=settings.registration_retention_days))
    messages = rowcount(db.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.created_at < now - timedelta(days=settings.message_retention_days))
        .execution_options(synchronize_session=False)))
    ceremonies = rowcount(db.session.execute(
        delete(WebauthnChallenge).where(WebauthnChallenge.expires_at < now - CEREMONY_GRACE)
        .execution_options(synchronize_session=False)))
    audit.record(AuditTag.RETENTION_PURGE, channel="cli", registrations=registrations,
                 messages=messages, ceremonies=ceremonies)
    db.session.commit()
    return Purged(registrations=registrations, messages=messages, ceremonies=ceremonies)
