"""Assisted registration at the counter (docs/architecture.md §8), console and API: a clerk registers a
walk-in citizen, who then activates the account on their own phone (/activate). Thin views
over idp.services.counter.assisted_registration; the staff member (and so the office) comes from the
guard (guard.py), never from the request."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from idp.domain.document_check import PostalAddress
from idp.domain.errors import DomainError
from idp.domain.phone import mask_phone_for_staff
from idp.errors import IdpError, InvalidInput
from idp.services.counter import assisted_registration
from idp.services.counter.assisted_registration import (
    ACTIVATION_CODE_HOURS,
    AccountExists,
    OwnAccount,
    WalkIn,
    WalkInInvalid,
)
from idp.settings import current_settings
from idp.web.counter import api_bp, bp
from idp.web.counter.assisted_forms import WalkInForm, parse_body
from idp.web.counter.check_forms import DOCUMENT_LABELS
from idp.web.counter.guard import api_error, current_staff

MAX_BODY_BYTES = 16 * 1024

# --- console ---------------------------------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
def assisted_start() -> Response | tuple[str, int]:
    form = WalkInForm()
    if request.method == "GET":
        return _page(form, 200)
    form_ok = form.validate_on_submit()
    if form.csrf_token.errors:
        return _page(form, 400)
    address: PostalAddress | None = None
    try:
        address = form.address()
    except DomainError:  # the form put the message on the address field
        form_ok = False
    details, check = form.details(), form.walk_in_check(address)
    if not form_ok or check is None:
        # Nothing is stored; the rules still run so that every problem shows in one round.
        attach_errors(form, assisted_registration.walk_in_errors(
            details, form.walk_in_check(address, lenient=True)))
        return _page(form, 400)
    try:
        walk_in = assisted_registration.register_walk_in(current_staff(), details, check,
                                                         channel="web",
                                                         activation_link=activation_link())
    except WalkInInvalid as exc:
        attach_errors(form, exc.errors)
        return _page(form, 400)
    except (OwnAccount, AccountExists) as exc:
        form.form_errors.append(gettext(exc.message))
        return _page(form, exc.status)
    return redirect(url_for("counter.assisted_done", public_id=walk_in.verification.public_id,
                            again=None if walk_in.created else 1), code=303)


def attach_errors(form: FlaskForm, errors: list[InvalidInput]) -> None:
    """Each rule's message next to its field, unless the form already said something there
    (also the guardians' forms, which check children and young people the same way)."""
    for error in errors:
        field = getattr(form, error.field, None) if error.field else None
        if field is None:
            form.form_errors.append(gettext(error.message))
        elif not field.errors:
            field.errors = [*field.errors, gettext(error.message)]


def _page(form: WalkInForm, status: int) -> tuple[str, int]:
    return render_template("counter/assisted.html", nav="assisted", form=form,
                           hours=ACTIVATION_CODE_HOURS), status


@bp.get("/register/<public_id>")
def assisted_done(public_id: str) -> str:
    walk_in = assisted_registration.registration_for(current_staff(), public_id)
    if walk_in is None:
        abort(404)
    document_type = walk_in.verification.document_type
    return render_template(
        "counter/assisted_done.html", nav="assisted", walk_in=walk_in,
        masked_phone=mask_phone_for_staff(walk_in.account.own_phone), hours=ACTIVATION_CODE_HOURS,
        activation_link=activation_link(),
        document_label=DOCUMENT_LABELS.get(document_type) if document_type is not None else None,
        again=request.args.get("again") == "1")


# --- API ---------------------------------------------------------------------------------------


@api_bp.post("/registrations")
def create_registration() -> Response | tuple[Response, int]:
    """JSON in, 201 with the verification's public id (200 for a retry of the same one)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return api_error(400, "invalid_request", gettext("The request body is too large."))
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return api_error(400, "invalid_request", gettext("Send a JSON object."))
    details, check, read = parse_body(body)
    fields = {name: gettext(message, **args) for name, (message, args) in read.errors.items()}
    if fields or check is None:
        return _invalid(fields, assisted_registration.walk_in_errors(details, check))
    try:
        walk_in = assisted_registration.register_walk_in(current_staff(), details, check,
                                                         channel="api",
                                                         activation_link=activation_link())
    except WalkInInvalid as exc:
        return _invalid(fields, exc.errors)
    except (OwnAccount, AccountExists) as exc:
        return _refused(exc)
    return jsonify(registration_json(walk_in)), 201 if walk_in.created else 200


def _invalid(fields: dict[str, str], errors: list[InvalidInput]) -> tuple[Response, int]:
    for error in errors:
        fields.setdefault(error.field or "_", gettext(error.message))
    return jsonify(error="invalid_input", message=gettext(assisted_registration.MSG_INVALID),
                   fields=fields), 400


def _refused(exc: IdpError) -> Response:
    return api_error(exc.status, exc.code, gettext(exc.message))


def registration_json(walk_in: WalkIn) -> dict[str, Any]:
    verification = walk_in.verification
    return {
        "public_id": verification.public_id,
        "status": verification.status.value,
        "assisted": True,
        "account_status": walk_in.account.status.value,
        "created": walk_in.created,
        "activation": {"sms_sent_to": mask_phone_for_staff(walk_in.account.own_phone),
                       "code_valid_hours": ACTIVATION_CODE_HOURS,
                       "url": activation_link()},
    }


def activation_link() -> str:
    """The activation page's absolute address, as the walk-in's SMS and the done page give it."""
    return current_settings().issuer + url_for("register.activate")
