"""Passkeys on the security page (add, rename, remove) and as the second step of sign-in
(docs/architecture.md §7). The ceremonies answer JSON to idp/static/js/passkeys.js; renaming and
removing are plain forms."""

from __future__ import annotations

from flask import make_response, redirect, request, url_for
from flask import session as form_session
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.errors import Refusal, Throttled, WrongPassword
from idp.services.identity import passkey_sign_in, passkeys
from idp.web import passkey_json
from idp.web.mfa import bp
from idp.web.mfa.forms import PasskeyNameForm, PasskeyRemoveForm
from idp.web.mfa.views import CHALLENGE_COOKIE, clear_challenge_cookie, security_page
from idp.web.redirects import safe_next
from idp.web.session_cookie import (
    current_session,
    device_cookie,
    set_device_cookie,
    set_session_cookie,
    signed_out_allowed,
)


@bp.post("/account/security/passkeys/options")
def passkey_options() -> Response | tuple[Response, int]:
    session = current_session()
    assert session is not None
    try:
        handle, options = passkeys.begin_registration(session)
    except Refusal as refusal:
        return passkey_json.refused(refusal)
    return passkey_json.options(handle, options)


@bp.post("/account/security/passkeys")
def passkey_add() -> Response | tuple[Response, int]:
    session = current_session()
    assert session is not None
    sent = passkey_json.body()
    try:
        token = passkeys.finish_registration(session, sent.get("ceremony"),
                                             sent.get("credential"), sent.get("name"))
    except Refusal as refusal:
        return passkey_json.refused(refusal)
    set_session_cookie(token)
    # Added during a portal's sign-in (a passkey step-up): on to the portal.
    return passkey_json.done(safe_next(_sent_next(sent), url_for("mfa.security", passkey="added")))


def _sent_next(sent: dict[str, object]) -> str | None:
    value = sent.get("next")
    return value if isinstance(value, str) else None


@bp.post("/account/security/passkeys/<int:passkey_id>/name")
def passkey_rename(passkey_id: int) -> Response | tuple[str, int]:
    session = current_session()
    assert session is not None
    form = PasskeyNameForm()
    if not form.validate_on_submit():
        return security_page(rename_form=form, form_for=passkey_id, status=400)
    try:
        passkeys.rename(session.account, passkey_id, form.name.data)
    except Refusal as refusal:
        return security_page(status=refusal.status)
    return redirect(url_for("mfa.security", passkey="renamed"))


@bp.post("/account/security/passkeys/<int:passkey_id>/remove")
def passkey_remove(passkey_id: int) -> Response | tuple[str, int]:
    session = current_session()
    assert session is not None
    form = PasskeyRemoveForm()
    if not form.validate_on_submit():
        return security_page(passkey_remove_form=form, form_for=passkey_id, status=400)
    try:
        passkeys.remove(session, passkey_id, form.password.data or "")
    except Throttled as exc:
        form.form_errors.append(gettext(exc.message))
        response = make_response(security_page(passkey_remove_form=form, form_for=passkey_id,
                                               status=429))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except (WrongPassword, Refusal) as exc:
        form.form_errors.append(gettext(exc.message))
        status = exc.status if isinstance(exc, Refusal) else 401
        return security_page(passkey_remove_form=form, form_for=passkey_id, status=status)
    return redirect(url_for("mfa.security", passkey="removed"))


# --- the second step of sign-in ---------------------------------------------------------------

@bp.post("/login/verify/passkey/options")
@signed_out_allowed
def verify_passkey_options() -> Response | tuple[Response, int]:
    try:
        handle, options = passkey_sign_in.begin_second_factor(request.cookies.get(CHALLENGE_COOKIE))
    except Refusal as refusal:
        return passkey_json.refused(refusal)
    return passkey_json.options(handle, options)


@bp.post("/login/verify/passkey")
@signed_out_allowed
def verify_passkey() -> Response | tuple[Response, int]:
    sent = passkey_json.body()
    try:
        result = passkey_sign_in.finish_second_factor(
            request.cookies.get(CHALLENGE_COOKIE), sent.get("ceremony"), sent.get("credential"),
            previous_session=current_session(), user_agent=request.user_agent.string,
            device_token=device_cookie())
    except Refusal as refusal:
        return passkey_json.refused(refusal)
    set_session_cookie(result.new_session.token)
    set_device_cookie(result.device_token)
    form_session.clear()  # a fresh CSRF token after sign-in
    response = passkey_json.done(safe_next(result.next_url, url_for("citizen.account")))
    clear_challenge_cookie(response)
    return response
