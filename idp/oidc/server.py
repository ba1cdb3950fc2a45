"""The authorization server: Authlib's Flask server with our storage and token format."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from flask import Flask

from idp.extensions import db
from idp.models import OAuthToken
from idp.models.base import utcnow
from idp.oidc.adapters import Client
from idp.services.platform import metrics
from idp.services.platform.secrets import new_token, token_hash
from idp.services.portals import clients as client_service
from idp.settings import current_settings


def query_client(client_id: str | None) -> Client | None:
    if not client_id or len(client_id) > 64:
        return None
    row = client_service.get_client(client_id)
    return Client(row) if row is not None and row.is_active else None


def generate_bearer_token(grant_type, client, user=None, scope=None, expires_in=None,
                          include_refresh_token=True) -> dict[str, Any]:
    settings = current_settings()
    token: dict[str, Any] = {
        "token_type": "Bearer",
        "access_token": new_token(),
        "expires_in": settings.access_token_seconds,
        "scope": scope or "",
    }
    if include_refresh_token:
        token["refresh_token"] = new_token()
    return token


def save_token(token: dict[str, Any], request) -> None:
    """Add the issued token to the caller's transaction; the grant commits atomically."""
    settings = current_settings()
    now = utcnow()
    client = request.client.row
    origin_code = getattr(request, "authorization_code", None)
    previous = getattr(request, "refresh_token", None)
    refresh = token.get("refresh_token")
    context: dict[str, Any]
    if origin_code is not None:
        code = origin_code.row
        context = {
            "session_id": code.session_id, "authorization_code_id": code.id,
            "auth_time": code.auth_time, "acr": code.acr, "amr": code.amr, "claims": code.claims,
            "organisation_member_id": code.organisation_member_id,
            "family_id": secrets.token_urlsafe(24),
            "refresh_expires_at": now + timedelta(days=settings.refresh_token_days),
        }
    elif previous is not None:
        old: OAuthToken = previous.row
        context = {
            "session_id": old.session_id, "authorization_code_id": old.authorization_code_id,
            "auth_time": old.auth_time, "acr": old.acr, "amr": old.amr, "claims": old.claims,
            "organisation_member_id": old.organisation_member_id,
            "family_id": old.family_id,  # absolute lifetime: the family's, not renewed
            "refresh_expires_at": old.refresh_expires_at,
        }
    else:
        # Neither code nor refresh token: client_credentials (RFC 6749 §4.4). The client's own
        # token names no person: no account, sign-in, session or refresh token (the database's
        # CHECK ck_oauth_token_person_or_client holds every row to one kind or the other).
        assert request.user is None and refresh is None
        context = {"family_id": secrets.token_urlsafe(24), "refresh_expires_at": None}
    db.session.add(
        OAuthToken(
            client_pk=client.id,
            account_id=request.user.id if request.user is not None else None,
            access_token_hash=token_hash(token["access_token"]),
            access_expires_at=now + timedelta(seconds=token["expires_in"]),
            refresh_token_hash=token_hash(refresh) if refresh else None,
            scope=token["scope"],
            issued_at=now,
            **{**context, "refresh_expires_at": context["refresh_expires_at"] if refresh else None},
        )
    )


class PostIdAuthorizationServer(AuthorizationServer):
    def __init__(self) -> None:
        super().__init__(query_client=query_client, save_token=save_token)

    def init_app(self, app: Flask, query_client=None, save_token=None):
        super().init_app(app)
        self.register_token_generator("default", generate_bearer_token)

    def create_token_response(self, request=None):
        """Authlib's create_token_response, counted (idp.services.platform.metrics): the token
        responses by grant type, once the grant has committed, and the refusals by error code."""
        request = self.create_oauth2_request(request)
        try:
            grant = self.get_token_grant(request)
            grant.validate_token_request()
            answer = grant.create_token_response()
        except OAuth2Error as error:
            return self.token_error_response(request, error)
        metrics.token_issued(grant.GRANT_TYPE)
        return self.handle_response(*answer)

    def token_error_response(self, request, error: OAuth2Error):
        """A refusal of the token endpoint, counted by its error code."""
        metrics.token_error(error.error or "")
        return self.handle_error_response(request, error)
