"""Consent records (Law 91/2025): who allowed which portal to receive which data, when, under
which text. Printable and revocable; a new grant is a new row, so history is kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.client import OAuthClient
from idp.models.types import BigIntPK


class Consent(Base):
    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_account_client", "account_id", "client_pk"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("account.id", ondelete="CASCADE"))
    client_pk: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("oauth_client.id", ondelete="CASCADE")
    )
    scope: Mapped[str] = mapped_column(String(255))  # space-separated scopes granted
    text_version: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[OAuthClient] = relationship()
