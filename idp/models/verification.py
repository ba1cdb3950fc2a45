"""In-person identity verification at a post-office counter (docs/architecture.md §8).

pending (citizen holds an enrolment code) -> submitted (a clerk checked the card) ->
approved | rejected (a supervisor of the same office decided); also expired, cancelled, and
revoked (after approval, on fraud). The status changes only in
idp/services/standing/verification_state.py, always with a conditional UPDATE on the expected
status, so of two racing decisions one wins. An organisation's counter check
(idp.models.organisation.OrganisationVerification) shares these workflow columns (CounterCheck).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

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


class CounterCheck:
    """The workflow columns of a counter check, shared by a citizen's (IdentityVerification) and
    an organisation's (OrganisationVerification): status, code and expiry, the clerk's office
    and submission, the ID document, the supervisor's decision, revocation. Each model adds its
    owner (the account or the organisation) and what its own check records.

    The enum types carry `enum_prefix` in their names (their CHECK constraints were created
    under those names), and the office queue index the table's name.
    """

    enum_prefix: ClassVar[str] = ""
    __tablename__: str  # each model's own

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # The supervisor's queue and the approved list: one office's records by status and date.
        return (Index(f"ix_{cls.__tablename__}_office_queue", "office_id", "status", "submitted_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # Random, non-enumerable id used in URLs and the counter API (never the row id).
    public_id: Mapped[str] = mapped_column(String(22), unique=True)
    # Enrolment code, 8 characters of an unambiguous alphabet, stored without the dash; unique
    # across both kinds (checked when issued).
    code: Mapped[str] = mapped_column(String(8), unique=True)

    @declared_attr
    def status(cls) -> Mapped[VerificationStatus]:
        return mapped_column(str_enum(VerificationStatus, f"{cls.enum_prefix}verification_status"),
                             default=VerificationStatus.PENDING)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The clerk's check. The office is the clerk's, from the staff session.
    office_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("post_office.id", ondelete="RESTRICT"), index=True
    )
    clerk_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("staff.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The ID document shown at the counter (the citizen's, or the organisation's representative's).
    @declared_attr
    def document_type(cls) -> Mapped[DocumentType | None]:
        return mapped_column(str_enum(DocumentType, f"{cls.enum_prefix}document_type"))

    document_number: Mapped[str | None] = mapped_column(String(12))
    document_issued_on: Mapped[date | None] = mapped_column(Date)
    document_expires_on: Mapped[date | None] = mapped_column(Date)  # None: valid for life

    # The decision, by a supervisor of the same office who did not submit the check.
    decided_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def reject_reason(cls) -> Mapped[RejectReason | None]:
        return mapped_column(str_enum(RejectReason, f"{cls.enum_prefix}reject_reason"))

    revoked_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("staff.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def revoke_reason(cls) -> Mapped[RejectReason | None]:
        return mapped_column(str_enum(RejectReason, f"{cls.enum_prefix}revoke_reason"))

    # Bumped by every change: lets a retried request tell "already done" from "changed since".
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def display_code(self) -> str:
        return display_code(self.code)


class IdentityVerification(CounterCheck, Base):
    __tablename__ = "identity_verification"
    # idp.services.standing.verification_state.transition keeps the first column equal to the second
    # while the record is live (see live_account_id).
    live_key: ClassVar[tuple[str, str]] = ("live_account_id", "account_id")

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    # Equals account_id while the verification is pending or submitted, NULL otherwise: the
    # unique index makes "one live verification per account" a database rule.
    live_account_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # Opened at a counter during assisted registration rather than by the citizen online.
    assisted: Mapped[bool] = mapped_column(Boolean, default=False)

    # The rest of the document check, recorded by the clerk.
    name_match: Mapped[bool | None] = mapped_column(Boolean)
    birthdate_match: Mapped[bool | None] = mapped_column(Boolean)
    sex_match: Mapped[bool | None] = mapped_column(Boolean)
    photo_match: Mapped[bool | None] = mapped_column(Boolean)
    # Postal address checked at the counter (OIDC Core §5.1.1 address members), 34-unit structure.
    verified_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    account: Mapped[Account] = relationship()
