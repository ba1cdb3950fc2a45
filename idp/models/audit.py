"""Audit events: who did what to which object, when. Ids only, never raw personal data."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
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
    ACCOUNT_ACTIVATE = "account.activate"
    OFFICE_CREATE = "office.create"
    STAFF_CREATE = "staff.create"
    STAFF_DISABLE = "staff.disable"
    STAFF_LOGIN_SUCCESS = "staff.login.success"
    STAFF_LOGIN_FAILURE = "staff.login.failure"
    STAFF_MFA_ENROL = "staff.mfa.enrol"
    STAFF_MFA_FAILURE = "staff.mfa.failure"
    STAFF_LOGOUT = "staff.logout"
    VERIFICATION_REQUEST = "verification.request"
    VERIFICATION_CANCEL = "verification.cancel"
    VERIFICATION_EXPIRE = "verification.expire"
    COUNTER_VERIFICATION_VIEW = "counter.verification.view"
    COUNTER_VERIFICATION_SUBMIT = "counter.verification.submit"
    COUNTER_VERIFICATION_REJECT = "counter.verification.reject"
    COUNTER_VERIFICATION_APPROVE = "counter.verification.approve"
    COUNTER_VERIFICATION_REVOKE = "counter.verification.revoke"
    COUNTER_VERIFICATION_REFUSED = "counter.verification.refused"
    COUNTER_ASSISTED_REGISTRATION = "counter.registration.assisted"
    CLIENT_UPDATE = "client.update"
    STAFF_MFA_RESET = "staff.mfa.reset"
    ORGANISATION_REGISTER = "organisation.register"
    ORGANISATION_REFUSED = "organisation.refused"  # a refused request by a citizen (reason code)
    ORGANISATION_VERIFICATION_REQUEST = "organisation.verification.request"
    ORGANISATION_VERIFICATION_CANCEL = "organisation.verification.cancel"
    ORGANISATION_VERIFICATION_EXPIRE = "organisation.verification.expire"
    ORGANISATION_MEMBER_INVITE = "organisation.member.invite"
    ORGANISATION_MEMBER_ACCEPT = "organisation.member.accept"
    ORGANISATION_MEMBER_DECLINE = "organisation.member.decline"
    ORGANISATION_MEMBER_CANCEL = "organisation.member.cancel"
    ORGANISATION_MEMBER_EXPIRE = "organisation.member.expire"
    ORGANISATION_MEMBER_SUSPEND = "organisation.member.suspend"
    ORGANISATION_MEMBER_REINSTATE = "organisation.member.reinstate"
    ORGANISATION_MEMBER_REMOVE = "organisation.member.remove"
    ORGANISATION_MEMBER_UPDATE = "organisation.member.update"
    COUNTER_ORGANISATION_VIEW = "counter.organisation.view"
    COUNTER_ORGANISATION_SUBMIT = "counter.organisation.submit"
    COUNTER_ORGANISATION_REJECT = "counter.organisation.reject"
    COUNTER_ORGANISATION_APPROVE = "counter.organisation.approve"
    COUNTER_ORGANISATION_REVOKE = "counter.organisation.revoke"
    COUNTER_ORGANISATION_REFUSED = "counter.organisation.refused"
    OIDC_ORGANISATION_CHOSEN = "oidc.organisation.chosen"
    NOTIFY_SMS_SUPPRESSED = "notify.sms.suppressed"  # an SMS over a limit (sms_limits)
    RETENTION_PURGE = "retention.purge"  # `idp purge`: counts of rows deleted, nothing else
    NOTIFY_SMS_TOTAL_REACHED = "notify.sms.total_reached"  # the nationwide alarm (sms_limits)
    AUDIT_KEY_ROTATE = "audit.key.rotate"  # `idp audit key rotate`: the checkpoint signing key
    # A token a client's back end got for itself (client_credentials): its client and scope only.
    CLIENT_TOKEN_ISSUED = "client.token.issued"
    # Acting for another person (docs/architecture.md §14); staff and office on every one.
    MANDATE_CREATE = "mandate.create"  # at the counter, pending the citizen's confirmation
    MANDATE_CODE_SENT = "mandate.code.sent"  # the confirmation code, to the citizen's phone
    MANDATE_CONFIRM = "mandate.confirm"  # by the citizen: own device or the code at the counter
    MANDATE_CONFIRM_FAILURE = "mandate.confirm.failure"
    MANDATE_REVOKE = "mandate.revoke"  # by the citizen, the supervisor, or the system
    MANDATE_REFUSED = "mandate.refused"  # a counter action on a mandate refused, with the reason
    MANDATE_SIGN_IN = "mandate.sign_in"  # an agent opened a delegated session for a portal
    MANDATE_SIGN_IN_REFUSED = "mandate.sign_in.refused"  # with the idp.domain.mandates.Reason
    MANDATE_USE = "mandate.use"  # a code issued to a portal under the mandate
    GUARDIAN_CHILD_REGISTER = "guardian.child.register"  # a child's account made at a counter
    GUARDIAN_LINK = "guardian.link"  # a (second) guardian linked to a child
    GUARDIAN_SIGN_IN = "guardian.sign_in"  # a guardian opened a session for the child
    GUARDIAN_SIGN_IN_REFUSED = "guardian.sign_in.refused"
    GUARDIAN_USE = "guardian.use"  # a code issued to a portal for the child
    GUARDIAN_LINK_END = "guardian.link.end"
    GUARDIAN_CODE_SENT = "guardian.code.sent"  # the confirmation code, to the parent's phone
    GUARDIAN_CONFIRM = "guardian.confirm"  # by the parent: own device or the code at the counter
    GUARDIAN_CONFIRM_FAILURE = "guardian.confirm.failure"
    DELEGATED_ACCOUNT_CHANGE_REFUSED = "delegated.account_change.refused"
    MANDATE_LOOKUP = "mandate.lookup"  # a citizen found by ID number at the counter, for a mandate
    OFFICE_UPDATE = "office.update"  # a setting of an office (passkeys_required)
    STAFF_MFA_REMOVE = "staff.mfa.remove"  # a staff member removed one of their passkeys


class AuditEvent(Base):
    __tablename__ = "audit_event"
    # Few indexes: each is a write on every audited commit (migration 0010). Staff events are a
    # small share, so their index is partial.
    __table_args__ = (
        Index("ix_audit_event_xid_id", "xid", "id"),
        Index("ix_audit_event_staff_id", "staff_id", postgresql_where=text("staff_id IS NOT NULL"),
              sqlite_where=text("staff_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tag: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The account acted upon (subject) and the one acting, when they differ (staff, admin).
    account_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    session_id: Mapped[int | None] = mapped_column(BigInteger)
    # Counter actions: the staff member acting and the office (from the staff session).
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    office_id: Mapped[int | None] = mapped_column(BigInteger)
    # Source of the action: "web", "cli", "api".
    channel: Mapped[str] = mapped_column(String(16), default="web")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The hash chain of events written before sealing (kept as evidence; docs/audit.md): seq is
    # gap-free from 1, hash = SHA-256(prev_hash || canonical event). NULL for events written since:
    # those are sealed into the Merkle tree (audit_leaf, idp/services/platform/audit_seal.py).
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    # The inserting transaction's id on PostgreSQL (NULL on SQLite and before migration 0008):
    # the sealer's order, (xid, id), see idp/services/platform/audit_order.py.
    xid: Mapped[int | None] = mapped_column(BigInteger)


class AuditChainHead(Base):
    """One row (id 1): the last event of the legacy hash chain (no longer written: the sealer
    checks the legacy chain against it before sealing it)."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLeaf(Base):
    """One leaf of the audit log's Merkle tree per sealed event, in sealing order (append-only)."""

    __tablename__ = "audit_leaf"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("audit_event.id"), unique=True)
    leaf_hash: Mapped[str] = mapped_column(String(64))  # lowercase hex of the RFC 9162 leaf hash


class AuditCheckpoint(Base):
    """A signed checkpoint after each sealed batch (append-only): the tree's size and root, the
    C2SP signed note, the last sealed event's (xid, id) and the tree's frontier."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    kid: Mapped[str] = mapped_column(String(64))
    cursor_xid: Mapped[int | None] = mapped_column(BigInteger)
    cursor_id: Mapped[int | None] = mapped_column(BigInteger)
    frontier: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
