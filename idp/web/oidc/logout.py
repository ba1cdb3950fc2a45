"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at /session/end.

With a valid id_token_hint naming the current session, the person is signed out at once;
without one, a confirmation page asks first (a GET must not end a session a third party
chose). post_logout_redirect_uri must exactly match one registered for the client named by
the hint or by client_id; otherwise nobody is redirected anywhere.
"""

from __future__ import annotations

from typing import Literal

from authlib.common.urls import add_params_to_uri
from flask import Blueprint, redirect, render_template, request
from flask import session as form_session
from werkzeug.wrappers import Response

from idp.domain.stored_text import is_storable
from idp.errors import IdpError
from idp.extensions import csrf
from idp.models import OAuthClient
from idp.services.identity import logout
from idp.services.portals import backchannel, keys
from idp.services.portals.clients import get_client
from idp.web.session_cookie import clear_session_cookie, current_session

bp = Blueprint("oidc_logout", __name__)


def _error(code: str) -> Response:
    return Response(render_template("oidc/error.html", error=code, language_next="/"),
                    status=400, mimetype="text/html")


@bp.route("/session/end", methods=["GET", "POST"])
@csrf.exempt  # RPs may POST here; a state change without a valid hint needs the CSRF form below
def end_session() -> Response:
    params = request.values
    if any(len(params.getlist(name)) > 1 for name in params):
        return _error("invalid_request")
    if not all(is_storable(value) for value in params.values()):
        return _error("invalid_request")  # NUL or a lone surrogate would reach the queries
    hint_claims = None
    if params.get("id_token_hint"):
        try:
            hint_claims = keys.verify_jwt(params["id_token_hint"], allow_expired=True)
        except IdpError:
            return _error("invalid_request")
    client = _client(hint_claims, params.get("client_id"))
    if client is False:
        return _error("invalid_request")
    target = params.get("post_logout_redirect_uri")
    if target and (client is None or target not in client.post_logout_redirect_uris):
        return _error("invalid_request")
    if target and params.get("state"):
        target = add_params_to_uri(target, [("state", params["state"])])

    session = current_session()
    confirmed = request.method == "POST" and params.get("confirm") == "yes" and _csrf_ok()
    hinted_here = hint_claims is not None and session is not None and hint_claims.get("sid") == session.sid
    if session is not None and not (confirmed or hinted_here):
        return Response(render_template("oidc/logout_confirm.html", client=client,
                                        action=request.full_path.rstrip("?")), mimetype="text/html")
    if session is not None:
        queued = logout.end_session(session, reason="rp_logout")
        clear_session_cookie()
        form_session.clear()
        backchannel.deliver_after_commit(queued)
    if target:
        return redirect(target)
    return Response(render_template("oidc/logged_out.html"), mimetype="text/html")


def _client(hint_claims: dict | None, client_id: str | None) -> OAuthClient | None | Literal[False]:
    """The client named by the hint's aud and/or client_id; False if they disagree."""
    from_hint = None
    if hint_claims is not None:
        aud = hint_claims.get("aud")
        aud = aud[0] if isinstance(aud, list) and len(aud) == 1 else aud
        from_hint = get_client(aud) if isinstance(aud, str) else None
        if from_hint is None:
            return False
    if client_id:
        named = get_client(client_id) if len(client_id) <= 64 else None
        if named is None or (from_hint is not None and named.id != from_hint.id):
            return False
        return named
    return from_hint


def _csrf_ok() -> bool:
    from flask_wtf.csrf import CSRFError

    try:
        csrf.protect()
    except CSRFError:
        return False
    return True
