"""Partner portals (OIDC clients): registration, lookup, secret rotation, disabling.

Client metadata follows RFC 7591 §2 and OIDC Dynamic Client Registration §2, restricted to
our profile (docs/architecture.md §5): code flow only, exact-match https redirect URIs, client secrets that
are 256-bit random and stored only as their SHA-256. A client's claims profile adds the National
Public Service Portal claim names (idp.oidc.dvcqg) to the standard ones. Every change is an audit event
(client.create, client.secret.rotate, client.update, client.disable).
"""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from idp.domain import uris
from idp.domain.errors import N_, DomainError
from idp.domain.uris import check_https_uri, check_redirect_uri, sector_identifier
from idp.errors import Conflict, InvalidInput
from idp.extensions import db
from idp.models import ClaimsProfile, ClientAuthMethod, OAuthClient, SubjectType
from idp.models.audit import AuditTag
from idp.models.base import utcnow
from idp.services.platform import audit
from idp.services.platform.secrets import new_token, token_hash

SUPPORTED_SCOPES = ("openid", "profile", "email", "phone", "address", "national_id", "organization",
                    "offline_access")
ID_TOKEN_ALGS = ("RS256", "ES256")
GRANT_TYPES = ("authorization_code", "refresh_token")
SECRET_METHODS = frozenset({ClientAuthMethod.CLIENT_SECRET_BASIC, ClientAuthMethod.CLIENT_SECRET_POST})
# Private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1): never ours to hold.
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})
MAX_NAME_LENGTH = 100
MAX_JWKS_KEYS = 16
MAX_PRESENTED_SECRET = 512  # refused before hashing: no secret we issue comes close
CLIENT_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
FIXED_SECRET_RE = re.compile(r"[\x21-\x7e]{32,256}")  # printable ASCII, no spaces

MSG_NAME = N_("Enter a name of 1 to 100 characters.")
MSG_NO_REDIRECT_URI = N_("Register at least one redirect URI.")
MSG_SCOPE_OPENID = N_("The scope must include openid.")
MSG_SCOPE_UNSUPPORTED = N_("The scope contains a value this provider does not support.")
MSG_KEYS_REQUIRED = N_("A private_key_jwt client needs exactly one of jwks_uri or jwks.")
MSG_KEYS_NOT_ALLOWED = N_("Only private_key_jwt clients register keys (jwks_uri or jwks).")
MSG_JWKS_FORMAT = N_("jwks must be a JSON object with a non-empty list of public signing keys.")
MSG_JWKS_PRIVATE = N_("jwks must contain public keys only, never private or symmetric keys.")
MSG_ID_TOKEN_ALG = N_("The ID token signing algorithm must be RS256 or ES256.")
MSG_CLIENT_ID = N_("A fixed client_id must be 1 to 64 letters, digits, “.”, “_” or “-”.")
MSG_FIXED_SECRET = N_("A fixed client secret must be 32 to 256 printable characters without spaces.")
MSG_DUPLICATE_ID = N_("A client with this client_id already exists.")
MSG_NOT_FOUND = N_("There is no client with this client_id.")
MSG_NO_SECRET = N_("This client does not authenticate with a client secret.")
MSG_DISABLED = N_("This client is disabled.")
MSG_MIN_LOA = N_("The minimum level of assurance must be 1, 2 or 3 (LoA1, LoA2 or LoA3).")
MSG_CLAIMS_PROFILE = N_("The claims profile must be standard or dvcqg.")
LOA_LEVELS = (1, 2, 3)  # docs/architecture.md §9; the acr values themselves live in idp.oidc.claims


