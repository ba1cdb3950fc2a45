"""Forgotten password: identifier -> SMS code (or e-mail link) + new password -> sign in
normally (TOTP still asked). Thin views over idp.services.identity.recovery; every POST is
CSRF-protected and rate-limited per IP, and no GET changes anything.

A recovery started from a portal's sign-in carries that sign-in's `next` (the authorization
request to resume) in every page's URL, down to the "Sign in" link at the end."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.errors import DomainError
from idp.errors import Refusal, Throttled
from idp.extensions import limiter, login_ip_limit
from idp.services.identity import mfa, recovery
from idp.services.platform import otp
from idp.services.portals import backchannel
from idp.settings import current_settings
from idp.web.recovery import bp
from idp.web.recovery.forms import CodeForm, NewPasswordForm, StartForm
from idp.web.redirects import next_param
from idp.web.session_cookie import device_cookie

RECOVERY_COOKIE = "postid_recovery"


def _deliver(queued: list[int]) -> None:
    if queued:
        backchannel.deliver(queued)


def _throttled(page: str, retry_after: int) -> Response:
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/recover", methods=["GET", "POST"])
@limiter.limit(login_ip_limit, methods=["POST"])
def start() -> Response | tuple[str, int]:
    form = StartForm()
    if not form.validate_on_submit():
        return _start_page(form, 400 if request.method == "POST" else 200)
    try:
        flow = recovery.start(form.identifier.data or "", device_token=device_cookie(),
                              link_path=lambda token: url_for("recovery.link", token=token))
    except Throttled as exc:
        form.identifier.errors.append(gettext(exc.message))
        page, _ = _start_page(form, 429)
        return _throttled(page, exc.retry_after)
    response = redirect(url_for("recovery.code", next=next_param()), code=303)
    settings = current_settings()
    response.set_cookie(RECOVERY_COOKIE, flow, max_age=recovery.flow_seconds(), path="/recover",
                        secure=settings.cookie_secure, httponly=True, samesite="Lax")
    return response


def _start_page(form: StartForm, status: int) -> tuple[str, int]:
    return render_template("recovery/start.html", form=form, next=next_param()), status


def _flow() -> str | None:
    return request.cookies.get(RECOVERY_COOKIE)


@bp.route("/recover/code", methods=["GET", "POST"])
@limiter.limit(login_ip_limit, methods=["POST"])
def code() -> Response | tuple[str, int]:
    if recovery.load_flow(_flow()) is None:
        return redirect(url_for("recovery.start", expired=1, next=next_param()))
    form = CodeForm()
    if not form.validate_on_submit():
        return _code_page(form, 400 if request.method == "POST" else 200)
    loaded = recovery.load_flow(_flow())
    account_id = loaded[0].account_id if loaded else None
    try:
        queued = recovery.reset_with_code(_flow(), form.code.data or "", form.password.data or "")
    except Throttled as exc:
        form.code.errors.append(gettext(exc.message))
        page, _ = _code_page(form, 429)
        return _throttled(page, exc.retry_after)
    except Refusal as exc:
        form.code.errors.append(gettext(exc.message))
        form.code.data = ""
        return _code_page(form, 400)
    except DomainError as exc:
        form.password.errors = [gettext(exc.message)]
        return _code_page(form, 400)  # the code is kept: it is still valid
    _deliver(queued)
    response = make_response(_done_page(account_id, next_param()), 200)
    response.delete_cookie(RECOVERY_COOKIE, path="/recover")
    return response


def _done_page(account_id: int | None, next_url: str | None) -> str:
    """After the reset (the code or link was verified, so the account is known): only an
    account with an authenticator app is told that the app is still asked at sign-in."""
    app_asked = account_id is not None and mfa.is_enrolled(account_id)
    return render_template("recovery/done.html", app_asked=app_asked, next=next_url)


def _code_page(form: CodeForm, status: int) -> tuple[str, int]:
    form.password.data = ""
    form.password_confirm.data = ""
    return render_template("recovery/code.html", form=form, next=next_param(),
                           minutes=recovery.flow_seconds() // 60,
                           hours=current_settings().email_link_hours), status


@bp.route("/recover/link/<token>", methods=["GET", "POST"])
@limiter.limit(login_ip_limit, methods=["POST"])
def link(token: str) -> tuple[str, int] | Response:
    form = NewPasswordForm()
    if request.method == "GET":
        if not recovery.link_valid(token):
            return _link_page(form, token, "invalid", 404)
        return _link_page(form, token, "ask", 200)
    if not form.validate_on_submit():
        return _link_page(form, token, "ask", 400)
    found = otp.find_link(recovery.PURPOSE, token)
    account_id = found.account_id if found else None
    try:
        queued = recovery.reset_with_link(token, form.password.data or "")
    except Refusal:
        return _link_page(form, token, "invalid", 404)
    except DomainError as exc:
        form.password.errors = [gettext(exc.message)]
        return _link_page(form, token, "ask", 400)
    _deliver(queued)
    return _done_page(account_id, None), 200  # from an e-mail: no flow


def _link_page(form: NewPasswordForm, token: str, state: str, status: int) -> tuple[str, int]:
    form.password.data = ""
    form.password_confirm.data = ""
    return render_template("recovery/link.html", form=form, token=token, state=state), status


@bp.get("/recover/lost-device")
def lost_device() -> str:
    return render_template("recovery/lost_device.html", next=next_param())
