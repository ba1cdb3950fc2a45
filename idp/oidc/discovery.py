"""Provider metadata (OIDC Discovery 1.0 §3, RFC 8414): built once per process from the
settings and from what the server really does, so the two cannot drift apart."""

from __future__ import annotations

from typing import Any

from flask import current_app

from idp.oidc.claims import LOA_ACR, PHISHING_RESISTANT, SUPPORTED_CLAIMS
from idp.oidc.dvcqg import DVCQG_CLAIMS
from idp.oidc.grants import AUTH_METHODS
from idp.services.portals.client_metadata import SUPPORTED_SCOPES
from idp.settings import current_settings

SIGNING_ALGS = ["RS256", "ES256"]
# The organisation acted for (scope organization), then the names only clients registered with
# the dvcqg claims profile receive: discovery lists every claim the provider can release.
# `act`: who signed in for the person (RFC 8693 §4.1, docs/portal-integration.md).
CLAIMS_SUPPORTED = list(dict.fromkeys((*SUPPORTED_CLAIMS, "organization", "act", *DVCQG_CLAIMS)))


def build_metadata(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks.json",
        "revocation_endpoint": f"{issuer}/token/revoke",
        "introspection_endpoint": f"{issuer}/token/introspect",
        "end_session_endpoint": f"{issuer}/session/end",
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": SIGNING_ALGS,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "acr_values_supported": [*LOA_ACR.values(), PHISHING_RESISTANT],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "display_values_supported": ["page", "touch"],
        "ui_locales_supported": ["vi", "en"],
        "claim_types_supported": ["normal"],
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }


def metadata() -> dict[str, Any]:
    cached = current_app.extensions.get("idp.discovery")
    if cached is None:
        cached = build_metadata(current_settings().issuer)
        current_app.extensions["idp.discovery"] = cached
    return cached
