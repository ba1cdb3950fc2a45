"""Counter JSON API for verifications (docs/architecture.md §8), for counter terminals and integrations.
The same services as the console; the guard (guard.py) has authenticated the bearer token.

    GET  /counter/api/verifications?code=XXXX-XXXX      look up an enrolment code
    GET  /counter/api/verifications/<public_id>          one verification
    POST /counter/api/verifications/<public_id>/submit   the document check (dates YYYY-MM-DD)
    POST /counter/api/verifications/<public_id>/reject   {"reason": "<reject reason code>"}
    POST /counter/api/verifications/<public_id>/approve  {} (supervisors)
    POST /counter/api/verifications/<public_id>/revoke   {"reason": "..."} (supervisors)
    GET  /counter/api/queue?page=N                       the office's approval queue

Errors are `{"error": code, "message": text}`; a refused document check adds `problems`, a
conflict adds `current_status`. Described in docs/counter-api.openapi.json.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.document_check import DocumentCheck, check_address
from idp.domain.errors import DomainError
from idp.domain.phone import mask_phone_for_staff
from idp.models import IdentityVerification, StaffMember
from idp.services.counter import checks, decisions
from idp.services.counter.checks import CounterRefusal
from idp.services.platform.clock import iso
from idp.services.portals import backchannel
from idp.web.counter import api_bp
from idp.web.counter.api_common import (
    CHANNEL,
    InvalidBody,
    bad_request,
    code_param,
    decisions_json,
    json_body,
    queue_response,
    read_document,
    read_reason,
    read_text,
    summary_json,
)
from idp.web.counter.guard import api_error, current_staff

MATCHES = ("name_match", "birthdate_match", "sex_match", "photo_match")


# --- request bodies ------------------------------------------------------------------------


def document_check(body: dict[str, Any]) -> DocumentCheck:
    """The check from a JSON body. Unknown members (an `office_id`, say) are ignored: the
    office is always the staff member's own."""
    address = body.get("address")
    if address is not None:
        if not isinstance(address, dict):
            raise InvalidBody(gettext('“address” must be an object or null.'))
        address = check_address(read_text(address, "street"), read_text(address, "ward"),
                                read_text(address, "province_code", limit=8))
    return read_document(body, issued="issued_on", expires="expires_on", address=address)


# --- responses -----------------------------------------------------------------------------


def verification_json(staff: StaffMember, v: IdentityVerification, *,
                      summary: bool = False,
                      people: dict[int, StaffMember] | None = None) -> dict[str, Any]:
    account = v.account
    if people is None:
        people = checks.staff_by_id(v.clerk_id, v.decided_by, v.revoked_by)
    body = summary_json(v, people) | {"citizen": {"full_name": account.full_name}}
    if summary:
        return body
    body["citizen"].update(national_id=account.national_id, birthdate=iso(account.birthdate),
                           sex=account.gender.value,
                           phone=mask_phone_for_staff(account.own_phone))
    check = None
    if v.document_type is not None:
        check = {"document_type": v.document_type.value, "document_number": v.document_number,
                 "issued_on": iso(v.document_issued_on),
                 "expires_on": iso(v.document_expires_on),
                 **{name: getattr(v, name) for name in MATCHES},
                 "address": v.verified_address}
    body.update(assisted=v.assisted, created_at=iso(v.created_at), expires_at=iso(v.expires_at),
                check=check, **decisions_json(staff, v, people))
    return body


# --- routes --------------------------------------------------------------------------------


def refusal_response(refusal: CounterRefusal) -> Response:
    body: dict[str, Any] = {"error": refusal.code,
                            "message": gettext(refusal.message, **refusal.message_args)}
    if refusal.problems:
        body["problems"] = [{"code": p.code, "message": gettext(p.message)}
                            for p in refusal.problems]
    if refusal.current_status is not None:
        body["current_status"] = refusal.current_status.value
    response = jsonify(body)
    response.status_code = refusal.status
    return response


@api_bp.errorhandler(CounterRefusal)
def counter_refusal(refusal: CounterRefusal) -> Response:
    return refusal_response(refusal)


@api_bp.errorhandler(InvalidBody)
def invalid_request(exc: InvalidBody) -> Response:
    return bad_request(exc.message)


@api_bp.errorhandler(DomainError)
def invalid_field(error: DomainError) -> Response:
    """A domain rule refused a value (e.g. the address): its stable code and message."""
    return api_error(400, error.code, gettext(error.message))


def _result(verification: IdentityVerification) -> Response:
    return jsonify(verification_json(current_staff(), verification))


@api_bp.get("/verifications")
def lookup() -> Response:
    return _result(checks.lookup(current_staff(), code_param(), channel=CHANNEL))


@api_bp.get("/verifications/<public_id>")
def show(public_id: str) -> Response:
    return _result(checks.get(current_staff(), public_id, channel=CHANNEL))


@api_bp.post("/verifications/<public_id>/submit")
def submit(public_id: str) -> Response:
    check = document_check(json_body())
    return _result(checks.submit(current_staff(), public_id, check, channel=CHANNEL))


@api_bp.post("/verifications/<public_id>/reject")
def reject(public_id: str) -> Response:
    reason = read_reason(json_body())
    return _result(decisions.reject(current_staff(), public_id, reason, channel=CHANNEL))


@api_bp.post("/verifications/<public_id>/approve")
def approve(public_id: str) -> Response:
    json_body(allow_empty=True)  # nothing to read, but a malformed body is still refused
    return _result(decisions.approve(current_staff(), public_id, channel=CHANNEL))


@api_bp.post("/verifications/<public_id>/revoke")
def revoke(public_id: str) -> Response:
    reason = read_reason(json_body())
    result = decisions.revoke(current_staff(), public_id, reason, channel=CHANNEL)
    if result.logouts:
        backchannel.deliver(result.logouts)  # first attempt; `idp logout deliver` retries
    return _result(result.verification)


@api_bp.get("/queue")
def queue() -> Response:
    return queue_response(decisions.approval_queue, verification_json)
