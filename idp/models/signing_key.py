"""Signing keys for ID tokens and logout tokens, encrypted at rest (AES-GCM under the KEK).

Per algorithm there is one key ring: NEXT (published, not yet signing), CURRENT (signs),
PREVIOUS (published until every token it signed has expired), then RETIRED (gone from JWKS).
Rows with alg "Ed25519" are the audit log's checkpoint key (idp/services/platform/audit_key.py):
CURRENT signs, PREVIOUS is kept for verifying old checkpoints; never a token key.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK, str_enum


class KeyState(enum.Enum):
    NEXT = "next"
    CURRENT = "current"
    PREVIOUS = "previous"
    RETIRED = "retired"


class SigningKey(Base):
    __tablename__ = "signing_key"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(8), index=True)
    state: Mapped[KeyState] = mapped_column(str_enum(KeyState, "key_state"))
    # 12-byte nonce || AES-256-GCM ciphertext of the private key (PKCS#8 PEM); AAD = kid.
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # became CURRENT
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # stopped signing
    # A PREVIOUS key leaves the JWKS after this instant (its last token has expired).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
