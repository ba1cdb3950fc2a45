"""What a partner portal may register, checked and normalised (RFC 7591 §2, OIDC Dynamic Client
Registration §2, restricted to our profile: docs/architecture.md §5).

Split from idp.services.portals.clients, which stores what these checks let through. Every
refusal is an InvalidInput naming the field; nothing here writes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idp.domain import uris
from idp.domain.errors import N_, DomainError
from idp.domain.uris import check_https_uri, check_redirect_uri
from idp.errors import InvalidInput
from idp.models import ClaimsProfile, ClientAuthMethod, SubjectType

# The scopes a person grants a portal (docs/architecture.md §5): never a service scope.
SUPPORTED_SCOPES = ("openid", "profile", "email", "phone", "address", "national_id", "organization",
                    "offline_access")
ID_TOKEN_ALGS = ("RS256", "ES256")
# Private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1): never ours to hold.
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})
MAX_NAME_LENGTH = 100
MAX_JWKS_KEYS = 16
MAX_SERVICE_SCOPE_LENGTH = 255  # oauth_client.service_scope, and the token's scope column
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), tokens separated by one space.
SCOPE_TOKEN_RE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
LOA_LEVELS = (1, 2, 3)  # docs/architecture.md §9; the acr values themselves live in idp.oidc.claims

MSG_NAME = N_("Enter a name of 1 to 100 characters.")
MSG_NO_REDIRECT_URI = N_("Register at least one redirect URI.")
MSG_SCOPE_OPENID = N_("The scope must include openid.")
MSG_SCOPE_UNSUPPORTED = N_("The scope contains a value this provider does not support.")
MSG_KEYS_REQUIRED = N_("A private_key_jwt client needs exactly one of jwks_uri or jwks.")
MSG_KEYS_NOT_ALLOWED = N_("Only private_key_jwt clients register keys (jwks_uri or jwks).")
MSG_JWKS_FORMAT = N_("jwks must be a JSON object with a non-empty list of public signing keys.")
MSG_JWKS_PRIVATE = N_("jwks must contain public keys only, never private or symmetric keys.")
MSG_ID_TOKEN_ALG = N_("The ID token signing algorithm must be RS256 or ES256.")
MSG_MIN_LOA = N_("The minimum level of assurance must be 1, 2 or 3 (LoA1, LoA2 or LoA3).")
MSG_CLAIMS_PROFILE = N_("The claims profile must be standard or dvcqg.")
MSG_SERVICE_SCOPE_SYNTAX = N_(
    "A service scope is a list of scope names separated by spaces; a name uses printable ASCII "
    "characters except space, double quote and backslash.")
MSG_SERVICE_SCOPE_USER = N_(
    "A service scope must not contain a scope that people grant to portals (such as openid, "
    "profile or offline_access).")
MSG_SERVICE_SCOPE_LENGTH = N_("A service scope must be at most 255 characters long.")
MSG_SERVICE_SCOPE_PUBLIC = N_(
    "A public client (authentication method none) cannot have a service scope: the "
    "client_credentials grant is only for clients with a client secret or a private key.")


@dataclass(frozen=True)
class ClientRegistration:
    """What an administrator registers, as given; checked and normalised by `validate`."""

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
    # The client_credentials grant's scopes (RFC 6749 §4.4); "" = the grant is not allowed.
    service_scope: str = ""


def validate(raw: ClientRegistration) -> ClientRegistration:
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
        raw, name=name, redirect_uris=redirect_uris, min_loa=min_loa(raw.min_loa),
        post_logout_redirect_uris=_uris(raw.post_logout_redirect_uris, "post_logout_redirect_uris"),
        backchannel_logout_uri=None if backchannel is None else _uri(backchannel, "backchannel_logout_uri"),
        scope=_scope(raw.scope), claims_profile=claims_profile(raw.claims_profile),
        service_scope=service_scope(raw.service_scope, raw.auth_method),
        **_keys(raw.auth_method, raw.jwks_uri, raw.jwks),
    )


def min_loa(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in LOA_LEVELS:
        raise InvalidInput("client.min_loa", MSG_MIN_LOA, field="min_loa")
    return raw


def claims_profile(raw: object) -> ClaimsProfile:
    """A ClaimsProfile, or its value as typed ("dvcqg", any case, surrounding spaces ignored)."""
    if isinstance(raw, ClaimsProfile):
        return raw
    if isinstance(raw, str) and len(raw) <= 32:
        try:
            return ClaimsProfile(raw.strip().lower())
        except ValueError:
            pass
    raise InvalidInput("client.claims_profile", MSG_CLAIMS_PROFILE, field="claims_profile")


def service_scope(raw: object, auth_method: ClientAuthMethod) -> str:
    """The scopes a client's back end may ask for itself (client_credentials, RFC 6749 §4.4):
    scope tokens (§3.3) separated by spaces, duplicates dropped, order kept; "" (or only
    spaces) = none. A person's scope is refused in any case ("OpenID" too): a client's own token
    must never read as one a person granted. A public client cannot hold one (§4.4: the client
    authenticates). InvalidInput codes: client.service_scope_syntax, client.service_scope_user,
    client.service_scope_length, client.service_scope_public."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise InvalidInput("client.service_scope_syntax", MSG_SERVICE_SCOPE_SYNTAX,
                           field="service_scope")
    names = [name for name in raw.split(" ") if name]
    if not all(SCOPE_TOKEN_RE.fullmatch(name) for name in names):
        raise InvalidInput("client.service_scope_syntax", MSG_SERVICE_SCOPE_SYNTAX,
                           field="service_scope")
    if {name.lower() for name in names} & set(SUPPORTED_SCOPES):
        raise InvalidInput("client.service_scope_user", MSG_SERVICE_SCOPE_USER,
                           field="service_scope")
    clean = " ".join(dict.fromkeys(names))
    if len(clean) > MAX_SERVICE_SCOPE_LENGTH:
        raise InvalidInput("client.service_scope_length", MSG_SERVICE_SCOPE_LENGTH,
                           field="service_scope")
    if clean and auth_method is ClientAuthMethod.NONE:
        raise InvalidInput("client.service_scope_public", MSG_SERVICE_SCOPE_PUBLIC,
                           field="service_scope")
    return clean


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
