"""TOTP enrolment (under /account/security), the second-factor step of sign-in, and the
step-up of a signed-in session that a portal's level of assurance asks for (docs/architecture.md §9).

The enrolment pages carry an optional local `next` (a step-up waiting for TOTP to exist).
The code that confirms the set-up counts as the session's second factor (step_up.
enrol_and_step_up), so after the recovery codes the person continues straight to `next`.
When `next` resumes a portal's authorization request, the set-up and step-up pages also offer
the way back to that portal (interactions.waiting_portal).
"""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from flask import make_response, redirect, render_template, request, url_for
from flask import session as form_session
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.errors import Refusal, Throttled
from idp.oidc.checks import MFA_SKIP_MARKER
from idp.services.identity import mfa, mfa_challenge, passkeys, second_factors, step_up
from idp.services.platform import qr, totp
from idp.settings import current_settings
from idp.web.mfa import bp
from idp.web.mfa.forms import (
    ConfirmForm,
    PasskeyNameForm,
    PasskeyRemoveForm,
    RemoveForm,
    SetupForm,
    VerifyForm,
)
from idp.web.oidc.interactions import waiting_portal
from idp.web.redirects import safe_next
from idp.web.session_cookie import (
    current_account,
    current_session,
    device_cookie,
    set_device_cookie,
    set_session_cookie,
    signed_out_allowed,
)

CHALLENGE_COOKIE = "postid_mfa"
CHALLENGE_COOKIE_PATH = "/login/verify"


def set_challenge_cookie(response: Response, token: str) -> None:
    response.set_cookie(CHALLENGE_COOKIE, token,
                        max_age=int(mfa.CHALLENGE_LIFETIME.total_seconds()),
                        path=CHALLENGE_COOKIE_PATH,
                        secure=current_settings().cookie_secure,
                        httponly=True, samesite="Lax")


def clear_challenge_cookie(response: Response) -> None:
    response.delete_cookie(CHALLENGE_COOKIE, path=CHALLENGE_COOKIE_PATH,
                           secure=current_settings().cookie_secure,
                           httponly=True, samesite="Lax")


def _next() -> str | None:
    """The local path to continue to after enrolment or step-up, if a valid one was given."""
    return safe_next(request.args.get("next"), "") or None


def _throttled(page: Response | tuple[str, int], retry_after: int) -> Response:
    response = make_response(page)
    response.headers["Retry-After"] = str(retry_after)
    return response


# --- account security page ----------------------------------------------------------------

def security_page(remove_form: RemoveForm | None = None, status: int = 200, *,
                  passkey_remove_form: PasskeyRemoveForm | None = None,
                  rename_form: PasskeyNameForm | None = None,
                  form_for: int | None = None) -> tuple[str, int]:
    """The security page; a passkey form sent with errors is shown again for `form_for`."""
    account = current_account()
    session = current_session()
    assert account is not None and session is not None
    credential = mfa.credential(account.id)
    enrolled = credential is not None and credential.confirmed_at is not None
    return render_template(
        "mfa/security.html",
        enrolled=enrolled,
        confirmed_at=credential.confirmed_at if enrolled and credential else None,
        pending=credential is not None and not enrolled,
        setup_form=SetupForm(),
        remove_form=remove_form or RemoveForm(formdata=None),
        removed=request.args.get("removed") == "1",
        passkeys=passkeys.of_account(account.id),
        passkeys_available=passkeys.available(),
        may_add_passkey=passkeys.may_add(session),
        passkey_done=request.args.get("passkey"),
        passkey_remove_form=passkey_remove_form or PasskeyRemoveForm(formdata=None),
        rename_form=rename_form or PasskeyNameForm(formdata=None),
        form_for=form_for,
        next=_next(),
        portal=waiting_portal(_next()),
        # Also the page of POST .../totp/remove's answer: the switch comes back here.
        language_next=url_for("mfa.security", next=_next()),
    ), status


@bp.get("/account/security")
def security() -> tuple[str, int]:
    return security_page()


@bp.post("/account/security/totp/setup")
def setup() -> Response | tuple[str, int]:
    form = SetupForm()
    account = current_account()
    assert account is not None
    if not form.validate_on_submit() or mfa.is_enrolled(account.id):
        return redirect(url_for("mfa.security", next=_next()))
    session = current_session()
    assert session is not None
    if step_up.must_prove_a_factor_first(session):  # a passkey the session has not proven
        return redirect(url_for("mfa.passkey_step_up",
                                next=url_for("mfa.security", next=_next())))
    mfa.begin_enrolment(account)
    return redirect(url_for("mfa.enrol", next=_next()))


def _enrol_page(form: ConfirmForm, status: int = 200) -> Response | tuple[str, int]:
    account = current_account()
    assert account is not None
    credential = mfa.pending(account.id)
    if credential is None:
        return redirect(url_for("mfa.security", next=_next()))
    secret = mfa.secret_of(credential)
    uri = mfa.provisioning_uri(account, secret)
    form.code.data = ""
    return render_template("mfa/enrol.html", form=form, qr=qr.svg_data_uri(uri), uri=uri,
                           key=totp.grouped(secret), next=_next(),
                           portal=waiting_portal(_next())), status


@bp.get("/account/security/totp/enrol")
def enrol() -> Response | tuple[str, int]:
    return _enrol_page(ConfirmForm(formdata=None))


