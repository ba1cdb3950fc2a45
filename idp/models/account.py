"""Citizen account: who the person declared to be, and how sure we are of it."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.domain.gender import Gender
from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK, str_enum

if TYPE_CHECKING:
    from idp.models.credentials import PasswordCredential


class AccountStatus(enum.Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
    # Registered by a clerk (assisted registration): the citizen has not yet chosen a
    # password on their own phone, so nobody can sign in to it.
    PENDING_ACTIVATION = "pending_activation"
    # A child under 14 registered at a counter by a guardian (docs/architecture.md §14): no
    # password and no phone; only a guardian signs in for them, until the child activates
    # their own account at a counter from the 14th birthday.
    MINOR = "minor"


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # Opaque, stable subject identifier (docs/architecture.md §5): never derived from the national ID.
    sub: Mapped[str] = mapped_column(String(43), unique=True)
    # 12-digit personal ID number, digits only; unique across accounts.
    national_id: Mapped[str] = mapped_column(String(12), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))  # NFC, exactly as on the ID card
    name_search_key: Mapped[str] = mapped_column(String(100), index=True)  # accent-free, staff search
    birthdate: Mapped[date] = mapped_column(Date)
    gender: Mapped[Gender] = mapped_column(str_enum(Gender, "gender"))
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)  # E.164; None: a minor
    phone_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[AccountStatus] = mapped_column(
        str_enum(AccountStatus, "account_status"), default=AccountStatus.ACTIVE
    )
    # Level of assurance reached by identity proofing (1 online, 2 counter-verified).
    identity_loa: Mapped[int] = mapped_column(Integer, default=1)
    # Postal address checked at a counter (OIDC Core §5.1.1 members); only ever set by an
    # approved verification, cleared when that verification is revoked.
    postal_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    address_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    # The terms of use and privacy notice the person accepted (idp.domain.terms) and when;
    # None for an account a clerk registered that its owner has not activated yet.
    terms_version: Mapped[str | None] = mapped_column(String(16))
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    password: Mapped[PasswordCredential | None] = relationship(
        back_populates="account", uselist=False, cascade="all, delete-orphan"
    )

    @property
    def own_phone(self) -> str:
        """The phone of an account that has one, which is every account but a minor's: what
        sign-in, recovery and notices use, none of which a minor's account ever reaches."""
        if self.phone is None:
            raise LookupError(f"{self!r} has no phone of its own")
        return self.phone

    @property
    def is_active(self) -> bool:
        return self.status is AccountStatus.ACTIVE

    @property
    def may_be_signed_in_for(self) -> bool:
        """Whether a session or token of this account may live: an active account, or a
        minor's, whose only sessions are a guardian's (docs/architecture.md §14)."""
        return self.status in (AccountStatus.ACTIVE, AccountStatus.MINOR)

    def __repr__(self) -> str:  # ids only: a repr may end up in a log
        return f"<Account id={self.id} sub={self.sub}>"
