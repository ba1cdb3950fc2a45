"""Registered relying parties (partner portals)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from idp.models.base import Base, UTCDateTime, utcnow
from idp.models.types import BigIntPK, str_enum


class ClientAuthMethod(enum.Enum):
    CLIENT_SECRET_BASIC = "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post"
    PRIVATE_KEY_JWT = "private_key_jwt"
    NONE = "none"


class SubjectType(enum.Enum):
    PUBLIC = "public"
    PAIRWISE = "pairwise"


class ClaimsProfile(enum.Enum):
    STANDARD = "standard"  # OIDC claims only
    # Also the claim names of the National Public Service Portal (Cổng dịch vụ công quốc gia)
    # that existing portals consume (docs/architecture.md §5; formats in docs/claims-dvcqg.md).
    DVCQG = "dvcqg"


class OAuthClient(Base):
    __tablename__ = "oauth_client"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 (hex) of a 256-bit random secret; None for public and private_key_jwt clients.
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(String(255), default="openid profile")
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    token_endpoint_auth_method: Mapped[ClientAuthMethod] = mapped_column(
        str_enum(ClientAuthMethod, "client_auth_method"),
        default=ClientAuthMethod.CLIENT_SECRET_BASIC,
    )
    # private_key_jwt: the client's public keys, by URL or inline (RFC 7591 jwks_uri / jwks).
    jwks_uri: Mapped[str | None] = mapped_column(String(2048))
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    subject_type: Mapped[SubjectType] = mapped_column(
        str_enum(SubjectType, "subject_type"), default=SubjectType.PUBLIC, server_default="public"
    )
    # Host of the redirect URIs: pairwise subjects are per sector (OIDC Core §8.1).
    sector_identifier: Mapped[str] = mapped_column(String(255), default="", server_default="")
    id_token_signed_response_alg: Mapped[str] = mapped_column(
        String(8), default="RS256", server_default="RS256"
    )
    # Lowest level of assurance this portal accepts (1-3): treated as an essential `acr`.
    min_loa: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Part of the minimum too: every sign-in must be phishing resistant (a passkey proven in the
    # session), as an essential acr of claims.PHISHING_RESISTANT asks (docs/architecture.md §9).
    min_phishing_resistant: Mapped[bool] = mapped_column(Boolean, default=False,
                                                         server_default=sa_false())
    claims_profile: Mapped[ClaimsProfile] = mapped_column(
        str_enum(ClaimsProfile, "claims_profile"), default=ClaimsProfile.STANDARD,
        server_default="standard"
    )
    # The client_credentials grant (RFC 6749 §4.4): the space-separated scopes its back end may
    # ask for itself, never a person's (idp.services.portals.client_metadata); "" = not allowed.
    service_scope: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # Delegated sign-in (docs/architecture.md §14): only a portal registered for it receives a
    # sign-in made by an agent under a mandate or by a guardian; `procedures` are the kinds of
    # procedure (idp.domain.procedures.Procedure values) it serves, which mandates name.
    accepts_delegation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    procedures: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method is ClientAuthMethod.NONE
