"""Token revocation (RFC 7009) and introspection (RFC 7662) with our storage.

Both require client authentication with the client's registered method; a client can only
revoke or introspect its own tokens (RFC 7009 §2.1, RFC 7662 §2.1 / §4).
"""

from __future__ import annotations

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from idp.extensions import db
from idp.oidc.acting import act_claim
from idp.oidc.adapters import Token
from idp.oidc.grants import AUTH_METHODS
from idp.services.portals import tokens as token_service
from idp.services.portals.subjects import subject_for
from idp.services.standing import delegation
from idp.settings import current_settings


def _find(token_string: str, hint: str | None) -> tuple[Token, str] | None:
    finders = {"access_token": token_service.find_by_access_token,
               "refresh_token": token_service.find_by_refresh_token}
    order = ["access_token", "refresh_token"]
    if hint == "refresh_token":
        order.reverse()
    for kind in order:
        row = finders[kind](token_string)
        if row is not None:
            token = Token(row)
            token.kind = kind
            return token, kind
    return None


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        found = _find(token_string, token_type_hint)
        return found[0] if found else None

    def revoke_token(self, token, request) -> None:
        if token.kind == "refresh_token":
            token_service.revoke_refresh_token(token.row, reason="revoked_by_client")
        else:
            token_service.revoke_access_token(token.row)
        db.session.commit()


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        found = _find(token_string, token_type_hint)
        return found[0] if found else None

    def check_permission(self, token, client, request) -> bool:
        return token.check_client(client)

    def authenticate_token(self, request, client):
        """A token of another client is reported inactive, not as an error (RFC 7662 §2.2)."""
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is None or not self.check_permission(token, client, request):
            return None
        return token

    def create_introspection_payload(self, token):
        if token is None:
            return {"active": False}
        active = (token_service.is_refresh_active(token.row) if token.kind == "refresh_token"
                  else token_service.is_access_active(token.row))
        session = token.row.session
        if active and session is not None and session.is_delegated \
                and delegation.session_refusal(session, token.row.client) is not None:
            active = False  # as at userinfo: its mandate or guardianship no longer allows (§14)
        return self.introspect_token(token) if active else {"active": False}

    def introspect_token(self, token):
        row = token.row
        expires = row.refresh_expires_at if token.kind == "refresh_token" else row.access_expires_at
        payload = {
            "active": True,
            "scope": row.scope,
            "client_id": row.client.client_id,
            "token_type": "refresh_token" if token.kind == "refresh_token" else "Bearer",
            "exp": int(expires.timestamp()),
            "iat": int(row.issued_at.timestamp()),
            "aud": row.client.client_id,
            "iss": current_settings().issuer,
        }
        if row.account is None or row.auth_time is None:
            # A client's own token (client_credentials): its resource owner is the client
            # (RFC 7662 §2.2 `sub`), and there is no sign-in to describe.
            return {**payload, "sub": row.client.client_id}
        payload = {**payload, "sub": subject_for(row.account, row.client),
                   "auth_time": int(row.auth_time.timestamp()), "acr": row.acr}
        act = act_claim(row.session, row.client)  # RFC 8693 §4.1, as in the ID token
        return {**payload, "act": act} if act is not None else payload
