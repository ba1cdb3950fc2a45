"""Registered relying parties (partner portals). The OIDC endpoints that use them come later;
the registration record is here so that `make run` can seed a demo portal from the start."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK, str_enum


class ClientAuthMethod(enum.Enum):
    CLIENT_SECRET_BASIC = "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post"
    PRIVATE_KEY_JWT = "private_key_jwt"
    NONE = "none"


class OAuthClient(Base):
    __tablename__ = "oauth_client"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 (hex) of a 256-bit random secret; None for public and private_key_jwt clients.
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(String(255), default="openid profile")
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_endpoint_auth_method: Mapped[ClientAuthMethod] = mapped_column(
        str_enum(ClientAuthMethod, "client_auth_method"),
        default=ClientAuthMethod.CLIENT_SECRET_BASIC,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
