"""Self-registration before the phone is confirmed, and one-time codes/links.

A registration is not an account: nothing exists under the person's ID number until the
phone code is confirmed, and unconfirmed registrations simply expire (docs/architecture.md §7: nothing
half-written).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.domain.gender import Gender
from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK, str_enum


class PendingRegistration(Base):
    __tablename__ = "pending_registration"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # SHA-256 of the random token the browser holds for this registration flow.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    national_id: Mapped[str] = mapped_column(String(12), index=True)
    full_name: Mapped[str] = mapped_column(String(100))
    birthdate: Mapped[date] = mapped_column(Date)
    gender: Mapped[Gender] = mapped_column(str_enum(Gender, "gender"))
    phone: Mapped[str] = mapped_column(String(16), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    terms_version: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OtpPurpose(enum.Enum):
    REGISTER_PHONE = "register_phone"
    CONFIRM_EMAIL = "confirm_email"
    CHANGE_PHONE = "change_phone"
    RECOVER_PASSWORD = "recover_password"
    ACTIVATE_ACCOUNT = "activate_account"  # assisted registration: the citizen's own phone
    CONFIRM_MANDATE = "confirm_mandate"  # typed into the counter screen by the citizen
    CONFIRM_GUARDIAN = "confirm_guardian"  # typed into the counter screen by the parent


class OtpChallenge(Base):
    """A 6-digit code (SMS) or a long link token (e-mail), stored as an HMAC, single use."""

    __tablename__ = "otp_challenge"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    purpose: Mapped[OtpPurpose] = mapped_column(str_enum(OtpPurpose, "otp_purpose"))
    registration_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("pending_registration.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    destination: Mapped[str] = mapped_column(String(254))  # E.164 phone or e-mail address
    secret_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    sends: Mapped[int] = mapped_column(Integer, default=1)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
