"""Back-channel logout deliveries (OIDC Back-Channel Logout 1.0): a durable outbox.

A row is written in the same transaction that ends the session; a sender posts the logout
token and retries with back-off until the portal answers 200/204 or the attempts run out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK


class LogoutDelivery(Base):
    __tablename__ = "logout_delivery"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    client_pk: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("oauth_client.id", ondelete="CASCADE"), index=True
    )
    uri: Mapped[str] = mapped_column(String(2048))
    logout_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Pending rows are found through this index: next_attempt_at <= now and not delivered.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(255))
