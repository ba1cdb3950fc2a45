"""Post offices: the tenants of the counter console (docs/architecture.md §8)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK


class PostOffice(Base):
    __tablename__ = "post_office"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # Operator-chosen code, upper case (e.g. "HN-BOHO"); how the CLI and reports name it.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))  # NFC
    # Code of one of the 34 provincial units (Resolution 202/2025/QH15), not an ID prefix.
    province_code: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Its staff complete the console's second step only with a passkey (§8); the API, which
    # cannot run WebAuthn, is then closed to them.
    passkeys_required: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<PostOffice id={self.id} code={self.code}>"
