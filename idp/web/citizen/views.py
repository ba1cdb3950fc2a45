"""The citizen's own pages. Everything here requires a live sign-in session."""

from __future__ import annotations

import json

from flask import abort, make_response, redirect, render_template, request, url_for
from flask import session as form_session
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.errors import DomainError
from idp.domain.phone import display_phone
from idp.errors import Throttled, WrongPassword
from idp.services import account_data
from idp.services.identity import activity as activity_service
from idp.services.identity import contact_email, devices, logout, mandates, password_change
from idp.services.portals import backchannel, consents
from idp.web.citizen import bp
from idp.web.citizen.activity_lines import activity_line
from idp.web.citizen.forms import ActionForm, DeleteAccountForm, PasswordChangeForm
from idp.web.citizen.labels import SCOPE_DESCRIPTIONS, short_user_agent
from idp.web.session_cookie import (
    clear_session_cookie,
    set_device_cookie,
    signed_in_session,
    signed_out_allowed,
)


def _deliver(queued: list[int]) -> None:
    backchannel.deliver_after_commit(queued)


def _target_id(form: ActionForm) -> int:
    raw = form.target.data or ""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # "²" is a digit to isdigit()
        abort(400)
    return int(raw)


@bp.get("")
def account() -> str:
    session = signed_in_session()
    return render_template(
        "citizen/account.html",
        account=session.account,
        session=session,
        display_phone=display_phone,
        nav="profile",
        pending_email=contact_email.pending_email(session.account),
        pending_form=ActionForm(),
        mandates_to_approve=mandates.awaiting_approval(session.account),
    )


@bp.get("/portals")
def portals() -> str:
    return render_template("citizen/portals.html", nav="portals", form=ActionForm(),
                           portals=consents.connected_portals(signed_in_session().account_id),
                           descriptions=SCOPE_DESCRIPTIONS,
                           revoked=request.args.get("revoked") == "1")


@bp.post("/portals/revoke")
def revoke_portal() -> Response:
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = signed_in_session()
    if not consents.revoke(session.account_id, _target_id(form), session_id=session.id):
        abort(404)
    return redirect(url_for("citizen.portals", revoked=1))


@bp.get("/sessions")
def sessions_page() -> str:
    return render_template("citizen/sessions.html", nav="sessions", form=ActionForm(),
                           current=signed_in_session(), short_user_agent=short_user_agent,
                           sessions=logout.live_sessions(signed_in_session().account_id),
                           ended=request.args.get("ended") == "1")


@bp.post("/sessions/end")
def end_session() -> Response:
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = signed_in_session()
    queued = logout.end_other_session(session.account_id, _target_id(form),
                                            current_session_id=session.id)
    if queued is None:
        abort(404)
    _deliver(queued)
    return redirect(url_for("citizen.sessions_page", ended=1))


@bp.post("/sessions/end-others")
def end_other_sessions() -> Response:
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = signed_in_session()
    _deliver(logout.end_all_other_sessions(session.account_id, current_session_id=session.id))
    return redirect(url_for("citizen.sessions_page", ended=1))


@bp.get("/activity")
def activity() -> str:
    page = activity_service.activity(signed_in_session().account_id,
                                     account_data.parse_page(request.args.get("page")))
    return render_template("citizen/activity.html", nav="activity", page=page,
                           activity_line=activity_line)


@bp.route("/password", methods=["GET", "POST"])
def password() -> str | Response | tuple[str, int]:
    form = PasswordChangeForm()
    if request.method == "GET":
        return _password_page(form, 200, done=request.args.get("changed") == "1")
    if not form.validate_on_submit():
        return _password_page(form, 400)
    session = signed_in_session()
    try:
        queued = password_change.change_password(
            session.account, current=form.current_password.data or "",
            new=form.new_password.data or "", session_id=session.id,
            sign_out_others=bool(form.sign_out_others.data))
    except Throttled as exc:
        form.current_password.errors = [gettext(
            "Too many wrong passwords. Try again in %(minutes)s minutes.",
            minutes=max(1, (exc.retry_after + 59) // 60))]
        return _password_page(form, 429)
    except WrongPassword:
        form.current_password.errors = [gettext("This is not your current password.")]
        return _password_page(form, 400)
    except DomainError as exc:
        form.new_password.errors = [gettext(exc.message)]
        return _password_page(form, 400)
    _deliver(queued)
    # The new password ends every older known-device token (services.devices); this browser
    # just proved the password, so it stays the owner's known device.
    set_device_cookie(devices.issue(session.account))
    return redirect(url_for("citizen.password", changed=1))


def _password_page(form: PasswordChangeForm, status: int, *, done: bool = False) -> tuple[str, int]:
    for field in (form.current_password, form.new_password, form.confirm_password):
        field.data = ""  # never sent back
    return render_template("citizen/password.html", nav="password", form=form, done=done), status


@bp.get("/data")
def data() -> str:
    return render_template("citizen/data.html", nav="data", form=ActionForm())


@bp.post("/data")
def download_data() -> Response:
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = signed_in_session()
    exported = account_data.export(session.account, session_id=session.id)
    response = make_response(json.dumps(exported, ensure_ascii=False, indent=2))
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = 'attachment; filename="postid-my-data.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/delete", methods=["GET", "POST"])
def delete() -> str | Response | tuple[str, int]:
    form = DeleteAccountForm()
    if request.method == "GET":
        return _delete_page(form, 200)
    if not form.validate_on_submit():
        return _delete_page(form, 400)
    session = signed_in_session()
    try:
        queued = account_data.delete_account(session.account, form.password.data or "",
                                             session_id=session.id)
    except Throttled as exc:
        form.password.errors = [gettext(
            "Too many wrong passwords. Try again in %(minutes)s minutes.",
            minutes=max(1, (exc.retry_after + 59) // 60))]
        return _delete_page(form, 429)
    except WrongPassword:
        form.password.errors = [gettext("This is not your current password.")]
        return _delete_page(form, 400)
    _deliver(queued)
    clear_session_cookie()
    form_session.clear()
    return redirect(url_for("citizen.deleted"))


def _delete_page(form: DeleteAccountForm, status: int) -> tuple[str, int]:
    form.password.data = ""
    return render_template("citizen/delete.html", nav="delete", form=form), status


@bp.get("/deleted")
@signed_out_allowed
def deleted() -> str:
    return render_template("citizen/deleted.html")