@dataclass(frozen=True)
class ClientRegistration:
    """What an administrator registers, as given; checked and normalised by `add_client`."""

    name: str
    redirect_uris: Sequence[str]
    post_logout_redirect_uris: Sequence[str] = ()
    backchannel_logout_uri: str | None = None
    scope: str = "openid profile"
    auth_method: ClientAuthMethod = ClientAuthMethod.CLIENT_SECRET_BASIC
    jwks_uri: str | None = None
    jwks: dict[str, Any] | None = None
    subject_type: SubjectType = SubjectType.PUBLIC
    id_token_signed_response_alg: str = "RS256"
    min_loa: int = 1  # the lowest level of assurance the portal accepts: an essential acr
    # dvcqg: also the National Public Service Portal claim names (docs/claims-dvcqg.md).
    claims_profile: ClaimsProfile | str = ClaimsProfile.STANDARD


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
    claims_profile: ClaimsProfile | str = ClaimsProfile.STANDARD,
    client_secret: str | None = None,
    client_id: str | None = None,
) -> RegisteredClient:
    """Register a partner portal. One transaction.

    `client_id` and `client_secret` are for demo and test data only; normally both are random
    (client_id 192 bits; secret 256 bits, only for client_secret_basic/post). The returned
    `client_secret` is the only copy: the database keeps its SHA-256. Raises InvalidInput
    naming the field (codes: `add_client`) or Conflict; then nothing is written.
    """
    registration = ClientRegistration(
        name=name, redirect_uris=redirect_uris, post_logout_redirect_uris=post_logout_redirect_uris,
        backchannel_logout_uri=backchannel_logout_uri, scope=scope, auth_method=auth_method,
        jwks_uri=jwks_uri, jwks=jwks, subject_type=subject_type,
        id_token_signed_response_alg=id_token_signed_response_alg, min_loa=min_loa,
        claims_profile=claims_profile,
    )
    try:
        registered = add_client(registration, client_id=client_id, client_secret=client_secret)
        db.session.flush()
        audit.record(AuditTag.CLIENT_CREATE, channel="cli", client=registered.client.client_id)
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
    client.min_loa, client.claims_profile, client.client_id, client.fixed_secret,
    client.no_secret. Conflict: client.duplicate_id.
    """
    clean = _validate(registration)
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
        name=clean.name, scope=clean.scope, grant_types=list(GRANT_TYPES),
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


def set_min_loa(client_id: str, min_loa: int) -> OAuthClient:
    """Change the lowest level of assurance a client accepts (1-3); it applies to the next
    authorization request (tokens already issued keep their `acr`). One transaction.
    InvalidInput: client.not_found, client.min_loa."""
    client = _existing(client_id)
    level = _min_loa(min_loa)
    if client.min_loa != level:
        previous, client.min_loa = client.min_loa, level
        audit.record(AuditTag.CLIENT_UPDATE, channel="cli", client=client.client_id,
                     min_loa=level, previous_min_loa=previous)
        db.session.commit()
    return client


def set_claims_profile(client_id: str, profile: ClaimsProfile | str) -> OAuthClient:
    """Change the claims profile of a client ("standard" or "dvcqg"); it applies to tokens
    issued from now on (tokens already issued keep their claims). One transaction.
    InvalidInput: client.not_found, client.claims_profile."""
    client = _existing(client_id)
    chosen = _claims_profile(profile)
    if client.claims_profile is not chosen:
        previous, client.claims_profile = client.claims_profile, chosen
        audit.record(AuditTag.CLIENT_UPDATE, channel="cli", client=client.client_id,
                     claims_profile=chosen.value, previous_claims_profile=previous.value)
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


def _existing(client_id: str) -> OAuthClient:
    client = get_client(client_id)
    if client is None:
        raise InvalidInput("client.not_found", MSG_NOT_FOUND, field="client_id")
    return client


def _validate(raw: ClientRegistration) -> ClientRegistration:
    name = unicodedata.normalize("NFC", raw.name).strip() if isinstance(raw.name, str) else ""
    if not 1 <= len(name) <= MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidInput("client.name", MSG_NAME, field="name")
    redirect_uris = _uris(raw.redirect_uris, "redirect_uris")
    if not redirect_uris:
        raise InvalidInput("client.redirect_uri_required", MSG_NO_REDIRECT_URI, field="redirect_uris")
    if raw.id_token_signed_response_alg not in ID_TOKEN_ALGS:
        raise InvalidInput("client.id_token_alg", MSG_ID_TOKEN_ALG, field="id_token_signed_response_alg")
    backchannel = raw.backchannel_logout_uri
    return replace(
        raw, name=name, redirect_uris=redirect_uris, min_loa=_min_loa(raw.min_loa),
        post_logout_redirect_uris=_uris(raw.post_logout_redirect_uris, "post_logout_redirect_uris"),
        backchannel_logout_uri=None if backchannel is None else _uri(backchannel, "backchannel_logout_uri"),
        scope=_scope(raw.scope), claims_profile=_claims_profile(raw.claims_profile),
        **_keys(raw.auth_method, raw.jwks_uri, raw.jwks),
    )


def _min_loa(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in LOA_LEVELS:
        raise InvalidInput("client.min_loa", MSG_MIN_LOA, field="min_loa")
    return raw


def _claims_profile(raw: object) -> ClaimsProfile:
    """A ClaimsProfile, or its value as typed ("dvcqg", any case, surrounding spaces ignored)."""
    if isinstance(raw, ClaimsProfile):
        return raw
    if isinstance(raw, str) and len(raw) <= 32:
        try:
            return ClaimsProfile(raw.strip().lower())
        except ValueError:
            pass
    raise InvalidInput("client.claims_profile", MSG_CLAIMS_PROFILE, field="claims_profile")


def _uri(raw: object, field: str) -> str:
    if not isinstance(raw, str):
        raise InvalidInput("uri.format", uris.MSG_FORMAT, field=field)
    check = check_redirect_uri if field.endswith("redirect_uris") else check_https_uri
    try:
        return check(raw)
    except DomainError as exc:
        raise InvalidInput.from_domain(exc, field) from None


def _uris(raw: Sequence[str], field: str) -> tuple[str, ...]:
    if isinstance(raw, str):  # a lone string would otherwise be split into characters
        raw = (raw,)
    return tuple(dict.fromkeys(_uri(uri, field) for uri in raw))  # duplicates dropped, order kept


def _scope(raw: str) -> str:
    scopes = list(dict.fromkeys(raw.split())) if isinstance(raw, str) else []
    if "openid" not in scopes:
        raise InvalidInput("client.scope_openid", MSG_SCOPE_OPENID, field="scope")
    if not set(scopes) <= set(SUPPORTED_SCOPES):
        raise InvalidInput("client.scope_unsupported", MSG_SCOPE_UNSUPPORTED, field="scope")
    return " ".join(scopes)


def _keys(method: ClientAuthMethod, jwks_uri: str | None, jwks: Any) -> dict[str, Any]:
    """Exactly one of jwks_uri / jwks (RFC 7591 §2) for private_key_jwt, neither otherwise."""
    if method is not ClientAuthMethod.PRIVATE_KEY_JWT:
        if jwks_uri is not None or jwks is not None:
            raise InvalidInput("client.keys_not_allowed", MSG_KEYS_NOT_ALLOWED, field="jwks")
        return {"jwks_uri": None, "jwks": None}
    if (jwks_uri is None) == (jwks is None):
        raise InvalidInput("client.keys_required", MSG_KEYS_REQUIRED, field="jwks")
    if jwks_uri is not None:
        return {"jwks_uri": _uri(jwks_uri, "jwks_uri"), "jwks": None}
    return {"jwks_uri": None, "jwks": _public_jwks(jwks)}


def _public_jwks(jwks: Any) -> dict[str, Any]:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not 0 < len(keys) <= MAX_JWKS_KEYS or not all(
            isinstance(key, dict) for key in keys):
        raise InvalidInput("client.jwks_format", MSG_JWKS_FORMAT, field="jwks")
    if any(PRIVATE_JWK_MEMBERS & key.keys() for key in keys):
        raise InvalidInput("client.jwks_private", MSG_JWKS_PRIVATE, field="jwks")
    try:
        # joserfc skips key types it does not know, so count what it imported.
        imported = KeySet.import_key_set({"keys": keys})
    except (JoseError, ValueError, TypeError):
        raise InvalidInput("client.jwks_format", MSG_JWKS_FORMAT, field="jwks") from None
    usable = [k for k in imported.keys if k.key_type in ("RSA", "EC", "OKP") and not k.is_private]
    if len(usable) != len(keys) or any(key.get("use", "sig") != "sig" for key in keys):
        raise InvalidInput("client.jwks_format", MSG_JWKS_FORMAT, field="jwks")
    return {"keys": keys}
