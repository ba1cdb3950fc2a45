"""A child under 14 registered under a verified parent at the counter (docs/architecture.md §14),
console pages. Thin views over idp.services.counter.guardians; the staff member (and so the
office) comes from the guard (guard.py), never from the request."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.errors import InvalidInput
from idp.services.counter import assisted_registration, child_details, guardian_activation, guardians
from idp.services.counter.assisted_registration import ACTIVATION_CODE_HOURS, WalkInInvalid
from idp.services.counter.guardian_activation import ActivationRefusal
from idp.services.counter.guardians import ChildInvalid, GuardianRefusal
from idp.services.identity.guardian_sign_in import link_ends_at
from idp.web.counter import bp
from idp.web.counter.assisted import activation_link
from idp.web.counter.assisted_forms import WalkInForm
from idp.web.counter.guard import current_staff
from idp.web.counter.guardian_forms import ChildForm


@bp.route("/children/new", methods=["GET", "POST"])
def child_new() -> Response | tuple[str, int]:
    form = ChildForm()
    if request.method == "GET":
        return _page(form, 200)
    form_ok = form.validate_on_submit()
    if form.csrf_token.errors:
        return _page(form, 400)
    if not form_ok:
        # Nothing is stored; the rules still run so that every problem shows in one round.
        _attach(form, child_details.child_errors(form.child(), form.certificate()))
        return _page(form, 400)
    try:
        result = guardians.register_child(current_staff(), form.guardian(), form.child(),
                                          form.certificate(), channel="web")
    except ChildInvalid as exc:
        _attach(form, exc.errors)
        return _page(form, 400)
    except GuardianRefusal as exc:
        form.form_errors.append(gettext(exc.message))
        return _page(form, exc.status)
    return redirect(url_for("counter.child_done", public_id=result.link.public_id,
                            again=None if result.created else 1), code=303)


def _attach(form: ChildForm | WalkInForm, errors: list[InvalidInput]) -> None:
    """Each rule's message next to its field, unless the form already said something there."""
    for error in errors:
        field = getattr(form, error.field, None) if error.field else None
        if field is None:
            form.form_errors.append(gettext(error.message))
        elif not field.errors:
            field.errors = [*field.errors, gettext(error.message)]


def _page(form: ChildForm, status: int) -> tuple[str, int]:
    return render_template("counter/child_new.html", nav="children", form=form), status


@bp.get("/children/<public_id>")
def child_done(public_id: str) -> str:
    link = guardians.registration_for(current_staff(), public_id)
    if link is None:
        abort(404)
    return render_template("counter/child_done.html", nav="children", link=link,
                           until=link_ends_at(link), again=request.args.get("again") == "1")


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
        _attach(form, assisted_registration.walk_in_errors(
            details, form.walk_in_check(None, lenient=True)))
        return _activate_page(form, 400)
    try:
        done = guardian_activation.activate_young_person(
            current_staff(), details, check, channel="web", activation_link=activation_link())
    except WalkInInvalid as exc:
        _attach(form, exc.errors)
        return _activate_page(form, 400)
    except ActivationRefusal as exc:
        form.form_errors.append(gettext(exc.message))
        return _activate_page(form, exc.status)
    return redirect(url_for("counter.assisted_done", public_id=done.verification.public_id,
                            again=None if done.created else 1), code=303)


def _activate_page(form: WalkInForm, status: int) -> tuple[str, int]:
    return render_template("counter/child_activate.html", nav="children", form=form,
                           hours=ACTIVATION_CODE_HOURS), status
