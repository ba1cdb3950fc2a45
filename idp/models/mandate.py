"""Acting for another person (docs/architecture.md §14): a citizen's mandate to the agents of a
post office, its uses, and a guardian's link to a child under 14.

A delegated sign-in is an ordinary `UserSession` of the citizen (or child) that also names the
mandate or guardianship it runs under and the one portal it is for (idp.models.session); the
rules of both live in idp.domain.mandates and idp.domain.guardianship.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.models.account import Account
from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.office import PostOffice
from idp.models.staff import StaffMember
from idp.models.types import BigIntPK, str_enum
from idp.models.verification import DocumentType


class MandateConfirmation(enum.Enum):
    """How the citizen confirmed, with their own authentication, never the agent's choice."""

    OWN_DEVICE = "own_device"  # approved on their own phone, signed in to PostID
    SMS_CODE = "sms_code"  # typed the code sent to their confirmed phone into the counter screen


class MandateEnder(enum.Enum):
    CITIZEN = "citizen"  # revoked (or, while pending, declined) on the account page
    SUPERVISOR = "supervisor"  # ended by the office's supervisor
    SYSTEM = "system"  # the account lost what the mandate stood on (verification revoked, deletion)


class Mandate(Base):
    __tablename__ = "mandate"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # Random id in URLs, the counter API and the `act` claim (never the row id).
    public_id: Mapped[str] = mapped_column(String(22), unique=True)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    office_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("post_office.id", ondelete="RESTRICT"), index=True
    )
    created_by_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("staff.id"))
    # Scope (idp.domain.mandates.Scope): Procedure values and portals by client_id.
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    client_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    months: Mapped[int] = mapped_column(Integer)  # 0: this visit only
    loa: Mapped[int] = mapped_column(Integer)  # the citizen's level when it was made
    # The ID-card check at the counter, recorded as in a verification.
    document_type: Mapped[DocumentType] = mapped_column(str_enum(DocumentType, "document_type"))
    document_number: Mapped[str] = mapped_column(String(12))
    document_issued_on: Mapped[date] = mapped_column(Date)
    document_expires_on: Mapped[date | None] = mapped_column(Date)  # None: valid for life
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[MandateConfirmation | None] = mapped_column(
        str_enum(MandateConfirmation, "mandate_confirmation")
    )
    # The SMS code of the counter-screen confirmation, if one was sent (idp.services.platform.otp).
    confirmation_challenge_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("otp_challenge.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[MandateEnder | None] = mapped_column(str_enum(MandateEnder, "mandate_ender"))
    revoked_by_staff_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("staff.id"))

    account: Mapped[Account] = relationship()
    office: Mapped[PostOffice] = relationship()
    created_by: Mapped[StaffMember] = relationship(foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return f"<Mandate id={self.id} office_id={self.office_id}>"


class MandateUse(Base):
    """One delegated sign-in to a portal: an authorization code issued under the mandate."""

    __tablename__ = "mandate_use"
    __table_args__ = (Index("ix_mandate_use_mandate_id_used_at", "mandate_id", "used_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    mandate_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("mandate.id", ondelete="CASCADE"))
    client_pk: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("oauth_client.id", ondelete="CASCADE")
    )
    staff_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("staff.id"))
    session_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("user_session.id", ondelete="SET NULL")
    )
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Guardianship(Base):
    """A verified parent's link to a child under 14, made at a counter on the birth certificate."""

    __tablename__ = "guardianship"
    __table_args__ = (UniqueConstraint("child_account_id", "guardian_account_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(22), unique=True)
    child_account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    guardian_account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    office_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("post_office.id", ondelete="RESTRICT")
    )
    created_by_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("staff.id"))
    # The birth certificate (giấy khai sinh) seen at the counter.
    birth_certificate_number: Mapped[str] = mapped_column(String(32))
    birth_certificate_issued_on: Mapped[date] = mapped_column(Date)
    birth_certificate_matches: Mapped[bool] = mapped_column(Boolean)
    # The parent's ID card seen at the counter, as in a verification (None: a link made before
    # the parent's confirmation existed).
    document_type: Mapped[DocumentType | None] = mapped_column(
        str_enum(DocumentType, "document_type"))
    document_number: Mapped[str | None] = mapped_column(String(12))
    document_issued_on: Mapped[date | None] = mapped_column(Date)
    document_expires_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The parent's own confirmation; until then the link grants nothing (pending).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[MandateConfirmation | None] = mapped_column(
        str_enum(MandateConfirmation, "guardian_confirmation"))
    confirmation_challenge_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("otp_challenge.id", ondelete="SET NULL")
    )
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))

    child: Mapped[Account] = relationship(foreign_keys=[child_account_id])
    guardian: Mapped[Account] = relationship(foreign_keys=[guardian_account_id])
    office: Mapped[PostOffice] = relationship()
