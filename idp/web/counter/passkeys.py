"""Staff passkeys in the console (docs/architecture.md §8): the security page (list, add,
remove) and the passkey on the sign-in's second step. The ceremonies answer JSON to
idp/static/js/passkeys.js (the CSRF token in X-CSRFToken); removing is a plain form. Thin views
over staff.passkeys and staff.passkey_sign_in."""

from __future__ import annotations

from flask import jsonify, redirect, render_template, request, url_for
from flask import session as form_session
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.errors import Refusal, Throttled
from idp.services.staff import passkey_sign_in, passkeys
from idp.web import passkey_json
from idp.web.counter import bp
from idp.web.counter.auth_forms import StaffLogoutForm
from idp.web.counter.guard import (
    after_sign_in_url,
    clear_console_cookie,
    console_next,
    current_staff_session,
    set_console_cookie,
)

JsonAnswer = Response | tuple[Response, int]
DONE = ("added", "removed")


def security_page(status: int = 200, error: str | None = None) -> tuple[str, int]:
    session = current_staff_session()
    staff = session.staff
    done = request.args.get("passkey")
    return render_template(
        "counter/security.html", nav="security", passkeys=passkeys.of_staff(staff.id),
        passkeys_available=passkeys.available(), may_change=passkeys.recently_proven(session),
        must_add=passkeys.must_add(staff), required=staff.office.passkeys_required,
        done=done if done in DONE else None, error=error, form=StaffLogoutForm()), status


@bp.get("/security")
def security() -> tuple[str, int]:
    return security_page()


@bp.post("/security/passkeys/options")
def passkey_options() -> JsonAnswer:
    try:
        handle, options = passkeys.begin_registration(current_staff_session())
    except Refusal as refusal:
        return passkey_json.refused(refusal)
    return passkey_json.options(handle, options)


@bp.post("/security/passkeys")
def passkey_add() -> JsonAnswer:
    sent = passkey_json.body()
    try:
        passkeys.finish_registration(current_staff_session(), sent.get("ceremony"),
                                     sent.get("credential"), sent.get("name"))
    except Refusal as refusal:
        return passkey_json.refused(refusal)
    return passkey_json.done(url_for("counter.security", passkey="added"))


@bp.post("/security/passkeys/<int:passkey_id>/remove")
def passkey_remove(passkey_id: int) -> Response | tuple[str, int]:
    form = StaffLogoutForm()  # a CSRF token only
    if not form.validate_on_submit():
        return security_page(400)
    try:
        passkeys.remove(current_staff_session(), passkey_id)
    except Refusal as refusal:
        return security_page(refusal.status, gettext(refusal.message))
    return redirect(url_for("counter.security", passkey="removed"))


# --- the second step of the console sign-in ----------------------------------------------------

@bp.post("/mfa/passkey/options")
def mfa_passkey_options() -> JsonAnswer:
    try:
        handle, options = passkey_sign_in.begin_second_factor(current_staff_session())
    except Refusal as refusal:
        return passkey_json.refused(refusal)
    return passkey_json.options(handle, options)


@bp.post("/mfa/passkey")
def mfa_passkey() -> JsonAnswer:
    sent = passkey_json.body()
    try:
        new = passkey_sign_in.finish_second_factor(current_staff_session(), sent.get("ceremony"),
                                                   sent.get("credential"))
    except Throttled as exc:
        throttled = jsonify(error=exc.code, message=gettext(exc.message))
        throttled.headers["Retry-After"] = str(exc.retry_after)
        return throttled, exc.status
    except Refusal as refusal:
        refused, status = passkey_json.refused(refusal)
        if refusal.code == "staff.mfa_not_pending":
            clear_console_cookie(refused)  # the sign-in ended: start again
        return refused, status
    next_url = sent.get("next") if isinstance(sent.get("next"), str) else None
    answer = passkey_json.done(console_next(next_url) or after_sign_in_url())
    set_console_cookie(answer, new.token)
    form_session.clear()  # a fresh CSRF token: the one from before sign-in does not outlive it
    return answer

