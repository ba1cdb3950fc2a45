"""Authenticators that belong to an account (password now; TOTP and recovery codes later)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK

if TYPE_CHECKING:
    from idp.models.account import Account


class PasswordCredential(Base):
    __tablename__ = "password_credential"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), unique=True
    )
    # argon2id PHC string; its parameters travel with it, so a rehash is detectable.
    hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(back_populates="password")
