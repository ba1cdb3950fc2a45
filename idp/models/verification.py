"""In-person identity verification at a post-office counter (DESIGN §5).

pending (citizen holds an enrolment code) -> submitted (a clerk checked the card) ->
approved | rejected (a supervisor of the same office decided); also expired, cancelled, and
revoked (after approval, on fraud). The status changes only in idp/services/verification*.py,
always with a conditional UPDATE on the expected status, so of two racing decisions one wins.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.domain.enrolment_code import display_code
from idp.models.account import Account
from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK, str_enum


class VerificationStatus(enum.Enum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REVOKED = "revoked"


LIVE_STATUSES = (VerificationStatus.PENDING, VerificationStatus.SUBMITTED)


class DocumentType(enum.Enum):
    CAN_CUOC = "can_cuoc"  # Thẻ căn cước (Law 26/2023/QH15, issued from 1 Jul 2024)
    CCCD = "cccd"  # Thẻ căn cước công dân (chip or barcode), still valid until its expiry
    PASSPORT = "passport"  # Vietnamese passport carrying the personal ID number


class RejectReason(enum.Enum):
    DOCUMENT_EXPIRED = "document_expired"
    NUMBER_MISMATCH = "number_mismatch"
    DATA_MISMATCH = "data_mismatch"
    PHOTO_MISMATCH = "photo_mismatch"
    DOCUMENT_DAMAGED = "document_damaged"
    SUSPECTED_FRAUD = "suspected_fraud"
    OTHER = "other"


class IdentityVerification(Base):
    __tablename__ = "identity_verification"
    # The supervisor's queue and the approved list: one office's records by status and date.
    __table_args__ = (
        Index("ix_identity_verification_office_queue", "office_id", "status", "submitted_at"),
    )
    # idp.services.standing.verification_state.transition keeps the first column equal to the second
    # while the record is live (see live_account_id).
    live_key: ClassVar[tuple[str, str]] = ("live_account_id", "account_id")

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # Random, non-enumerable id used in URLs and the counter API (never the row id).
    public_id: Mapped[str] = mapped_column(String(22), unique=True)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    # Equals account_id while the verification is pending or submitted, NULL otherwise: the
    # unique index makes "one live verification per account" a database rule.
    live_account_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # Enrolment code, 8 characters of an unambiguous alphabet, stored without the dash.
    code: Mapped[str] = mapped_column(String(8), unique=True)
    status: Mapped[VerificationStatus] = mapped_column(
        str_enum(VerificationStatus, "verification_status"), default=VerificationStatus.PENDING
    )
    # Opened at a counter during assisted registration rather than by the citizen online.
    assisted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The document check, recorded by the clerk. The office is the clerk's, from the session.
    office_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("post_office.id", ondelete="RESTRICT"), index=True
    )
    clerk_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("staff.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    document_type: Mapped[DocumentType | None] = mapped_column(
        str_enum(DocumentType, "document_type")
    )
    document_number: Mapped[str | None] = mapped_column(String(12))
    document_issued_on: Mapped[date | None] = mapped_column(Date)
    document_expires_on: Mapped[date | None] = mapped_column(Date)  # None: valid for life
    name_match: Mapped[bool | None] = mapped_column(Boolean)
    birthdate_match: Mapped[bool | None] = mapped_column(Boolean)
    sex_match: Mapped[bool | None] = mapped_column(Boolean)
    photo_match: Mapped[bool | None] = mapped_column(Boolean)
    # Postal address checked at the counter (OIDC Core §5.1.1 address members), 34-unit structure.
    verified_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    # The decision, by a supervisor of the same office who did not submit the check.
    decided_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[RejectReason | None] = mapped_column(
        str_enum(RejectReason, "reject_reason")
    )
    revoked_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("staff.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[RejectReason | None] = mapped_column(
        str_enum(RejectReason, "revoke_reason")
    )
    # Bumped by every change: lets a retried request tell "already done" from "changed since".
    version: Mapped[int] = mapped_column(Integer, default=1)

    account: Mapped[Account] = relationship()

    @property
    def display_code(self) -> str:
        return display_code(self.code)
