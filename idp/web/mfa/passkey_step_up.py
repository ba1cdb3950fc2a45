"""The passkey step-up of a signed-in session (docs/architecture.md §9): a portal asked for
phishing resistance (claims.PHISHING_RESISTANT) and the session has proven no passkey. The page
offers the account's passkeys, or adding one (which proves it) when it has none, then goes on to
`next`, the portal's authorization request."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from idp.errors import Refusal
from idp.oidc.claims import phishing_resistant
from idp.services.identity import passkey_sign_in, passkeys, second_factors
from idp.web import passkey_json
from idp.web.mfa import bp
from idp.web.oidc.interactions import waiting_portal
from idp.web.redirects import safe_next
from idp.web.session_cookie import current_session, set_session_cookie


def _next() -> str | None:
    return safe_next(request.args.get("next"), "") or None


@bp.get("/account/security/step-up/passkey")
def passkey_step_up() -> Response | tuple[str, int]:
    session = current_session()
    assert session is not None
    target = _next()
    if phishing_resistant(session.amr.split()):
        return redirect(target or url_for("citizen.account"))
    here = url_for("mfa.passkey_step_up", next=target)
    return render_template(
        "mfa/passkey_step_up.html", next=target, here=here, portal=waiting_portal(target),
        has_passkey=second_factors.has_passkey(session.account_id),
        available=passkeys.available(), may_add=passkeys.may_add(session)), 200


@bp.post("/account/security/step-up/passkey/options")
def passkey_step_up_options() -> Response | tuple[Response, int]:
    session = current_session()
    assert session is not None
    try:
        handle, options = passkey_sign_in.begin_step_up(session)
    except Refusal as refusal:
        return passkey_json.refused(refusal)
    return passkey_json.options(handle, options)


@bp.post("/account/security/step-up/passkey")
def passkey_step_up_finish() -> Response | tuple[Response, int]:
    session = current_session()
    assert session is not None
    sent = passkey_json.body()
    target = safe_next(sent.get("next") if isinstance(sent.get("next"), str) else None, "")
    waiting = waiting_portal(target or None)
    try:
        token = passkey_sign_in.finish_step_up(
            session, sent.get("ceremony"), sent.get("credential"),
            client=waiting.client.client_id if waiting else None)
    except Refusal as refusal:
        return passkey_json.refused(refusal)
    set_session_cookie(token)
    return passkey_json.done(target or url_for("citizen.account"))
