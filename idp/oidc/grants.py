"""Grant types with Authlib's storage hooks filled in and its unsafe defaults overridden.

- Authorization code (RFC 6749 §4.1, OIDC Core §3.1): redirect_uri required and exact; codes
  of 60 s, hashed; redemption is one conditional UPDATE in the transaction that stores the
  tokens, so of N concurrent redemptions exactly one wins; a replay revokes every token the
  code produced (RFC 6749 §4.1.2, RFC 9700 §4.5), also a portal's retry after a lost answer
  (docs/portal-integration.md says why and what the portal does then).
- Refresh token (RFC 6749 §6, RFC 9700 §4.14.2): rotated on every use; presenting a rotated
  token revokes the whole family; scopes can only narrow; absolute lifetime of the family.
- Client credentials (RFC 6749 §4.4): a portal's back end gets a token for itself, only if it
  authenticates (a confidential client) and is registered for it (a service scope), only within
  that scope; the token names no person: no ID token, no refresh token (§4.4.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.hooks import hooked
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from idp.extensions import db, rowcount
from idp.models import AuditTag, AuthorizationCode, OAuthToken, UserSession
from idp.models.base import utcnow
from idp.oidc.adapters import Code, Token
from idp.services.platform import audit
from idp.services.platform.secrets import new_token, token_hash
from idp.services.portals import keys
from idp.services.portals import tokens as token_service
from idp.services.portals.client_metadata import SUPPORTED_SCOPES
from idp.services.standing import delegation
from idp.settings import current_settings

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
MAX_CODE_LENGTH = 256
# What a grant's create_token_response gives Authlib: status, token body, headers.
TokenResponse = tuple[int, dict[str, Any], Any]

# Hot-path statements, built once (bench/README.md, issue 14). The code is read with its
# account (checked active before any token is issued) in the same query.
CODE_BY_HASH = (select(AuthorizationCode).options(joinedload(AuthorizationCode.account))
                .where(AuthorizationCode.code_hash == bindparam("code_hash")))
# Redemption and rotation are conditional UPDATEs: of concurrent requests exactly one wins.
REDEEM_CODE = (update(AuthorizationCode)
               .where(AuthorizationCode.id == bindparam("code_id"),
                      AuthorizationCode.redeemed_at.is_(None))
               .values(redeemed_at=bindparam("now"))
               .execution_options(synchronize_session=False))
ROTATE_REFRESH = (update(OAuthToken)
                  .where(OAuthToken.id == bindparam("token_id"),
                         OAuthToken.refresh_rotated_at.is_(None), OAuthToken.revoked_at.is_(None))
                  .values(refresh_rotated_at=bindparam("now"))
                  .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class Approval:
    """What a code is issued on, once the checks passed and the person consented
    (idp.oidc.consent): the sign-in session, the membership acted through (None: as
    themselves), the `claims` parameter, and the level achieved, never more."""

    session: UserSession
    organisation_member_id: int | None
    claims_request: dict[str, Any] | None
    acr: str


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    # Set by idp.oidc.consent before create_authorization_response; no code without it.
    approval: Approval | None = None

    @staticmethod
    def validate_authorization_redirect_uri(request, client):
        uri = request.payload.redirect_uri
        if not uri:
            raise InvalidRequestError("Missing 'redirect_uri' in request.")
        if not client.check_redirect_uri(uri):
            # The URI is not echoed: it is attacker-controlled input (docs/architecture.md §5).
            raise InvalidRequestError("The redirect_uri is not registered for this client.")
        return uri

    def save_authorization_code(self, code: str, request) -> None:
        """Add the code to the caller's transaction (the authorize view commits)."""
        settings = current_settings()
        approval = self.approval
        if approval is None:
            raise RuntimeError("No approval for this authorization request.")
        session = approval.session
        data = request.payload.data
        scope = request.scope
        if session.is_delegated:
            # No refresh token under delegation: the sign-in ends with the agent's visit.
            scope = " ".join(name for name in scope.split() if name != "offline_access")
        db.session.add(
            AuthorizationCode(
                code_hash=token_hash(code),
                client_pk=request.client.row.id,
                account_id=request.user.id,
                session_id=session.id,
                redirect_uri=request.payload.redirect_uri,
                scope=scope,
                nonce=data.get("nonce") or None,
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                claims=approval.claims_request,
                organisation_member_id=approval.organisation_member_id,
                auth_time=session.authenticated_at,
                acr=approval.acr,
                amr=session.amr,
                expires_at=utcnow() + timedelta(seconds=settings.authorization_code_seconds),
            )
        )

    def generate_authorization_code(self) -> str:
        return new_token()

    def query_authorization_code(self, code: str, client):
        if len(code) > MAX_CODE_LENGTH:
            return None
        row = db.session.scalar(CODE_BY_HASH, {"code_hash": token_hash(code)})
        if row is None or row.client_pk != client.row.id:
            return None
        if row.redeemed_at is not None:
            # Replay: the first redemption already happened; its tokens are now suspect.
            token_service.revoke_from_code(row.id, reason="code_replay")
            audit.record(AuditTag.OIDC_CODE_REPLAY, account_id=row.account_id, channel="api",
                         client=client.client_id)
            db.session.commit()
            raise InvalidGrantError("The authorization code has already been used.")
        if utcnow() >= row.expires_at or not row.account.may_be_signed_in_for:
            return None
        if not token_service.acts_legitimately(row.organisation_member_id, row.account_id):
            return None  # the member was suspended or removed, or the organisation withdrawn
        # The session is read here rather than for the ID token's `sid`: no statement more.
        session = row.session
        if session is not None and session.is_delegated \
                and delegation.session_refusal(session, client.row) is not None:
            return None  # its mandate was revoked (or expired...) since the code was issued
        return Code(row)

    def authenticate_user(self, authorization_code: Code):
        return authorization_code.row.account

    def delete_authorization_code(self, authorization_code: Code) -> None:
        """Nothing to do: the code was consumed atomically in create_token_response."""

    def create_token_response(self) -> TokenResponse:
        """Not @hooked: the `after` hooks (the ID token, PostIdOpenIDCode) run before the
        commit, so that once the tokens are stored nothing that reads the database or signs
        can fail between the commit and the answer (a committed exchange is answered)."""
        self.execute_hook("before_create_token_response")
        code: AuthorizationCode = self.request.authorization_code.row
        # Before the transaction below: creating a missing key ring commits on its own.
        keys.ensure_signer(code.client.id_token_signed_response_alg)
        claimed = db.session.execute(REDEEM_CODE, {"code_id": code.id, "now": utcnow()})
        if rowcount(claimed) != 1:
            db.session.rollback()
            token_service.revoke_from_code(code.id, reason="code_replay")
            audit.record(AuditTag.OIDC_CODE_REPLAY, account_id=code.account_id, channel="api",
                         client=code.client.client_id)
            db.session.commit()
            raise InvalidGrantError("The authorization code has already been used.")
        user = code.account
        self.request.user = user
        token = self.generate_token(
            user=user, scope=code.scope, include_refresh_token="offline_access" in code.scope.split()
        )
        self.save_token(token)
        result = (200, token, self.TOKEN_RESPONSE_HEADER)
        self.execute_hook("after_create_token_response", result)  # adds the id_token in place
        db.session.commit()
        return result


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str):
        row = token_service.find_by_refresh_token(refresh_token)
        if row is None:
            return None
        if row.refresh_rotated_at is not None and row.revoked_at is None:
            # Reuse of a rotated refresh token: someone holds a stolen copy (RFC 9700 §4.14.2).
            token_service.revoke_family(row.family_id, reason="refresh_reuse")
            audit.record(AuditTag.OIDC_REFRESH_REUSE, account_id=row.account_id, channel="api")
            db.session.commit()
            return None
        if not token_service.is_refresh_active(row):  # also: still acting legitimately
            return None
        return Token(row)

    def authenticate_user(self, refresh_token: Token):
        return refresh_token.row.account

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """Done atomically in create_token_response."""

    @hooked
    def create_token_response(self) -> TokenResponse:
        old: OAuthToken = self.request.refresh_token.row
        claimed = db.session.execute(ROTATE_REFRESH, {"token_id": old.id, "now": utcnow()})
        if rowcount(claimed) != 1:
            # A concurrent request rotated it first: this presentation is a reuse.
            db.session.rollback()
            token_service.revoke_family(old.family_id, reason="refresh_reuse")
            audit.record(AuditTag.OIDC_REFRESH_REUSE, account_id=old.account_id, channel="api")
            db.session.commit()
            raise InvalidGrantError("The refresh token has already been used.")
        user = old.account
        self.request.user = user
        token = self.issue_token(user, self.request.refresh_token)
        self.save_token(token)
        db.session.commit()
        return 200, token, self.TOKEN_RESPONSE_HEADER


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    # "none" too, so that a public client is told unauthorized_client rather than invalid_client.
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    granted_scope = ""

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        row = client.row
        # §4.4: "MUST only be used by confidential clients"; and only by those registered for it.
        if row.is_public or not client.check_grant_type(self.GRANT_TYPE) or not row.service_scope:
            raise UnauthorizedClientError(
                "The client is not registered for the client_credentials grant.")
        self.request.client = client
        self.granted_scope = service_scope_granted(row.service_scope, self.request.payload.scope)

    def create_token_response(self) -> TokenResponse:
        client = self.request.client.row
        token = self.generate_token(scope=self.granted_scope, include_refresh_token=False)
        self.save_token(token)  # a token with no account: idp.oidc.server.save_token
        audit.record(AuditTag.CLIENT_TOKEN_ISSUED, channel="api", client=client.client_id,
                     scope=token["scope"])
        db.session.commit()
        return 200, token, self.TOKEN_RESPONSE_HEADER


def service_scope_granted(service_scope: str, requested: str | None) -> str:
    """The requested scope if it lies within the client's service scope; none requested: all of
    it (RFC 6749 §3.3 lets the server apply a default). A person's scope is never granted this
    way, whatever was registered: there is no person to have consented."""
    allowed = [name for name in service_scope.split(" ")
               if name and name.lower() not in SUPPORTED_SCOPES]
    wanted = list(dict.fromkeys(name for name in (requested or "").split(" ") if name))
    if not wanted:
        if not allowed:
            raise UnauthorizedClientError(
                "The client is not registered for the client_credentials grant.")
        return " ".join(allowed)
    if any(name.lower() in SUPPORTED_SCOPES for name in wanted):
        raise InvalidScopeError("A person's scope is never granted to a client for itself.")
    if not set(wanted) <= set(allowed):
        raise InvalidScopeError("The requested scope is not within the client's service scope.")
    return " ".join(wanted)
