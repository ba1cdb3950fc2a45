"""Account page: change the phone or the e-mail address, re-confirmed (idp.services.identity.contact_change).

Routes on the `citizen` blueprint, so every page needs a live sign-in. The e-mail link is
therefore opened signed in as the owner (after a sign-in redirect back to the link): the token
proves the mailbox, the session proves the account; another account's session sees "invalid"
and the link stays usable. No GET changes anything; every POST carries a CSRF token.
"""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.errors import DomainError
from idp.domain.phone import display_phone, mask_phone
from idp.errors import Refusal, ResendRefused, Throttled, WrongPassword
from idp.models import OtpChallenge
from idp.services.identity import contact_change
from idp.services.identity import contact_email as contact_email_service
from idp.settings import current_settings
from idp.web.citizen import bp
from idp.web.citizen.forms import ActionForm, EmailChangeForm, PhoneChangeForm, PhoneCodeForm
from idp.web.session_cookie import current_account, signed_in_session

Page = tuple[str, int]


def _throttled_message(exc: Throttled) -> str:
    return gettext("Too many wrong passwords. Try again in %(minutes)s minutes.",
                   minutes=max(1, (exc.retry_after + 59) // 60))


# --- phone ---------------------------------------------------------------------------------

@bp.route("/contact/phone", methods=["GET", "POST"])
def contact_phone() -> Response | Page:
    form = PhoneChangeForm()
    if request.method == "GET":
        return _phone_page(form, 200, changed=request.args.get("changed") == "1")
    if not form.validate_on_submit():
        return _phone_page(form, 400)
    session = signed_in_session()
    try:
        contact_change.request_phone_change(
            session.account, raw_phone=form.phone.data or "",
            password=form.current_password.data or "", session_id=session.id)
    except Throttled as exc:
        form.current_password.errors = [_throttled_message(exc)]
        return _phone_page(form, 429)
    except WrongPassword:
        form.current_password.errors = [gettext("This is not your current password.")]
        return _phone_page(form, 400)
    except DomainError as exc:
        form.phone.errors = [gettext(exc.message)]
        return _phone_page(form, 400)
    except Refusal as exc:  # contact.too_many
        form.form_errors.append(gettext(exc.message))
        return _phone_page(form, 429)
    return redirect(url_for("citizen.contact_phone_confirm"), code=303)


def _phone_page(form: PhoneChangeForm, status: int, *, changed: bool = False) -> Page:
    form.current_password.data = ""
    return render_template("citizen/contact_phone.html", nav="profile", form=form, changed=changed,
                           current=display_phone(signed_in_session().account.own_phone)), status


@bp.route("/contact/phone/confirm", methods=["GET", "POST"])
def contact_phone_confirm() -> Response | Page:
    account = signed_in_session().account
    pending = contact_change.pending_phone(account)
    if request.method == "GET":
        if pending is None:
            return redirect(url_for("citizen.contact_phone"))
        return _confirm_page(PhoneCodeForm(), pending, 200)
    if request.form.get("action") == "resend":
        return _resend(pending)
    form = PhoneCodeForm()
    if not form.validate_on_submit():
        return _confirm_page(form, pending, 400)
    try:
        contact_change.confirm_phone(account, form.code.data or "", session_id=signed_in_session().id)
    except Refusal as exc:
        form.code.errors = [gettext(exc.message)]
        return _confirm_page(form, contact_change.pending_phone(account), 400)
    return redirect(url_for("citizen.contact_phone", changed=1), code=303)


def _resend(pending: OtpChallenge | None) -> Response | Page:
    form = ActionForm()
    if not form.validate_on_submit():
        return _confirm_page(PhoneCodeForm(formdata=None), pending, 400)
    try:
        contact_change.resend_phone_code(signed_in_session().account)
    except ResendRefused as exc:
        message = gettext(exc.message, seconds=exc.wait) if exc.wait else gettext(exc.message)
        page, _ = _confirm_page(PhoneCodeForm(formdata=None), pending, 429, resend_message=message)
        response = make_response(page, 429)
        if exc.wait:
            response.headers["Retry-After"] = str(exc.wait)
        return response
    except Refusal:
        return redirect(url_for("citizen.contact_phone"), code=303)
    return redirect(url_for("citizen.contact_phone_confirm", resent=1), code=303)


def _confirm_page(form: PhoneCodeForm, pending: OtpChallenge | None, status: int, *,
                  resend_message: str | None = None) -> Page:
    form.code.data = ""
    return render_template(
        "citizen/contact_phone_confirm.html", nav="profile", form=form, resend_form=ActionForm(),
        phone=mask_phone(pending.destination) if pending else None,
        minutes=current_settings().otp_seconds // 60,
        resend_message=resend_message), status


# --- e-mail --------------------------------------------------------------------------------

@bp.route("/contact/email", methods=["GET", "POST"])
def contact_email() -> Response | Page:
    form = EmailChangeForm()
    if request.method == "GET":
        return _email_page(form, 200, sent=request.args.get("sent") == "1",
                           removed=request.args.get("removed") == "1",
                           cancelled=request.args.get("cancelled") == "1")
    if not form.validate_on_submit():
        return _email_page(form, 400)
    session = signed_in_session()
    try:
        if form.remove.data:
            contact_email_service.remove_email(
                session.account, password=form.current_password.data or "", session_id=session.id)
        else:
            contact_email_service.request_email_change(
                session.account, raw_email=form.email.data or "",
                password=form.current_password.data or "", session_id=session.id,
                link_path=_email_link_path)
    except Throttled as exc:
        form.current_password.errors = [_throttled_message(exc)]
        return _email_page(form, 429)
    except WrongPassword:
        form.current_password.errors = [gettext("This is not your current password.")]
        return _email_page(form, 400)
    except DomainError as exc:
        form.email.errors = [gettext(exc.message)]
        return _email_page(form, 400)
    except ResendRefused as exc:  # the current address typed again, too early
        form.form_errors.append(_refusal_message(exc))
        return _retry_after(_email_page(form, 429), exc)
    if form.remove.data:
        return redirect(url_for("citizen.contact_email", removed=1), code=303)
    if contact_email_service.pending_email(session.account) is None:  # the current address
        return redirect(url_for("citizen.contact_email_verify", sent=1), code=303)
    return redirect(url_for("citizen.contact_email", sent=1), code=303)


def _email_page(form: EmailChangeForm, status: int, *, sent: bool = False,
                removed: bool = False, cancelled: bool = False) -> Page:
    form.current_password.data = ""
    account = signed_in_session().account
    return render_template("citizen/contact_email.html", nav="profile", form=form, sent=sent,
                           removed=removed, cancelled=cancelled, account=account, pending_form=ActionForm(),
                           pending=contact_email_service.pending_email(account),
                           hours=current_settings().email_link_hours), status


def _refusal_message(exc: ResendRefused) -> str:
    return gettext(exc.message, seconds=exc.wait) if exc.wait else gettext(exc.message)


def _email_link_path(token: str) -> str:
    """Where a confirmation link opens: the service sends it on the issuer's address."""
    return url_for("citizen.contact_email_confirm", token=token)


def _retry_after(page: Page, exc: ResendRefused) -> Response:
    response = make_response(*page)
    if exc.wait:
        response.headers["Retry-After"] = str(exc.wait)
    return response


@bp.route("/contact/email/confirm-address", methods=["GET", "POST"])
def contact_email_verify() -> Response | Page:
    """Confirming the address the account already has: a link to it, nothing changes."""
    account = signed_in_session().account
    if not account.email or account.email_verified_at is not None:
        return redirect(url_for("citizen.contact_email"))
    form = ActionForm()
    if request.method == "GET":
        return _verify_page(form, 200, sent=request.args.get("sent") == "1")
    if not form.validate_on_submit():
        return _verify_page(form, 400)
    try:
        contact_email_service.send_confirmation_link(account, session_id=signed_in_session().id,
                                                     link_path=_email_link_path)
    except ResendRefused as exc:
        return _retry_after(_verify_page(form, 429, error=_refusal_message(exc)), exc)
    return redirect(url_for("citizen.contact_email_verify", sent=1), code=303)


def _verify_page(form: ActionForm, status: int, *, sent: bool = False,
                 error: str | None = None) -> Page:
    return render_template("citizen/contact_email_verify.html", nav="profile", form=form,
                           account=current_account(), sent=sent, error=error,
                           hours=current_settings().email_link_hours), status


@bp.post("/contact/email/pending")
def contact_email_pending() -> Response | Page:
    """The NEW address waiting for confirmation: send its link again, or cancel the change."""
    form = ActionForm()
    action = request.form.get("action")
    if not form.validate_on_submit() or action not in ("resend", "cancel"):
        return _email_page(EmailChangeForm(formdata=None), 400)
    session = signed_in_session()
    if action == "cancel":
        contact_email_service.cancel_email_change(session.account, session_id=session.id)
        return redirect(url_for("citizen.contact_email", cancelled=1), code=303)
    try:
        contact_email_service.resend_change_link(session.account, session_id=session.id,
                                                 link_path=_email_link_path)
    except ResendRefused as exc:
        page_form = EmailChangeForm(formdata=None)
        page_form.form_errors.append(_refusal_message(exc))
        return _retry_after(_email_page(page_form, 429), exc)
    return redirect(url_for("citizen.contact_email", sent=1), code=303)


@bp.route("/contact/email/confirm/<token>", methods=["GET", "POST"])
def contact_email_confirm(token: str) -> Page:
    session = signed_in_session()
    form = ActionForm()
    if request.method == "GET":
        valid = contact_email_service.email_link_pending(session.account, token)
        return _email_confirm_page(form, "ask" if valid else "invalid", token, 200 if valid else 404)
    if not form.validate_on_submit():
        return _email_confirm_page(form, "ask", token, 400)
    before = session.account.email
    address = contact_email_service.confirm_email(session.account, token, session_id=session.id)
    if address is None:
        return _email_confirm_page(form, "invalid", token, 404)
    return _email_confirm_page(form, "done" if address != before else "confirmed", token, 200,
                               address=address)


def _email_confirm_page(form: ActionForm, state: str, token: str, status: int, *,
                        address: str | None = None) -> Page:
    return render_template("citizen/contact_email_confirm.html", nav="profile", form=form,
                           state=state, token=token, address=address), status
