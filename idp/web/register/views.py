"""Self-registration: details -> phone code -> account (LoA1), signed in. Thin views over
idp.services.identity.registration; every POST is CSRF-protected and no GET changes anything.

A registration started from a portal's sign-in carries that sign-in's `next` (the
authorization request to resume) in every page's URL, and continues to it once the phone
code has signed the new citizen in."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask import session as form_session
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.phone import mask_phone
from idp.domain.terms import TERMS_VERSION
from idp.errors import Refusal, ResendRefused, Throttled
from idp.extensions import limiter, login_ip_limit
from idp.i18n import current_language
from idp.models import PendingRegistration
from idp.services.identity import registration
from idp.services.identity.accounts import CitizenDetails, citizen_errors, validate_citizen
from idp.settings import current_settings
from idp.web.redirects import next_param
from idp.web.register import bp
from idp.web.register.forms import ConfirmCodeForm, EmailConfirmForm, RegisterForm, ResendForm
from idp.web.session_cookie import current_account, set_session_cookie

REGISTRATION_COOKIE = "postid_registration"
REGISTRATION_COOKIE_SECONDS = 3600
# The domain rules name these fields; anything else is shown above the form.
FORM_FIELDS = ("national_id", "full_name", "birthdate", "gender", "phone", "email", "password")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(login_ip_limit, methods=["POST"])
def start() -> Response | tuple[str, int]:
    form = RegisterForm()
    if request.method == "GET":
        return _register_page(form, 200)
    if current_account() is not None:
        return _already_signed_in()
    form_ok = form.validate_on_submit()
    password = form.password.data or ""
    details = CitizenDetails(
        national_id=form.national_id.data or "", full_name=form.full_name.data or "",
        birthdate=form.birthdate_value,  # type: ignore[arg-type]  # None: checked by the form
        gender=form.gender.data or "", phone=form.phone.data or "",
        email=(form.email.data or "").strip() or None,
    )
    # Domain rules run even when the form already has errors: every problem shows at once.
    domain_errors = citizen_errors(details, password) if form.csrf_token.errors == [] else []
    for error in domain_errors:
        field = getattr(form, error.field, None) if error.field in FORM_FIELDS else None
        if field is None:
            form.form_errors.append(gettext(error.message))
        elif not field.errors:  # the form's own message (e.g. "enter your name") comes first
            field.errors = [*field.errors, gettext(error.message)]
    if not form_ok or domain_errors:
        return _register_page(form, 400)
    clean = validate_citizen(details, password)
    token = registration.start(clean, password, locale=current_language())
    response = redirect(url_for("register.confirm", next=next_param()), code=303)
    _set_registration_cookie(response, token)
    return response


def _already_signed_in() -> Response:
    """A POST from a signed-in browser stores nothing and would replace that session with a new
    account at the code step: back to /register, which says who is signed in."""
    return redirect(url_for("register.start", next=next_param()), code=303)


def _register_page(form: RegisterForm, status: int) -> tuple[str, int]:
    form.password.data = ""
    form.password_confirm.data = ""
    # A signed-in person is told so, with the ways on, instead of an empty form.
    return render_template("register/start.html", form=form, signed_in=current_account(),
                           terms_version=TERMS_VERSION, next=next_param()), status


def _set_registration_cookie(response: Response, token: str) -> None:
    settings = current_settings()
    response.set_cookie(REGISTRATION_COOKIE, token, max_age=REGISTRATION_COOKIE_SECONDS,
                        path="/register", secure=settings.cookie_secure, httponly=True,
                        samesite="Lax")


def _registration_token() -> str | None:
    return request.cookies.get(REGISTRATION_COOKIE)


@bp.route("/register/confirm", methods=["GET", "POST"])
@limiter.limit(login_ip_limit, methods=["POST"])
def confirm() -> Response | tuple[str, int]:
    pending = registration.load(_registration_token())
    if pending is None:
        return redirect(url_for("register.start", expired=1, next=next_param()))
    if request.method == "POST" and current_account() is not None:
        return _already_signed_in()
    form = ConfirmCodeForm()
    if not form.validate_on_submit():
        return _confirm_page(form, pending, 400 if request.method == "POST" else 200)
    try:
        result = registration.confirm(
            _registration_token(), form.code.data or "", user_agent=request.user_agent.string,
            email_link_path=lambda token: url_for("register.email_link", token=token))
    except Throttled as exc:
        form.code.errors.append(gettext(exc.message))
        page, _ = _confirm_page(form, pending, 429)
        response: Response = make_response(page, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Refusal as exc:
        form.code.errors.append(gettext(exc.message))
        return _confirm_page(form, pending, 400)
    set_session_cookie(result.new_session.token)
    form_session.clear()  # a fresh CSRF token after sign-in
    # Signed in now: on to the portal's sign-in it started from, if any.
    response = redirect(next_param() or url_for("citizen.account"), code=303)
    response.delete_cookie(REGISTRATION_COOKIE, path="/register")
    return response


def _confirm_page(form: ConfirmCodeForm, pending: PendingRegistration, status: int, *,
                  resend_message: str | None = None, resent: bool = False) -> tuple[str, int]:
    form.code.data = ""
    return render_template("register/confirm.html", form=form, resend_form=ResendForm(),
                           phone=mask_phone(pending.phone),
                           minutes=current_settings().otp_seconds // 60,
                           resend_message=resend_message,
                           resent=resent, next=next_param(),
                           # POST /register/resend has no page of its own: the switch
                           # goes back to the code step.
                           language_next=url_for("register.confirm", next=next_param())), status


@bp.post("/register/resend")
@limiter.limit(login_ip_limit)
def resend() -> Response | tuple[str, int]:
    pending = registration.load(_registration_token())
    if pending is None:
        return redirect(url_for("register.start", expired=1, next=next_param()))
    form = ResendForm()
    if not form.validate_on_submit():
        return _confirm_page(ConfirmCodeForm(formdata=None), pending, 400)
    try:
        registration.resend(_registration_token())
    except ResendRefused as exc:
        message = gettext(exc.message, seconds=exc.wait) if exc.wait else gettext(exc.message)
        page, _ = _confirm_page(ConfirmCodeForm(formdata=None), pending, 429,
                                resend_message=message)
        response = make_response(page, 429)
        if exc.wait:
            response.headers["Retry-After"] = str(exc.wait)
        return response
    except Refusal:
        return redirect(url_for("register.start", expired=1, next=next_param()))
    return redirect(url_for("register.confirm", resent=1, next=next_param()), code=303)


@bp.route("/register/email/<token>", methods=["GET", "POST"])
@limiter.limit(login_ip_limit, methods=["POST"])
def email_link(token: str) -> tuple[str, int]:
    form = EmailConfirmForm()
    if request.method == "GET":
        valid = registration.email_link_valid(token)
        return render_template("register/email.html", form=form, state="ask" if valid else "invalid",
                               token=token), 200 if valid else 404
    if not form.validate_on_submit():
        return render_template("register/email.html", form=form, state="ask", token=token), 400
    if registration.confirm_email(token):
        return render_template("register/email.html", form=form, state="done", token=token), 200
    return render_template("register/email.html", form=form, state="invalid", token=token), 404

