"""Partner portals (OIDC clients): registration, lookup, secret rotation, disabling.

Client metadata follows RFC 7591 §2 and OIDC Dynamic Client Registration §2, restricted to
our profile (docs/architecture.md §5) and checked by idp.services.portals.client_metadata: code
flow for people, exact-match https redirect URIs, client secrets that are 256-bit random and
stored only as their SHA-256. A client's claims profile adds the National Public Service Portal
claim names (idp.oidc.dvcqg) to the standard ones; its service scope lets its back end ask for
tokens of its own (client_credentials, RFC 6749 §4.4); its delegation setting lets a post-office
agent (or a guardian) sign in to it for someone else, for the kinds of procedure it serves
(docs/architecture.md §14). Every change is an audit event
(client.create, client.secret.rotate, client.update, client.disable).
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from idp.domain.errors import N_, DomainError
from idp.domain.procedures import parse_procedures
from idp.domain.uris import sector_identifier
from idp.errors import Conflict, InvalidInput
from idp.extensions import db
from idp.models import ClaimsProfile, ClientAuthMethod, OAuthClient, SubjectType
from idp.models.audit import AuditTag
from idp.models.base import utcnow
from idp.services.platform import audit
from idp.services.platform.secrets import new_token, token_hash
from idp.services.portals import client_metadata as rules
from idp.services.portals import tokens

# Re-exported: registering callers name these here, as before the checks moved out.
from idp.services.portals.client_metadata import ID_TOKEN_ALGS as ID_TOKEN_ALGS
from idp.services.portals.client_metadata import SUPPORTED_SCOPES as SUPPORTED_SCOPES
from idp.services.portals.client_metadata import ClientRegistration as ClientRegistration

# Every portal signs people in; client_credentials only with a service scope (RFC 6749 §4.4).
USER_GRANT_TYPES = ("authorization_code", "refresh_token")
CLIENT_CREDENTIALS = "client_credentials"
SECRET_METHODS = frozenset({ClientAuthMethod.CLIENT_SECRET_BASIC, ClientAuthMethod.CLIENT_SECRET_POST})
MAX_PRESENTED_SECRET = 512  # refused before hashing: no secret we issue comes close
CLIENT_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
FIXED_SECRET_RE = re.compile(r"[\x21-\x7e]{32,256}")  # printable ASCII, no spaces

MSG_CLIENT_ID = N_("A fixed client_id must be 1 to 64 letters, digits, “.”, “_” or “-”.")
MSG_FIXED_SECRET = N_("A fixed client secret must be 32 to 256 printable characters without spaces.")
MSG_DUPLICATE_ID = N_("A client with this client_id already exists.")
MSG_NOT_FOUND = N_("There is no client with this client_id.")
MSG_NO_SECRET = N_("This client does not authenticate with a client secret.")
MSG_DISABLED = N_("This client is disabled.")


@dataclass(frozen=True)
class RegisteredClient:
    client: OAuthClient
    client_secret: str | None  # the only copy of the plain secret


def check_client_secret(client: OAuthClient, presented: str) -> bool:
    """True only for an active client with a secret that equals `presented` (constant time)."""
    if client.client_secret_hash is None or not client.is_active:
        return False
    if not isinstance(presented, str) or not 0 < len(presented) <= MAX_PRESENTED_SECRET:
        return False
    return hmac.compare_digest(token_hash(presented), client.client_secret_hash)


def register_client(
    *,
    name: str,
    redirect_uris: Sequence[str],
    post_logout_redirect_uris: Sequence[str] = (),
    backchannel_logout_uri: str | None = None,
    scope: str = "openid profile",
    auth_method: ClientAuthMethod = ClientAuthMethod.CLIENT_SECRET_BASIC,
    jwks_uri: str | None = None,
    jwks: dict[str, Any] | None = None,
    subject_type: SubjectType = SubjectType.PUBLIC,
    id_token_signed_response_alg: str = "RS256",
    min_loa: int = 1,
    min_phishing_resistant: bool = False,
    claims_profile: ClaimsProfile | str = ClaimsProfile.STANDARD,
    service_scope: str = "",
    client_secret: str | None = None,
    client_id: str | None = None,
    accepts_delegation: bool = False,
    procedures: Sequence[str] = (),
) -> RegisteredClient:
    """Register a partner portal. One transaction.

    `client_id` and `client_secret` are for demo and test data only; normally both are random
    (client_id 192 bits; secret 256 bits, only for client_secret_basic/post). The returned
    `client_secret` is the only copy: the database keeps its SHA-256. Raises InvalidInput
    naming the field (codes: `add_client`, procedures.*) or Conflict; then nothing is written.
    """
    kinds = portal_procedures(procedures)
    registration = ClientRegistration(
        name=name, redirect_uris=redirect_uris, post_logout_redirect_uris=post_logout_redirect_uris,
        backchannel_logout_uri=backchannel_logout_uri, scope=scope, auth_method=auth_method,
        jwks_uri=jwks_uri, jwks=jwks, subject_type=subject_type,
        id_token_signed_response_alg=id_token_signed_response_alg, min_loa=min_loa,
        claims_profile=claims_profile, service_scope=service_scope,
    )
    try:
        registered = add_client(registration, client_id=client_id, client_secret=client_secret)
        registered.client.accepts_delegation = bool(accepts_delegation)
        registered.client.procedures = kinds
        registered.client.min_phishing_resistant = min_phishing_resistant is True
        db.session.flush()
        delegation: dict[str, Any] = {"accepts_delegation": True, "procedures": kinds} \
            if accepts_delegation else {}
        if registered.client.min_phishing_resistant:
            delegation["min_phishing_resistant"] = True
        audit.record(AuditTag.CLIENT_CREATE, channel="cli", client=registered.client.client_id,
                     **delegation)
        db.session.commit()
    except IntegrityError:
        # A concurrent registration took the same fixed client_id; the unique index decided.
        db.session.rollback()
        raise Conflict("client.duplicate_id", MSG_DUPLICATE_ID, field="client_id") from None
    return registered


def add_client(
    registration: ClientRegistration, *, client_id: str | None = None, client_secret: str | None = None
) -> RegisteredClient:
    """Check `registration` and add the client to the caller's transaction (not committed).

    InvalidInput codes: client.name, client.redirect_uri_required, uri.* (redirect_uris,
    post_logout_redirect_uris, backchannel_logout_uri, jwks_uri), uri.sector (pairwise over
    several hosts), client.scope_openid, client.scope_unsupported, client.keys_required,
    client.keys_not_allowed, client.jwks_format, client.jwks_private, client.id_token_alg,
    client.min_loa, client.claims_profile, client.service_scope_* (client_metadata.service_scope),
    client.client_id, client.fixed_secret, client.no_secret. Conflict: client.duplicate_id.
    """
    clean = rules.validate(registration)
    try:
        sector = sector_identifier(list(clean.redirect_uris))
    except DomainError as exc:
        # OIDC Core §8.1: pairwise needs one host; a public client on several has no sector.
        if clean.subject_type is SubjectType.PAIRWISE:
            raise InvalidInput.from_domain(exc, "redirect_uris") from None
        sector = ""
    if client_id is None:
        # Hex, not base64url: an id starting with "-" would read as an option on command lines.
        client_id = secrets.token_hex(16)
    elif not isinstance(client_id, str) or not CLIENT_ID_RE.fullmatch(client_id):
        raise InvalidInput("client.client_id", MSG_CLIENT_ID, field="client_id")
    elif db.session.scalar(select(OAuthClient.id).where(OAuthClient.client_id == client_id)):
        raise Conflict("client.duplicate_id", MSG_DUPLICATE_ID, field="client_id")
    if clean.auth_method not in SECRET_METHODS:
        if client_secret is not None:
            raise InvalidInput("client.no_secret", MSG_NO_SECRET, field="client_secret")
    elif client_secret is None:
        client_secret = new_token()
    elif not isinstance(client_secret, str) or not FIXED_SECRET_RE.fullmatch(client_secret):
        raise InvalidInput("client.fixed_secret", MSG_FIXED_SECRET, field="client_secret")
    client = OAuthClient(
        client_id=client_id,
        client_secret_hash=token_hash(client_secret) if client_secret is not None else None,
        name=clean.name, scope=clean.scope, grant_types=_grant_types(clean.service_scope),
        service_scope=clean.service_scope,
        redirect_uris=list(clean.redirect_uris),
        post_logout_redirect_uris=list(clean.post_logout_redirect_uris),
        backchannel_logout_uri=clean.backchannel_logout_uri,
        token_endpoint_auth_method=clean.auth_method, jwks_uri=clean.jwks_uri, jwks=clean.jwks,
        subject_type=clean.subject_type, sector_identifier=sector,
        id_token_signed_response_alg=clean.id_token_signed_response_alg, min_loa=clean.min_loa,
        claims_profile=clean.claims_profile,
    )
    db.session.add(client)
    db.session.flush()
    return RegisteredClient(client=client, client_secret=client_secret)


# Built once: looked up on every token, revocation and introspection request.
BY_CLIENT_ID = select(OAuthClient).where(OAuthClient.client_id == bindparam("client_id"))


def get_client(client_id: str) -> OAuthClient | None:
    """The client registered as `client_id`, active or disabled; None if there is none."""
    if not isinstance(client_id, str) or not CLIENT_ID_RE.fullmatch(client_id):
        return None
    return db.session.scalar(BY_CLIENT_ID, {"client_id": client_id})


def list_clients() -> list[OAuthClient]:
    """Every client, oldest first."""
    return list(db.session.scalars(select(OAuthClient).order_by(OAuthClient.id)))


def rotate_secret(client_id: str) -> str:
    """A new random secret for an active secret-based client; the old one stops working at once.

    One transaction. InvalidInput: client.not_found, client.no_secret, client.disabled.
    """
    client = _existing(client_id)
    if client.token_endpoint_auth_method not in SECRET_METHODS:
        raise InvalidInput("client.no_secret", MSG_NO_SECRET, field="client_id")
    if not client.is_active:
        raise InvalidInput("client.disabled", MSG_DISABLED, field="client_id")
    secret = new_token()
    client.client_secret_hash = token_hash(secret)
    client.secret_rotated_at = utcnow()
    audit.record(AuditTag.CLIENT_SECRET_ROTATE, channel="cli", client=client.client_id)
    db.session.commit()
    return secret


def set_min_loa(client_id: str, min_loa: int, phishing_resistant: bool = False) -> OAuthClient:
    """Change the minimum a client accepts: the lowest level of assurance (1-3) and whether
    every sign-in must be phishing resistant (docs/architecture.md §9); it applies to the next
    authorization request (tokens already issued keep their `acr`). One transaction.
    InvalidInput: client.not_found, client.min_loa."""
    client = _existing(client_id)
    level = rules.min_loa(min_loa)
    resistant = phishing_resistant is True
    if client.min_loa != level or client.min_phishing_resistant != resistant:
        previous, client.min_loa = client.min_loa, level
        # The phishing-resistance fields only when that part changes.
        change: dict[str, bool] = {} if client.min_phishing_resistant == resistant else {
            "min_phishing_resistant": resistant,
            "previous_min_phishing_resistant": client.min_phishing_resistant}
        client.min_phishing_resistant = resistant
        audit.record(AuditTag.CLIENT_UPDATE, channel="cli", client=client.client_id,
                     min_loa=level, previous_min_loa=previous, **change)
        db.session.commit()
    return client


def set_claims_profile(client_id: str, profile: ClaimsProfile | str) -> OAuthClient:
    """Change the claims profile of a client ("standard" or "dvcqg"); it applies to tokens
    issued from now on (tokens already issued keep their claims). One transaction.
    InvalidInput: client.not_found, client.claims_profile."""
    client = _existing(client_id)
    chosen = rules.claims_profile(profile)
    if client.claims_profile is not chosen:
        previous, client.claims_profile = client.claims_profile, chosen
        audit.record(AuditTag.CLIENT_UPDATE, channel="cli", client=client.client_id,
                     claims_profile=chosen.value, previous_claims_profile=previous.value)
        db.session.commit()
    return client


def set_service_scope(client_id: str, scope: str) -> tuple[OAuthClient, int]:
    """Set (or, with "", clear) the scopes CLIENT_ID's back end may ask for itself with the
    client_credentials grant, which it may use exactly while this is not empty. Its own tokens
    outstanding with a scope outside the new one are revoked at once (never revived if the scope
    comes back). One transaction. Returns the client and how many tokens were revoked.
    InvalidInput: client.not_found, client.service_scope_* (client_metadata.service_scope)."""
    client = _existing(client_id)
    chosen = rules.service_scope(scope, client.token_endpoint_auth_method)
    if client.service_scope == chosen:
        return client, 0
    previous, client.service_scope = client.service_scope, chosen
    client.grant_types = _grant_types(chosen)
    revoked = tokens.revoke_client_tokens_outside(client.id, chosen.split(),
                                                  reason="service_scope_changed")
    audit.record(AuditTag.CLIENT_UPDATE, channel="cli", client=client.client_id,
                 service_scope=chosen, previous_service_scope=previous, revoked_tokens=revoked)
    db.session.commit()
    return client, revoked


def portal_procedures(codes: Sequence[str]) -> list[str]:
    """The kinds of procedure a portal serves, as stored (idp.domain.procedures). InvalidInput
    (field procedures): procedures.unknown, procedures.any_not_a_kind."""
    try:
        return [kind.value for kind in parse_procedures(codes, allow_any=False)]
    except DomainError as exc:
        raise InvalidInput.from_domain(exc, "procedures") from None


def set_delegation(client_id: str, *, accepts: bool, procedures: Sequence[str] | None = None
                   ) -> OAuthClient:
    """Turn delegated sign-in (an agent under a mandate, a guardian) on or off for a client and,
    when given, set the kinds of procedure it serves. Applies at once: a delegated session is
    checked against it on every visit and every userinfo call. One transaction; nothing changes
    on an error. InvalidInput: client.not_found, procedures.*."""
    client = _existing(client_id)
    kinds = portal_procedures(procedures) if procedures is not None else list(client.procedures)
    if client.accepts_delegation is accepts and list(client.procedures) == kinds:
        return client
    previous_accepts, previous_kinds = client.accepts_delegation, list(client.procedures)
    client.accepts_delegation, client.procedures = accepts, kinds
    audit.record(AuditTag.CLIENT_UPDATE, channel="cli", client=client.client_id,
                 accepts_delegation=accepts, procedures=kinds,
                 previous_accepts_delegation=previous_accepts, previous_procedures=previous_kinds)
    db.session.commit()
    return client


def disable_client(client_id: str) -> OAuthClient:
    """Disable a client; idempotent (keeps the first time). One transaction. client.not_found."""
    client = _existing(client_id)
    if client.disabled_at is None:
        client.disabled_at = utcnow()
        audit.record(AuditTag.CLIENT_DISABLE, channel="cli", client=client.client_id)
        db.session.commit()
    return client


def _grant_types(service_scope: str) -> list[str]:
    return [*USER_GRANT_TYPES, CLIENT_CREDENTIALS] if service_scope else list(USER_GRANT_TYPES)


def _existing(client_id: str) -> OAuthClient:
    client = get_client(client_id)
    if client is None:
        raise InvalidInput("client.not_found", MSG_NOT_FOUND, field="client_id")
    return client
