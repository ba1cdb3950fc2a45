"""Console sign-in: password, then TOTP (set up at the first sign-in, after the set-up code
the supervisor handed over), then the console.

Thin views over idp/services/signin.py; the guard (guard.py) has already loaded the
browser's session into `g.staff_session` and decided who may reach each step. A console page
opened from outside (the "sign in for a citizen" link of a portal's sign-in page) is carried
through every step as `next` in the URL and opened once signed in; only a console page is
(guard.console_next), anything else leads to the start page.
"""

from __future__ import annotations

from typing import Any

from flask import g, make_response, redirect, render_template, request, url_for
from flask import session as form_session
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.errors import Refusal, Throttled
from idp.extensions import limiter, login_ip_limit
from idp.models import StaffSession
from idp.services.platform.totp import grouped
from idp.services.staff import enrolment, signin
from idp.services.staff import passkeys as staff_passkeys
from idp.services.staff.sessions import NewStaffSession
from idp.web.counter import bp
from idp.web.counter.auth_forms import (
    StaffCodeForm,
    StaffLoginForm,
    StaffLogoutForm,
    StaffSetupCodeForm,
)
from idp.web.counter.guard import (
    after_sign_in_url,
    clear_console_cookie,
    console_next,
    current_staff_session,
    set_console_cookie,
)

Page = Response | tuple[str, int]
# The pending session (its id) that typed the right set-up code in this browser: only it is
# shown the new TOTP key, not another sign-in holding the same password.
SETUP_SESSION_KEY = "counter_setup_session"
CODE_DAYS = enrolment.CODE_VALIDITY.days


