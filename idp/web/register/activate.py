"""Activation of an account a post-office clerk registered (docs/architecture.md §8): on the citizen's own
phone, ID number + SMS code -> their own password -> signed in. Thin views over
idp.services.identity.activation; every POST is CSRF-protected and rate-limited per IP, and no GET
changes anything. The step-1 flow token lives in an HttpOnly cookie scoped to /activate."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask import session as form_session
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.errors import DomainError
from idp.domain.terms import TERMS_VERSION
from idp.errors import Refusal, Throttled
from idp.extensions import limiter, login_ip_limit
from idp.i18n import current_language
from idp.services.identity import activation
from idp.settings import current_settings
from idp.web.register import bp
from idp.web.register.activate_forms import ActivateCodeForm, ChoosePasswordForm, NewCodeForm
from idp.web.session_cookie import current_account, own_session_only, set_session_cookie

ACTIVATION_COOKIE = "postid_activation"
COOKIE_PATH = "/activate"


def _flow() -> str | None:
    return request.cookies.get(ACTIVATION_COOKIE)


def _throttled(page: str, retry_after: int) -> Response:
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/activate", methods=["GET", "POST"])
@limiter.limit(login_ip_limit, methods=["POST"])
def activate() -> Response | tuple[str, int]:
    if request.method == "GET" and activation.load_flow(_flow()) is not None:
        return redirect(url_for("register.activate_password"))  # step 1 done, step 2 left
    form = ActivateCodeForm()
    if not form.validate_on_submit():
        return _code_page(form, 400 if request.method == "POST" else 200)
    try:
        flow = activation.check_code(form.national_id.data or "", form.code.data or "")
    except Throttled as exc:
        form.form_errors.append(gettext(exc.message))
        page, _ = _code_page(form, 429)
        return _throttled(page, exc.retry_after)
    except Refusal as exc:
        # Not tied to a field: the ID number, the code or the account may be what is wrong.
        form.form_errors.append(gettext(exc.message))
        return _code_page(form, 400)
    response = redirect(url_for("register.activate_password"), code=303)
    settings = current_settings()
    response.set_cookie(ACTIVATION_COOKIE, flow, max_age=activation.FLOW_SECONDS, path=COOKIE_PATH,
                        secure=settings.cookie_secure, httponly=True, samesite="Lax")
    return response


def _code_page(form: ActivateCodeForm, status: int) -> tuple[str, int]:
    form.code.data = ""
    return render_template("register/activate.html", form=form), status


@bp.route("/activate/new-code", methods=["GET", "POST"])
@limiter.limit(login_ip_limit, methods=["POST"])
def activate_new_code() -> Response | tuple[str, int]:
    form = NewCodeForm()
    if not form.validate_on_submit():
        return _new_code_page(form, 400 if request.method == "POST" else 200)
    try:
        activation.send_new_code(form.national_id.data or "")
    except Throttled as exc:
        form.form_errors.append(gettext(exc.message))
        page, _ = _new_code_page(form, 429)
        return _throttled(page, exc.retry_after)
    return redirect(url_for("register.activate", sent=1), code=303)


def _new_code_page(form: NewCodeForm, status: int) -> tuple[str, int]:
    return render_template("register/activate.html", form=form, new_code=True), status


@bp.route("/activate/password", methods=["GET", "POST"])
@limiter.limit(login_ip_limit, methods=["POST"])
def activate_password() -> Response | tuple[str, int]:
    loaded = activation.load_flow(_flow())
    if loaded is None:
        return redirect(url_for("register.activate", expired=1))
    account, _challenge = loaded
    form = ChoosePasswordForm(owner=account)
    if not form.validate_on_submit():
        return _password_page(form, account.full_name, 400 if request.method == "POST" else 200)
    try:
        done = activation.activate(
            _flow(), form.password.data or "", user_agent=request.user_agent.string,
            locale=current_language(),
            email_link_path=lambda token: url_for("register.email_link", token=token))
    except DomainError as exc:  # the password policy: nothing changed, the step stays open
        form.password.errors = [gettext(exc.message)]
        return _password_page(form, account.full_name, 400)
    except Refusal:  # activation.expired
        return redirect(url_for("register.activate", expired=1), code=303)
    set_session_cookie(done.new_session.token)
    form_session.clear()  # a fresh CSRF token after sign-in
    response = redirect(url_for("register.activate_done"), code=303)
    response.delete_cookie(ACTIVATION_COOKIE, path=COOKIE_PATH)
    return response


def _password_page(form: ChoosePasswordForm, name: str, status: int) -> tuple[str, int]:
    form.password.data = ""
    form.password_confirm.data = ""
    return render_template("register/activate_password.html", form=form, name=name,
                           terms_version=TERMS_VERSION), status


@bp.get("/activate/done")
@own_session_only
def activate_done() -> Response | str:
    account = current_account()
    if account is None:
        return redirect(url_for("auth.login"))
    return render_template("register/activate_done.html", account=account)
