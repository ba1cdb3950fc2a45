"""Server-side sign-in sessions. The cookie carries a random token; only its hash is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.models.account import Account
from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK


class UserSession(Base):
    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # SHA-256 (hex) of the 256-bit cookie token: a database leak does not leak sessions.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Public session id for the `sid` claim and back-channel logout; not a bearer secret.
    sid: Mapped[str] = mapped_column(String(43), unique=True)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    # The real authentication instant (OIDC `auth_time`), not the time of the last request.
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # absolute timeout
    amr: Mapped[str] = mapped_column(String(64), default="pwd")  # space-separated, RFC 8176
    loa: Mapped[int] = mapped_column(Integer, default=1)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(32))
    # A delegated sign-in (docs/architecture.md §14): the session is the citizen's (or child's),
    # made by an agent under a mandate or by a guardian, and good for one portal only. All
    # three are None for a person's own sign-in.
    mandate_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("mandate.id", ondelete="CASCADE"), index=True
    )
    acting_staff_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("staff.id"))
    guardianship_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("guardianship.id", ondelete="CASCADE"), index=True
    )
    delegated_client_pk: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("oauth_client.id", ondelete="CASCADE")
    )

    account: Mapped[Account] = relationship()

    @property
    def is_delegated(self) -> bool:
        return self.mandate_id is not None or self.guardianship_id is not None
