"""A child under 14 registered under a verified parent at the counter (docs/architecture.md §14),
console pages. Thin views over idp.services.counter.guardians; the staff member (and so the
office) comes from the guard (guard.py), never from the request."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from idp.domain.phone import mask_phone_for_staff
from idp.models import Guardianship
from idp.services.counter import assisted_registration, child_details, guardian_activation, guardians
from idp.services.counter import guardian_confirmation as counter_confirmation
from idp.services.counter.assisted_registration import ACTIVATION_CODE_HOURS, WalkInInvalid
from idp.services.counter.guardian_activation import ActivationRefusal
from idp.services.counter.guardians import ChildInvalid, GuardianRefusal
from idp.services.identity import guardian_confirmation
from idp.services.identity.guardian_sign_in import link_ends_at
from idp.web.counter import bp
from idp.web.counter.assisted import activation_link, attach_errors
from idp.web.counter.assisted_forms import WalkInForm
from idp.web.counter.check_forms import DOCUMENT_LABELS
from idp.web.counter.guard import current_staff
from idp.web.counter.guardian_forms import ChildForm
from idp.web.counter.guardian_forms import ParentCodeForm as CodeForm
from idp.web.counter.mandate_forms import ButtonForm

CODE_ERRORS = {"wrong_code", "code_used_up"}
DONE = {"sent": _l("A code was sent to the parent's phone."),
        "confirmed": _l("The parent confirmed: the link is active.")}


@bp.route("/children/new", methods=["GET", "POST"])
def child_new() -> Response | tuple[str, int]:
    form = ChildForm()
    if request.method == "GET":
        return _page(form, 200)
    check = form.document_check()  # validates the whole form
    if form.csrf_token.errors:
        return _page(form, 400)
    if check is None:
        # Nothing is stored; the rules still run so that every problem shows in one round.
        attach_errors(form, child_details.child_errors(form.child(), form.certificate()))
        return _page(form, 400)
    try:
        result = guardians.register_child(current_staff(), form.guardian(), form.child(),
                                          form.certificate(), check, channel="web")
    except ChildInvalid as exc:
        attach_errors(form, exc.errors)
        return _page(form, 400)
    except GuardianRefusal as exc:
        if exc.problems:
            form.attach_problems(exc.problems)
        else:
            form.form_errors.append(gettext(exc.message))
        return _page(form, exc.status)
    return redirect(url_for("counter.child_done", public_id=result.link.public_id,
                            again=None if result.created else 1), code=303)


def _page(form: ChildForm, status: int) -> tuple[str, int]:
    return render_template("counter/child_new.html", nav="children", form=form), status


def _link_page(link: Guardianship, status: int = 200, **forms: Any) -> tuple[str, int]:
    pending = guardian_confirmation.is_pending(link)
    return render_template(
        "counter/child_done.html", nav="children", link=link, until=link_ends_at(link),
        again=request.args.get("again") == "1", pending=pending,
        confirmable=guardian_confirmation.confirmable(link),
        code_sent=link.confirmation_challenge_id is not None,
        resend_in=counter_confirmation.resend_in(link) if pending else None,
        masked_phone=mask_phone_for_staff(link.guardian.own_phone),
        document_labels=DOCUMENT_LABELS, button_form=ButtonForm(formdata=None),
        code_form=forms.get("code_form") or CodeForm(formdata=None),
        done=DONE.get(request.args.get("done") or ""),
        waiting=request.args.get("wait", type=int),
        language_next=url_for("counter.child_done", public_id=link.public_id)), status


def _shown(public_id: str, status: int = 200, **forms: Any) -> tuple[str, int]:
    link = guardians.registration_for(current_staff(), public_id)
    if link is None:
        abort(404)
    return _link_page(link, status, **forms)


def _refused(exc: GuardianRefusal, public_id: str) -> tuple[str, int]:
    return render_template("counter/child_refused.html", nav="children",
                           message=gettext(exc.message),
                           back=url_for("counter.child_done", public_id=public_id)), exc.status


@bp.get("/children/<public_id>")
def child_done(public_id: str) -> tuple[str, int]:
    return _shown(public_id)


@bp.post("/children/<public_id>/send-code")
def child_send_code(public_id: str) -> Response | tuple[str, int]:
    if not ButtonForm().validate_on_submit():
        return _shown(public_id, 400)
    try:
        sent = counter_confirmation.send_confirmation_code(current_staff(), public_id)
    except GuardianRefusal as exc:
        return _refused(exc, public_id)
    if not sent.sent:  # one went out moments ago: nothing new sent
        return redirect(url_for("counter.child_done", public_id=public_id,
                                wait=sent.resend_in), code=303)
    return redirect(url_for("counter.child_done", public_id=public_id, done="sent"), code=303)


@bp.post("/children/<public_id>/confirm")
def child_confirm(public_id: str) -> Response | tuple[str, int]:
    form = CodeForm()
    if not form.validate_on_submit():
        return _shown(public_id, 400, code_form=form)
    try:
        counter_confirmation.confirm_with_code(current_staff(), public_id, form.code.data or "")
    except GuardianRefusal as exc:
        if exc.code not in CODE_ERRORS:
            return _refused(exc, public_id)
        form.code.errors = [gettext(exc.message)]
        return _shown(public_id, exc.status, code_form=form)
    return redirect(url_for("counter.child_done", public_id=public_id, done="confirmed"),
                    code=303)


# --- from the 14th birthday: the young person's own account ------------------------------------

@bp.route("/children/activate", methods=["GET", "POST"])
def child_activate() -> Response | tuple[str, int]:
    form = WalkInForm()
    if request.method == "GET":
        return _activate_page(form, 200)
    form_ok = form.validate_on_submit()
    if form.csrf_token.errors:
        return _activate_page(form, 400)
    details, check = form.details(), form.walk_in_check(None)
    if not form_ok or check is None:
        attach_errors(form, assisted_registration.walk_in_errors(
            details, form.walk_in_check(None, lenient=True)))
        return _activate_page(form, 400)
    try:
        done = guardian_activation.activate_young_person(
            current_staff(), details, check, channel="web", activation_link=activation_link())
    except WalkInInvalid as exc:
        attach_errors(form, exc.errors)
        return _activate_page(form, 400)
    except ActivationRefusal as exc:
        form.form_errors.append(gettext(exc.message))
        return _activate_page(form, exc.status)
    return redirect(url_for("counter.assisted_done", public_id=done.verification.public_id,
                            again=None if done.created else 1), code=303)


def _activate_page(form: WalkInForm, status: int) -> tuple[str, int]:
    return render_template("counter/child_activate.html", nav="children", form=form,
                           hours=ACTIVATION_CODE_HOURS), status
