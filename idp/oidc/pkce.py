"""PKCE (RFC 7636), stricter than Authlib's default: S256 only, required for every client.

Authlib allows `plain` and forces PKCE only on public clients; RFC 9700 §2.1.1
says confidential clients should use it too, and our profile requires it (docs/architecture.md §5).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

CHALLENGE_METHOD = "S256"


class RequiredS256CodeChallenge(CodeChallenge):
    DEFAULT_CODE_CHALLENGE_METHOD = CHALLENGE_METHOD
    SUPPORTED_CODE_CHALLENGE_METHOD = [CHALLENGE_METHOD]
    CODE_CHALLENGE_METHODS = {CHALLENGE_METHOD: CodeChallenge.CODE_CHALLENGE_METHODS["S256"]}

    def __init__(self) -> None:
        super().__init__(required=True)

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with method S256.")
        if data.get("code_challenge_method") != CHALLENGE_METHOD:
            raise InvalidRequestError("code_challenge_method must be S256.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            # Every code carries a challenge, so a verifier is always needed (and a verifier
            # without a challenge cannot happen: such codes are never issued).
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)
