"""The OpenID Connect layer of the code grant: the ID token (OIDC Core §2, §3.1.3.6)."""

from __future__ import annotations

import time
from typing import Any

from authlib.oidc.core import OpenIDCode
from authlib.oidc.core.util import create_half_hash

from idp.oidc import claims as claim_rules
from idp.oidc.acting import act_claim, acting_claims
from idp.services.portals import keys
from idp.services.portals.subjects import subject_for
from idp.services.standing import organisation_access
from idp.settings import current_settings


class PostIdOpenIDCode(OpenIDCode):
    def __init__(self) -> None:
        super().__init__(require_nonce=False)

    def exists_nonce(self, nonce: str, request) -> bool:
        # Nonce replay is detected by the relying party that issued it (OIDC Core §15.5.2);
        # a server-side lookup would need an index on every code ever issued.
        return False

    def generate_user_info(self, user, scope):
        raise NotImplementedError  # encode_id_token below builds the claims itself

    def encode_id_token(self, token: dict[str, Any], request) -> str:
        settings = current_settings()
        code = request.authorization_code.row
        client = request.client.row
        account = code.account
        alg = client.id_token_signed_response_alg
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": settings.issuer,
            "sub": subject_for(account, client),
            "aud": client.client_id,
            "azp": client.client_id,
            "iat": now,
            "exp": now + settings.id_token_seconds,
            "auth_time": int(code.auth_time.timestamp()),  # the real sign-in, never "now"
            "acr": code.acr,
            "amr": code.amr.split(),
        }
        if code.nonce:
            payload["nonce"] = code.nonce
        if code.session_id is not None and code.session is not None:
            payload["sid"] = code.session.sid
        at_hash = create_half_hash(token["access_token"], alg)
        if at_hash is not None:
            payload["at_hash"] = at_hash.decode()
        scopes = code.scope.split()
        payload.update(claim_rules.claims_for(account, scopes, code.claims, "id_token"))
        # query_authorization_code checked the membership a moment ago (current or refused).
        membership = organisation_access.current_membership(code.organisation_member_id,
                                                            account.id)
        payload.update(acting_claims(account, client, scopes, membership, code.acr,
                                    target="id_token", claims_request=code.claims))
        act = act_claim(code.session, client)  # the session is read above for `sid`
        if act is not None:
            payload["act"] = act
        return keys.sign_jwt(payload, alg=alg)