def _throttled(template: str, form: StaffLoginForm | StaffCodeForm | StaffSetupCodeForm,
               exc: Throttled,
               **context: object) -> Response:
    form.form_errors.append(gettext(exc.message))
    response = make_response(render_template(template, form=form, **context), 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _signed_in(new: NewStaffSession, target: str) -> Response:
    """A new console token (each sign-in step that raises privilege gets one)."""
    response = redirect(target)
    set_console_cookie(response, new.token)
    form_session.clear()  # a fresh CSRF token: the one from before sign-in does not outlive it
    return response


def _step(endpoint: str, **query: Any) -> str:
    """A sign-in step's URL, carrying the console page to come back to (guard.console_next)."""
    return url_for(endpoint, next=console_next(request.args.get("next")), **query)


def _start_again() -> Response:
    response = redirect(_step("counter.login", expired=1))
    clear_console_cookie(response)
    return response


# --- password ------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_ip_limit, methods=["POST"])
def login() -> Page:
    session = g.get("staff_session")
    if request.method == "GET" and session is not None and session.mfa_verified_at is not None:
        return redirect(after_sign_in_url())
    form = StaffLoginForm()
    if not form.validate_on_submit():
        return _login_page(form, 400 if request.method == "POST" else 200)
    try:
        new = signin.sign_in_password(form.username.data or "", form.password.data or "",
                                         previous=session)
    except Throttled as exc:
        form.password.data = ""
        return _throttled("counter/login.html", form, exc)
    except Refusal as exc:
        form.form_errors.append(gettext(exc.message))
        return _login_page(form, 401)
    enrolled = new.session.staff.totp_confirmed_at is not None
    return _signed_in(new, _step("counter.mfa" if enrolled else "counter.mfa_enrol"))


def _login_page(form: StaffLoginForm, status: int) -> tuple[str, int]:
    form.password.data = ""  # never sent back
    return render_template("counter/login.html", form=form), status


# --- TOTP ----------------------------------------------------------------------------------

@bp.route("/mfa", methods=["GET", "POST"])
def mfa() -> Page:
    pending = current_staff_session()
    if pending.staff.totp_confirmed_at is None:
        return redirect(_step("counter.mfa_enrol"))
    context = _second_step_context(pending)
    form = StaffCodeForm()
    if not form.validate_on_submit():
        form.code.data = ""
        return render_template("counter/mfa_verify.html", form=form, **context), (
            400 if request.method == "POST" else 200)
    try:
        new = signin.verify_code(pending, form.code.data or "")
    except Throttled as exc:
        form.code.data = ""
        return _throttled("counter/mfa_verify.html", form, exc, **context)
    except Refusal as exc:
        if exc.code == "staff.mfa_not_pending":
            return _start_again()
        form.code.errors = [gettext(exc.message)]
        form.code.data = ""
        return render_template("counter/mfa_verify.html", form=form, **context), exc.status
    return _signed_in(new, after_sign_in_url())


def _second_step_context(pending: StaffSession) -> dict[str, object]:
    """What the second step offers: a passkey (if the staff member has one and this address can
    use passkeys), the code unless the office requires a passkey they have."""
    staff = pending.staff
    has_passkey = staff_passkeys.available() and staff_passkeys.has_passkey(staff.id)
    required = staff.office.passkeys_required
    return {"has_passkey": has_passkey, "code_allowed": not (required and has_passkey),
            "must_add_after": required and not has_passkey}


@bp.route("/mfa/enrol", methods=["GET", "POST"])
def mfa_enrol() -> Page:
    pending = current_staff_session()
    staff = pending.staff
    if staff.totp_confirmed_at is not None:
        return redirect(_step("counter.mfa"))
    secret = signin.pending_secret(staff)
    if secret is None or form_session.get(SETUP_SESSION_KEY) != pending.id:
        return _setup_code_step(pending)
    context = {"qr": signin.provisioning_qr(staff, secret), "key": grouped(secret)}
    form = StaffCodeForm()
    if not form.validate_on_submit():
        form.code.data = ""
        return render_template("counter/mfa_enrol.html", form=form, **context), (
            400 if request.method == "POST" else 200)
    try:
        new = signin.confirm_enrolment(pending, form.code.data or "")
    except Throttled as exc:
        form.code.data = ""
        return _throttled("counter/mfa_enrol.html", form, exc, **context)
    except Refusal as exc:
        if exc.code == "staff.mfa_not_pending":
            return _start_again()
        form.code.errors = [gettext(exc.message)]
        form.code.data = ""
        return render_template("counter/mfa_enrol.html", form=form, **context), 401
    return _signed_in(new, after_sign_in_url())


def _setup_code_step(pending: StaffSession) -> Page:
    """Before any key is shown: the set-up code (the initial password alone sets up nothing)."""
    form = StaffSetupCodeForm()
    if not form.validate_on_submit():
        form.code.data = ""
        return _setup_page(form, 400 if request.method == "POST" else 200)
    try:
        signin.redeem_enrolment_code(pending, form.code.data or "")
    except Throttled as exc:
        form.code.data = ""
        return _throttled("counter/mfa_setup_code.html", form, exc, days=CODE_DAYS)
    except Refusal as exc:
        if exc.code == "staff.mfa_not_pending":
            return _start_again()
        form.code.errors = [gettext(exc.message)]
        form.code.data = ""
        return _setup_page(form, 401)
    form_session[SETUP_SESSION_KEY] = pending.id
    return redirect(_step("counter.mfa_enrol"))


def _setup_page(form: StaffSetupCodeForm, status: int) -> tuple[str, int]:
    return render_template("counter/mfa_setup_code.html", form=form, days=CODE_DAYS), status


# --- sign-out ------------------------------------------------------------------------------

@bp.post("/logout")
def logout() -> Response:
    """Ends this console session (CSRF-checked: a POST); works at any step of sign-in."""
    form = StaffLogoutForm()
    session = g.get("staff_session")
    if form.validate_on_submit() and session is not None:
        signin.sign_out(session)
    response = redirect(url_for("counter.login", signed_out=1))
    clear_console_cookie(response)
    form_session.clear()
    return response
