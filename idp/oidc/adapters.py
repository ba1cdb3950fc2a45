"""Authlib's model mixins over our SQLAlchemy rows.

The models stay free of protocol code; these thin wrappers answer Authlib's questions
(RFC 6749 client, code and token semantics) with our rules: exact redirect-URI match, only
`code`, only registered scopes, only the registered authentication method.
"""

from __future__ import annotations

from datetime import datetime

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.util import scope_to_list

from idp.models import AuthorizationCode, OAuthClient, OAuthToken
from idp.models.base import utcnow
from idp.services.portals import clients as client_service


class Client(ClientMixin):
    def __init__(self, row: OAuthClient):
        self.row = row
        self.client_id = row.client_id

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> None:
        # OIDC Core §3.1.2.1: redirect_uri is REQUIRED; never fall back to a registered one.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(scope_to_list(self.row.scope))
        return " ".join(s for s in dict.fromkeys(scope_to_list(scope)) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris  # exact string comparison (RFC 9700 §2.1)

    def check_client_secret(self, client_secret: str) -> bool:
        return client_service.check_client_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.row.token_endpoint_auth_method.value

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


class Code(AuthorizationCodeMixin):
    def __init__(self, row: AuthorizationCode):
        self.row = row
        # Read by Authlib's CodeChallenge extension.
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_acr(self) -> str:
        return self.row.acr

    def get_amr(self) -> list[str]:
        return self.row.amr.split()


class Token(TokenMixin):
    def __init__(self, row: OAuthToken):
        self.row = row

    def check_client(self, client: Client) -> bool:
        return self.row.client_pk == client.row.id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return max(0, int((self.row.access_expires_at - utcnow()).total_seconds()))

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.row.access_expires_at

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None

    def get_user(self):
        return self.row.account

    def get_client(self) -> Client:
        return Client(self.row.client)