@bp.post("/account/security/totp/enrol")
def confirm() -> Response | tuple[str, int]:
    form = ConfirmForm()
    session = current_session()
    assert session is not None
    if not form.validate_on_submit():
        return _enrol_page(form, 400)
    try:
        codes, token = step_up.enrol_and_step_up(session, form.code.data or "")
    except Throttled as exc:
        form.form_errors.append(gettext(exc.message))
        return _throttled(_enrol_page(form, 429), exc.retry_after)
    except Refusal as exc:
        if exc.code == "mfa.not_pending":
            return redirect(url_for("mfa.security", next=_next()))
        if exc.code == "mfa.prove_first":
            return redirect(url_for("mfa.passkey_step_up",
                                    next=url_for("mfa.security", next=_next())))
        form.code.errors = [gettext(exc.message)]
        return _enrol_page(form, 400)
    set_session_cookie(token)
    # Shown once: the codes exist in this response and, hashed, in the database; nowhere else.
    return render_template("mfa/recovery_codes.html", codes=codes, next=_next()), 200


@bp.post("/account/security/totp/remove")
def remove() -> Response | tuple[str, int]:
    form = RemoveForm()
    account = current_account()
    assert account is not None
    if not mfa.is_enrolled(account.id):
        return redirect(url_for("mfa.security"))
    if not form.validate_on_submit():
        form.password.data = ""
        return security_page(form, 400)
    try:
        mfa.remove(account, form.password.data or "", form.code.data or "")
    except Throttled as exc:
        form.form_errors.append(gettext(exc.message))
        form.password.data = ""
        return _throttled(security_page(form, 429), exc.retry_after)
    except Refusal as exc:
        form.form_errors.append(gettext(exc.message))
        form.password.data = ""
        form.code.data = ""
        return security_page(form, 401)
    return redirect(url_for("mfa.security", removed=1))


# --- step-up of the current session ---------------------------------------------------------

def _step_up_page(form: VerifyForm, target: str | None, status: int) -> tuple[str, int]:
    form.code.data = ""
    # An optional step-up (a portal's voluntary level) may be skipped: back to the request,
    # marked so that it is not asked again.
    optional = request.args.get("optional") == "1"
    skip = add_params_to_uri(target, [(MFA_SKIP_MARKER, "1")]) if target and optional else None
    action = url_for("mfa.step_up", next=target, optional="1" if optional else None)
    portal = None if optional else waiting_portal(target)
    return render_template("mfa/step_up.html", form=form, action=action, skip=skip,
                           portal=portal), status


@bp.route("/account/security/step-up", methods=["GET", "POST"], endpoint="step_up")
def step_up_view() -> Response | tuple[str, int]:
    """A code from the app for the CURRENT session (a portal needs LoA3), then on to `next`.
    Without TOTP yet: the enrolment pages first, which lead back here."""
    session = current_session()
    assert session is not None
    target = _next()
    if step_up.has_second_factor(session):
        return redirect(target or url_for("citizen.account"))
    if not mfa.is_enrolled(session.account_id):
        if second_factors.has_passkey(session.account_id):  # steps up with it, not a code
            return redirect(url_for("mfa.passkey_step_up", next=target))
        return redirect(url_for("mfa.security", next=target))
    form = VerifyForm()
    if not form.validate_on_submit():
        return _step_up_page(form, target, 400 if request.method == "POST" else 200)
    try:
        waiting = waiting_portal(target)
        token = step_up.step_up(session, form.code.data or "",
                                client=waiting.client.client_id if waiting else None)
    except Throttled as exc:
        form.form_errors.append(gettext(exc.message))
        return _throttled(_step_up_page(form, target, 429), exc.retry_after)
    except Refusal as exc:
        if exc.code == "mfa.not_enrolled":
            return redirect(url_for("mfa.security", next=target))
        form.code.errors = [gettext(exc.message)]
        return _step_up_page(form, target, 401)
    set_session_cookie(token)
    return redirect(target or url_for("citizen.account"))


# --- second step of sign-in ---------------------------------------------------------------

def _dead(status: int = 400) -> Response:
    response = make_response(render_template("mfa/expired.html"), status)
    clear_challenge_cookie(response)
    return response


@bp.route("/login/verify", methods=["GET", "POST"])
@signed_out_allowed
def verify() -> Response | tuple[str, int]:
    token = request.cookies.get(CHALLENGE_COOKIE)
    pending = mfa_challenge.load_challenge(token)
    if pending is None:
        return _dead(400 if request.method == "POST" else 200) if token else redirect(
            url_for("auth.login"))
    # The ways this account can finish: a code (TOTP) and/or a passkey, offered side by side.
    ways = {"has_totp": mfa.is_enrolled(pending.account_id),
            "has_passkey": second_factors.has_passkey(pending.account_id)
            and passkeys.available()}
    form = VerifyForm()
    if not form.validate_on_submit():
        form.code.data = ""
        return render_template("mfa/verify.html", form=form, **ways), (
            400 if request.method == "POST" else 200)
    try:
        result = mfa_challenge.complete_challenge(token, form.code.data or "",
                                        previous_session=current_session(),
                                        user_agent=request.user_agent.string,
                                        device_token=device_cookie())
    except Throttled as exc:
        form.form_errors.append(gettext(exc.message))
        form.code.data = ""
        response: Response = make_response(
            render_template("mfa/verify.html", form=form, **ways), 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except Refusal as exc:
        if exc.code == "mfa.challenge_dead":
            return _dead()
        form.code.errors = [gettext(exc.message)]
        form.code.data = ""
        return render_template("mfa/verify.html", form=form, **ways), 401
    set_session_cookie(result.new_session.token)
    set_device_cookie(result.device_token)
    form_session.clear()  # a fresh CSRF token after sign-in
    response = redirect(safe_next(result.next_url, url_for("citizen.account")))
    clear_challenge_cookie(response)
    return response
