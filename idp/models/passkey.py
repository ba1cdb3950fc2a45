"""Passkeys (WebAuthn Level 3 public-key credentials) and the server-side challenges of their
ceremonies (docs/architecture.md §7).

A passkey belongs to a citizen's account or to a staff member, never both (CHECK). A ceremony's
challenge lives here, not in a cookie: single use, a few minutes, bound to what started it (the
signed-in session, the pending sign-in after the password, or, for a sign-in with a passkey
alone, only to the browser that holds its handle).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK, str_enum

# WebAuthn credential ids are at most 1023 bytes (WebAuthn L3 §5.8.3); user handles 64.
MAX_CREDENTIAL_ID_BYTES = 1023
USER_HANDLE_BYTES = 32
MAX_PASSKEY_NAME = 64
OWNER = "(account_id IS NULL) <> (staff_id IS NULL)"


class Passkey(Base):
    __tablename__ = "passkey"
    __table_args__ = (CheckConstraint(OWNER, name="account_or_staff"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(MAX_CREDENTIAL_ID_BYTES), unique=True)
    # The random user handle the authenticator returns with a discoverable credential: the same
    # for every passkey of one owner, never derived from the ID number (WebAuthn L3 §14.6.1).
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(64), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key, as py_webauthn returns it
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[str] = mapped_column(String(128), default="")  # space-separated hints
    aaguid: Mapped[str] = mapped_column(String(36))
    # BE and BS flags (WebAuthn L3 §6.1): a backup-eligible passkey may be synced to other
    # devices ("swk" in amr), one that is not stays on its device ("hwk").
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    user_verified: Mapped[bool] = mapped_column(Boolean, default=False)  # at its last use
    name: Mapped[str] = mapped_column(String(MAX_PASSKEY_NAME))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CeremonyPurpose(enum.Enum):
    REGISTER = "register"  # a signed-in citizen adds a passkey
    SIGN_IN = "sign_in"  # a passkey alone, discoverable credentials
    SECOND_FACTOR = "second_factor"  # after the password, in a pending sign-in
    STEP_UP = "step_up"  # a signed-in session proves a passkey


class WebauthnChallenge(Base):
    """One ceremony: the browser holds a random handle, the row its hash and the challenge."""

    __tablename__ = "webauthn_challenge"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    handle_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[CeremonyPurpose] = mapped_column(str_enum(CeremonyPurpose, "ceremony_purpose"))
    challenge: Mapped[bytes] = mapped_column(LargeBinary(64))
    session_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("user_session.id", ondelete="CASCADE"), index=True)
    mfa_challenge_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("mfa_challenge.id", ondelete="CASCADE"), index=True)
    # A staff member's pending or signed-in staff session (staff passkeys, §8).
    staff_session_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("staff_session.id", ondelete="CASCADE"), index=True)
    # REGISTER: the user handle offered to the authenticator, stored with the new passkey.
    user_handle: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
