"""Authorization codes and issued tokens. Every secret value is stored as its SHA-256."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.models.account import Account
from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.client import OAuthClient
from idp.models.session import UserSession
from idp.models.types import BigIntPK

# The longest nonce a code can carry: idp.oidc.checks refuses a longer one before it is stored.
NONCE_LENGTH = 255


class AuthorizationCode(Base):
    __tablename__ = "authorization_code"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("oauth_client.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    # The sign-in session: `sid` in the ID token, and which portals a logout must reach.
    session_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("user_session.id", ondelete="SET NULL"), index=True
    )
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(255))
    nonce: Mapped[str | None] = mapped_column(String(NONCE_LENGTH))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # OIDC `claims` request
    # Signing in on behalf of an organisation (scope `organization`): the membership chosen.
    # Deleting the membership deletes the code: it must never turn into a personal one.
    organisation_member_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("organisation_member.id", ondelete="CASCADE"), index=True
    )
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    acr: Mapped[str] = mapped_column(String(64))
    amr: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set by the one redemption that wins (conditional UPDATE ... WHERE redeemed_at IS NULL).
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[OAuthClient] = relationship()
    account: Mapped[Account] = relationship()
    session: Mapped[UserSession | None] = relationship()


# A token is either a person's (an account, and how and when they signed in) or a client's own
# (client_credentials, RFC 6749 §4.4): no account, no sign-in, no session, no organisation and no
# refresh token (§4.4.3). Deleting an account deletes its tokens, so a person's never turns into
# a client's; the database refuses any row that is half of each.
PERSON_OR_CLIENT = (
    "(account_id IS NOT NULL AND auth_time IS NOT NULL AND acr IS NOT NULL AND amr IS NOT NULL)"
    " OR (account_id IS NULL AND auth_time IS NULL AND acr IS NULL AND amr IS NULL"
    " AND session_id IS NULL AND authorization_code_id IS NULL"
    " AND organisation_member_id IS NULL AND refresh_token_hash IS NULL)"
)


class OAuthToken(Base):
    """One issuance: an access token and, with offline_access, a refresh token.

    Refresh rotation keeps a `family_id` across generations; presenting a refresh token whose
    row is already rotated revokes the family (RFC 9700 §4.14.2). A client_credentials token
    has no account (`account_id` NULL) and is a family of its own.
    """

    __tablename__ = "oauth_token"
    __table_args__ = (CheckConstraint(PERSON_OR_CLIENT, name="person_or_client"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    client_pk: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("oauth_client.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("user_session.id", ondelete="SET NULL"), index=True
    )
    authorization_code_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("authorization_code.id", ondelete="SET NULL"), index=True
    )
    family_id: Mapped[str] = mapped_column(String(43), index=True)
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scope: Mapped[str] = mapped_column(String(255))
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # As on the code: the token acts for this membership's organisation, and only while the
    # membership is current (idp.services.standing.organisation_access.acting_membership).
    organisation_member_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("organisation_member.id", ondelete="CASCADE"), index=True
    )
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acr: Mapped[str | None] = mapped_column(String(64))
    amr: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(32))

    client: Mapped[OAuthClient] = relationship()
    account: Mapped[Account | None] = relationship()
    # Read with the token on userinfo (idp.services.portals.tokens.BY_ACCESS_HASH): whether
    # someone signed in for the person (`act`) costs no statement of its own.
    session: Mapped[UserSession | None] = relationship()
