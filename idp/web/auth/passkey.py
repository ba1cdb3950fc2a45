"""Signing in with a passkey alone (docs/architecture.md §7): the options for a discoverable
credential, then the authenticator's answer, which opens the session like the password does."""

from __future__ import annotations

from flask import request, url_for
from flask import session as form_session
from werkzeug.wrappers import Response

from idp.errors import Refusal
from idp.extensions import limiter, login_ip_limit
from idp.services.identity import passkey_sign_in
from idp.web import passkey_json
from idp.web.auth import bp
from idp.web.redirects import safe_next
from idp.web.session_cookie import (
    current_session,
    device_cookie,
    set_device_cookie,
    set_session_cookie,
)


@bp.post("/login/passkey/options")
@limiter.limit(login_ip_limit)
def passkey_options() -> Response | tuple[Response, int]:
    try:
        handle, options = passkey_sign_in.begin_sign_in()
    except Refusal as refusal:
        return passkey_json.refused(refusal)
    return passkey_json.options(handle, options)


@bp.post("/login/passkey")
@limiter.limit(login_ip_limit)
def passkey_finish() -> Response | tuple[Response, int]:
    sent = passkey_json.body()
    try:
        result = passkey_sign_in.finish_sign_in(
            sent.get("ceremony"), sent.get("credential"), previous_session=current_session(),
            user_agent=request.user_agent.string, device_token=device_cookie())
    except Refusal as refusal:
        return passkey_json.refused(refusal)
    set_session_cookie(result.new_session.token)
    set_device_cookie(result.device_token)
    form_session.clear()  # a fresh CSRF token after sign-in
    next_url = sent.get("next") if isinstance(sent.get("next"), str) else None
    return passkey_json.done(safe_next(next_url, url_for("citizen.account")))
