"""`private_key_jwt` client authentication (RFC 7523 §2.2, OIDC Core §9).

Authlib verifies the signature and `iss`/`sub`/`aud`/`exp`; it leaves `jti` replay and key
lookup to us. A `jti` is remembered in the shared rate-limit store (Redis in production)
until the assertion could no longer be accepted, so a replay on any node is refused.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc.jwk import KeySet

from idp.extensions import limiter
from idp.settings import current_settings

JWKS_CACHE_SECONDS = 300
JWKS_MAX_BYTES = 64 * 1024
MAX_ASSERTION_LIFETIME = 600  # seconds a jti is remembered; longer-lived assertions are refused
_jwks_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def fetch_jwks(uri: str) -> dict[str, Any]:
    cached = _jwks_cache.get(uri)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    with urllib.request.urlopen(uri, timeout=5) as response:  # noqa: S310 - https or loopback, checked at registration
        data = json.loads(response.read(JWKS_MAX_BYTES))
    _jwks_cache[uri] = (time.monotonic() + JWKS_CACHE_SECONDS, data)
    return data


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self) -> None:
        super().__init__(validate_jti=True, leeway=30)

    def get_audiences(self) -> list[str]:
        issuer = current_settings().issuer
        # The token endpoint is the audience RFC 7523 names; the issuer is accepted as OIDC
        # Core §9 allows. Introspection and revocation reuse the same assertion rules.
        return [f"{issuer}/token", issuer, f"{issuer}/token/introspect", f"{issuer}/token/revoke"]

    def resolve_client_public_key(self, client):
        row = client.row
        data = row.jwks if row.jwks else fetch_jwks(row.jwks_uri) if row.jwks_uri else {"keys": []}
        return KeySet.import_key_set(data)

    def verify_claims(self, claims):
        super().verify_claims(claims)
        from authlib.oauth2.rfc6749.errors import InvalidClientError

        exp, iat = claims.get("exp"), claims.get("iat", time.time())
        if not isinstance(exp, int | float) or exp - float(iat) > MAX_ASSERTION_LIFETIME:
            raise InvalidClientError(description="The client assertion lives too long.")

    def validate_jti(self, claims, jti) -> bool:
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            return False
        key = f"postid/jti/{claims['sub']}/{jti}"
        return limiter.storage.incr(key, MAX_ASSERTION_LIFETIME + 60) == 1
