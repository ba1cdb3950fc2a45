"""Sign-in, sign-out and the language switch: thin views over the authentication service."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask import session as form_session
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp import i18n
from idp.errors import Refusal, Throttled
from idp.extensions import limiter, login_ip_limit
from idp.models import UserSession
from idp.services.identity import accounts, authentication, passkeys
from idp.services.identity.logout import sign_out
from idp.web.auth import bp
from idp.web.auth.forms import LanguageForm, LoginForm, LogoutForm
from idp.web.mfa.views import set_challenge_cookie
from idp.web.oidc.interactions import waiting_portal
from idp.web.redirects import language_return, safe_next
from idp.web.session_cookie import (
    clear_session_cookie,
    current_session,
    device_cookie,
    set_device_cookie,
    set_session_cookie,
)


@bp.record_once
def _install_language_return(state: BlueprintSetupState) -> None:
    # base.html's language switch returns to the page shown (idp.web.redirects).
    state.app.jinja_env.globals["language_return"] = language_return


@bp.get("/")
def index() -> Response:
    return redirect(url_for("citizen.account" if current_session() else "auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_ip_limit, methods=["POST"])
def login() -> Response | str | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
        hint = request.args.get("login_hint", "")
        if hint and len(hint) <= 64 and not form.identifier.data:
            form.identifier.data = hint  # OIDC login_hint: pre-fill, never trust
    if not form.validate_on_submit():
        return _login_page(form, 400 if request.method == "POST" else 200)
    try:
        result = authentication.sign_in(
            form.identifier.data or "",
            form.password.data or "",
            previous_session=current_session(),
            user_agent=request.user_agent.string,
            device_token=device_cookie(),
            next_url=safe_next(form.next.data, "") or None,
        )
    except authentication.SecondFactorRequired as exc:
        response = redirect(url_for("mfa.verify"))
        set_challenge_cookie(response, exc.challenge_token)
        return response
    except Throttled as exc:
        form.form_errors.append(gettext(exc.message))
        page, _ = _login_page(form, 429)
        response = make_response(page, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Refusal as exc:
        form.form_errors.append(gettext(exc.message))
        return _login_page(form, 401)
    set_session_cookie(result.new_session.token)
    set_device_cookie(result.device_token)
    # New form cookie too: the CSRF token of the anonymous page does not outlive sign-in.
    form_session.clear()
    return redirect(safe_next(form.next.data, url_for("citizen.account")))


def _login_page(form: LoginForm, status: int) -> tuple[str, int]:
    form.password.data = ""  # never sent back
    next_url = safe_next(form.next.data, "") or None
    # Inside a portal's sign-in: the way back to it, declining (access_denied through the
    # consent form's "deny", which needs no session).
    portal = waiting_portal(next_url, endpoint="oidc.authorize_consent")
    return render_template("auth/login.html", form=form, next=next_url, portal=portal,
                           signed_in=_already_signed_in(form),
                           passkeys_available=passkeys.available()), status


def _already_signed_in(form: LoginForm) -> UserSession | None:
    """The session of a person who opens /login while signed in, to say who they are and offer
    to continue or sign out, instead of an empty form. Not inside a portal's sign-in
    (`next` resumes /authorize): there /login means a fresh sign-in (prompt=login, max_age),
    and not after a POST, which answers the form that was sent. Nor for a session somebody
    opened for someone else (§14): continuing it leads nowhere but its one portal, so the page
    asks for the person's own sign-in, which replaces it."""
    session = current_session()
    next_url = form.next.data or ""
    if (session is None or session.is_delegated or request.method != "GET"
            or next_url.startswith(url_for("oidc.authorize"))):
        return None
    return session


@bp.post("/logout")
def logout() -> Response:
    form = LogoutForm()
    if form.validate_on_submit():
        session = current_session()
        if session is not None:
            sign_out(session)
        clear_session_cookie()
        form_session.clear()
    return redirect(url_for("auth.login", signed_out=1))


@bp.post("/language")
def language() -> Response:
    form = LanguageForm()
    target = safe_next(form.next.data, url_for("auth.index"))
    response = redirect(target)
    if form.validate_on_submit() and form.lang.data in i18n.LOCALES:
        i18n.remember_switch(response, form.lang.data)  # wins over a portal's ui_locales
        session = current_session()
        # The person's own choice: their SMS and e-mail follow it. Not an agent's or a
        # guardian's (a delegated session changes nothing of the account).
        if session is not None and not session.is_delegated:
            accounts.choose_notice_language(session.account, form.lang.data)
    return response
