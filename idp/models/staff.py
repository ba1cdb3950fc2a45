"""Counter staff and their sessions. Staff are not citizen accounts: they sign in at /counter
with their own password and a TOTP that is always required (docs/architecture.md §8)."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.office import PostOffice
from idp.models.types import BigIntPK, str_enum


class StaffRole(enum.Enum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"


class StaffStatus(enum.Enum):
    ACTIVE = "active"
    DISABLED = "disabled"


class StaffMember(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # lower case
    # The person's own 12-digit ID number: how "nobody acts on their own account" is enforced.
    national_id: Mapped[str] = mapped_column(String(12), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))  # NFC
    # Random, stable, opaque: how a portal's `act` claim names the agent (never the username
    # or ID number); pairwise portals get it through their sector like a citizen's `sub`.
    actor_id: Mapped[str] = mapped_column(String(43), unique=True,
                                          default=lambda: secrets.token_urlsafe(32))
    office_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("post_office.id", ondelete="RESTRICT"), index=True
    )
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole, "staff_role"))
    status: Mapped[StaffStatus] = mapped_column(
        str_enum(StaffStatus, "staff_status"), default=StaffStatus.ACTIVE
    )
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id
    # TOTP secret sealed under the KEK (aad "staff-totp:<id>"); None until enrolment starts.
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    office: Mapped[PostOffice] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status is StaffStatus.ACTIVE

    @property
    def is_supervisor(self) -> bool:
        return self.role is StaffRole.SUPERVISOR

    def __repr__(self) -> str:
        return f"<StaffMember id={self.id} office_id={self.office_id} role={self.role.value}>"


class StaffSession(Base):
    """A console (cookie) or terminal (bearer) session; only the token's SHA-256 is stored."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("staff.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(8), default="web")  # "web" or "api"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Password accepted; the session may do nothing but the TOTP step until this is set.
    mfa_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[StaffMember] = relationship()
