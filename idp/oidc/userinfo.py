"""UserInfo endpoint (OIDC Core §5.3) with bearer tokens per RFC 6750.

The token comes in the Authorization header (GET or POST) or, for POST, in a form body
(RFC 6750 §2.2) — never both, never in the query (RFC 9700 §4.3.2). Errors carry
`WWW-Authenticate: Bearer error=...` (RFC 6750 §3). A client's own token (client_credentials)
names no person, so it is not a token for this endpoint: invalid_token.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from idp.oidc import claims as claim_rules
from idp.oidc.acting import act_claim, acting_claims
from idp.services.portals import tokens as token_service
from idp.services.portals.subjects import subject_for
from idp.services.standing import delegation, organisation_access


def _challenge(status: int, error: str | None = None, description: str | None = None) -> Response:
    params = ['realm="postid"']
    if error:
        params.append(f'error="{error}"')
    if description:
        params.append(f'error_description="{description}"')
    body = {"error": error, "error_description": description} if error else {"error": "invalid_request"}
    response = jsonify(body)
    response.status_code = status
    response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(params)
    return response


def _presented_token() -> tuple[str | None, Response | None]:
    header = request.headers.get("Authorization")
    in_body = request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded" \
        and "access_token" in request.form
    if header and in_body:
        return None, _challenge(400, "invalid_request", "Send the token in one place only.")
    if "access_token" in request.args:
        return None, _challenge(400, "invalid_request", "Tokens are not accepted in the query.")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None, _challenge(401, "invalid_token", "Use the Bearer scheme.")
        return value.strip(), None
    if in_body:
        values = request.form.getlist("access_token")
        if len(values) != 1:
            return None, _challenge(400, "invalid_request", "Parameter 'access_token' is repeated.")
        return values[0], None
    return None, _challenge(401)


def respond() -> Response:
    value, problem = _presented_token()
    if problem is not None:
        return problem
    row = token_service.find_by_access_token(value)
    if row is None or not token_service.is_access_active(row):
        return _challenge(401, "invalid_token", "The access token is invalid or expired.")
    account = row.account
    if account is None or row.acr is None:
        return _challenge(401, "invalid_token", "The access token names no person.")
    session = row.session  # read with the token: no statement of its own
    if session is not None and session.is_delegated \
            and delegation.session_refusal(session, row.client) is not None:
        # Checked at every use: a mandate ended or expired, or its agent disabled, since.
        return _challenge(401, "invalid_token", "The access token is invalid or expired.")
    scopes = row.scope.split()
    if "openid" not in scopes:
        return _challenge(403, "insufficient_scope", "The token was not issued with scope openid.")
    body: dict[str, Any] = {"sub": subject_for(account, row.client)}
    body.update(claim_rules.claims_for(account, scopes, row.claims, "userinfo"))
    # is_access_active checked the membership: current (or the token would be refused).
    membership = organisation_access.current_membership(row.organisation_member_id, account.id)
    body.update(acting_claims(account, row.client, scopes, membership, row.acr,
                              target="userinfo"))
    act = act_claim(session, row.client)
    if act is not None:
        body["act"] = act
    return jsonify(body)
