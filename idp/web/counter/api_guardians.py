"""Counter API: a child under 14 registered under a verified parent (docs/architecture.md §14),
the parent's confirmation of the link, and a young person's own account activated from the
14th birthday. Thin views over idp.services.counter.guardians, guardian_confirmation and
guardian_activation.

    POST /counter/api/children                         register: the child, the birth
                                                       certificate, the parent's ID-card check
    GET  /counter/api/children/<public_id>             one link made at the office
    POST /counter/api/children/<public_id>/send-code   send the parent the confirmation code
    POST /counter/api/children/<public_id>/confirm     {"code": "123456"}, typed by the parent
    POST /counter/api/children/activations             the young person's own account at 14
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.errors import IdpError, InvalidInput
from idp.models import Guardianship
from idp.services.counter import assisted_registration, child_details, guardian_activation, guardians
from idp.services.counter import guardian_confirmation as counter_confirmation
from idp.services.counter.assisted_registration import WalkIn, WalkInInvalid
from idp.services.counter.guardian_activation import ActivationRefusal
from idp.services.counter.guardians import ChildInvalid, ChildRegistration, GuardianRefusal
from idp.services.identity import guardian_confirmation
from idp.services.identity.guardian_sign_in import link_ends_at
from idp.services.platform.clock import iso
from idp.web.counter import api_bp
from idp.web.counter.api_common import json_body as json_body_or_empty
from idp.web.counter.api_common import read_document, read_text
from idp.web.counter.assisted import activation_link, registration_json
from idp.web.counter.assisted_forms import parse_body
from idp.web.counter.guard import api_error, current_staff
from idp.web.counter.guardian_forms import parse_child_body

MAX_BODY_BYTES = 16 * 1024


def json_body() -> dict[str, Any] | Response:
    """The request's JSON object, or the API's 400 answer."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return api_error(400, "invalid_request", gettext("The request body is too large."))
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return api_error(400, "invalid_request", gettext("Send a JSON object."))
    return body


def invalid(message: str, fields: dict[str, str],
            errors: list[InvalidInput]) -> tuple[Response, int]:
    for error in errors:
        fields.setdefault(error.field or "_", gettext(error.message))
    return jsonify(error="invalid_input", message=gettext(message), fields=fields), 400


def refused(exc: IdpError) -> Response:
    """The refusal's `error` and `message`; a refused ID-card check adds `problems`."""
    problems = getattr(exc, "problems", None)
    if not problems:
        return api_error(exc.status, exc.code, gettext(exc.message))
    response = jsonify(error=exc.code, message=gettext(exc.message), problems=[
        {"code": p.code, "message": gettext(p.message)} for p in problems])
    response.status_code = exc.status
    return response


@api_bp.post("/children")
def register_child() -> Response | tuple[Response, int]:
    """JSON in; 201 with the link (200 for a retry of the same registration)."""
    body = json_body()
    if isinstance(body, Response):
        return body
    guardian, child, certificate, read = parse_child_body(body)
    fields = {name: gettext(message, **args) for name, (message, args) in read.errors.items()}
    if fields:
        return invalid(guardians.MSG_INVALID, fields, child_details.child_errors(child, certificate)
                       if child.birthdate and certificate.issued_on else [])
    check = read_document(body, issued="issued_on", expires="expires_on")
    try:
        result = guardians.register_child(current_staff(), guardian, child, certificate, check,
                                          channel="api")
    except ChildInvalid as exc:
        return invalid(guardians.MSG_INVALID, fields, exc.errors)
    except GuardianRefusal as exc:
        return refused(exc)
    return jsonify(_registration_json(result)), 201 if result.created else 200


def link_json(link: Guardianship) -> dict[str, Any]:
    pending = guardian_confirmation.is_pending(link)
    return {"public_id": link.public_id, "account_status": link.child.status.value,
            "grants_until": link_ends_at(link).isoformat().replace("+00:00", "Z"),
            "ended": link.ended_at is not None, "confirmed": link.confirmed_at is not None,
            "confirmed_at": iso(link.confirmed_at),
            "confirmed_by": link.confirmed_by.value if link.confirmed_by else None,
            "code_sent": link.confirmation_challenge_id is not None,
            "resend_in": counter_confirmation.resend_in(link) if pending else None}


def _link_result(link: Guardianship, **extra: Any) -> Response:
    return jsonify(link_json(link) | extra)


@api_bp.get("/children/<public_id>")
def child_show(public_id: str) -> Response:
    try:
        link = counter_confirmation.get_link(current_staff(), public_id, channel="api",
                                             action="guardian_view")
    except GuardianRefusal as exc:
        return refused(exc)
    return _link_result(link)


@api_bp.post("/children/<public_id>/send-code")
def child_send_code(public_id: str) -> Response:
    json_body_or_empty(allow_empty=True)  # nothing to read; a malformed body is refused
    try:
        sent = counter_confirmation.send_confirmation_code(current_staff(), public_id,
                                                           channel="api")
    except GuardianRefusal as exc:
        return refused(exc)
    return _link_result(sent.link, sent=sent.sent)


@api_bp.post("/children/<public_id>/confirm")
def child_confirm(public_id: str) -> Response:
    code = read_text(json_body_or_empty(), "code", limit=16)
    try:
        link = counter_confirmation.confirm_with_code(current_staff(), public_id, code,
                                                      channel="api")
    except GuardianRefusal as exc:
        return refused(exc)
    return _link_result(link)


def _registration_json(result: ChildRegistration) -> dict[str, Any]:
    return {**link_json(result.link), "created": result.created,
            "new_account": result.new_account}


@api_bp.post("/children/activations")
def activate_young_person() -> Response | tuple[Response, int]:
    """A walk-in's body (the young person's card, phone, document check); 201 as a walk-in's
    registration (200 for a retry)."""
    body = json_body()
    if isinstance(body, Response):
        return body
    details, check, read = parse_body(body)
    fields = {name: gettext(message, **args) for name, (message, args) in read.errors.items()}
    if fields or check is None:
        return invalid(assisted_registration.MSG_INVALID, fields,
                       assisted_registration.walk_in_errors(details, check))
    try:
        done = guardian_activation.activate_young_person(
            current_staff(), details, check, channel="api", activation_link=activation_link())
    except WalkInInvalid as exc:
        return invalid(assisted_registration.MSG_INVALID, fields, exc.errors)
    except ActivationRefusal as exc:
        return refused(exc)
    walk_in = WalkIn(done.account, done.verification, created=done.created)
    return jsonify(registration_json(walk_in)), 201 if done.created else 200
