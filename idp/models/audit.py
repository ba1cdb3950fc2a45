"""Audit events: who did what to which object, when. Ids only, never raw personal data."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK


class AuditTag(enum.Enum):
    """Namespaced event tags; new tags are appended, never renamed (they are stored)."""

    ACCOUNT_CREATE = "account.create"
    ACCOUNT_LOGIN_SUCCESS = "account.login.success"
    ACCOUNT_LOGIN_FAILURE = "account.login.failure"
    ACCOUNT_LOGIN_THROTTLED = "account.login.throttled"
    ACCOUNT_LOGOUT = "account.logout"
    ACCOUNT_PASSWORD_REHASH = "account.password.rehash"
    CONSENT_GRANT = "consent.grant"
    OIDC_CODE_REPLAY = "oidc.code.replay"
    OIDC_REFRESH_REUSE = "oidc.refresh.reuse"
    CLIENT_CREATE = "client.create"
    CLIENT_SECRET_ROTATE = "client.secret.rotate"
    CLIENT_DISABLE = "client.disable"
    KEYS_ROTATE = "keys.rotate"
    REGISTRATION_START = "registration.start"
    REGISTRATION_DUPLICATE = "registration.duplicate"
    ACCOUNT_PHONE_CONFIRM = "account.phone.confirm"
    ACCOUNT_EMAIL_CONFIRM = "account.email.confirm"
    ACCOUNT_CONTACT_CHANGE = "account.contact.change"
    ACCOUNT_PASSWORD_CHANGE = "account.password.change"
    ACCOUNT_PASSWORD_RECOVER = "account.password.recover"
    ACCOUNT_MFA_ENROL = "account.mfa.enrol"
    ACCOUNT_MFA_REMOVE = "account.mfa.remove"
    ACCOUNT_MFA_SUCCESS = "account.mfa.success"
    ACCOUNT_MFA_FAILURE = "account.mfa.failure"
    ACCOUNT_RECOVERY_CODE_USE = "account.mfa.recovery_code"
    ACCOUNT_SESSION_REVOKE = "account.session.revoke"
    CONSENT_REVOKE = "consent.revoke"
    ACCOUNT_DATA_EXPORT = "account.data.export"
    ACCOUNT_DELETE = "account.delete"


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The account acted upon (subject) and the one acting, when they differ (staff, admin).
    account_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    session_id: Mapped[int | None] = mapped_column(BigInteger)
    # Source of the action: "web", "cli", "api".
    channel: Mapped[str] = mapped_column(String(16), default="web")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
