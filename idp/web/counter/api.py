"""Counter JSON API for verifications (DESIGN §5), for counter terminals and integrations.
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

import re
from datetime import date, datetime
from typing import Any

from flask import jsonify, request
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.document_check import DocumentCheck, check_address
from idp.domain.errors import DomainError
from idp.models import IdentityVerification, StaffMember
from idp.services import backchannel, counter_checks, counter_decisions
from idp.services.account_data import parse_page
from idp.services.counter_checks import CounterRefusal
from idp.web.counter import api_bp
from idp.web.counter.check_forms import clean_number
from idp.web.counter.guard import api_error, current_staff

CHANNEL = "api"
# A document check is well under 1 KiB; anything much larger is not one.
MAX_BODY_BYTES = 8192
MAX_TEXT = 300
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MATCHES = ("name_match", "birthdate_match", "sex_match", "photo_match")


class InvalidBody(Exception):
    """The JSON body is malformed, oversized or of the wrong shape: 400 invalid_request."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- request bodies ------------------------------------------------------------------------


def json_body(*, allow_empty: bool = False) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise InvalidBody(gettext("The request body is too large."))
    if allow_empty and not request.get_data(cache=True):
        return {}
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise InvalidBody(gettext("Send a JSON object as the request body."))
    return body


def _text(body: dict[str, Any], name: str, *, limit: int = MAX_TEXT) -> str:
    value = body.get(name)
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidBody(gettext('"%(field)s" must be a text of at most %(n)s characters.',
                                  field=name, n=limit))
    return value


def _date(body: dict[str, Any], name: str, *, nullable: bool = False) -> date | None:
    if name not in body:
        raise InvalidBody(gettext('"%(field)s" is missing.', field=name))
    value = body[name]
    if value is None and nullable:
        return None
    try:
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InvalidBody(gettext('"%(field)s" must be a date written YYYY-MM-DD.', field=name))


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise InvalidBody(gettext('"%(field)s" must be true or false.', field=name))
    return value


def document_check(body: dict[str, Any]) -> DocumentCheck:
    """The check from a JSON body. Unknown members (an `office_id`, say) are ignored: the
    office is always the staff member's own."""
    address = body.get("address")
    if address is not None:
        if not isinstance(address, dict):
            raise InvalidBody(gettext('"address" must be an object or null.'))
        address = check_address(_text(address, "street"), _text(address, "ward"),
                                _text(address, "province_code", limit=8))
    issued = _date(body, "issued_on")
    assert issued is not None
    return DocumentCheck(
        document_type=_text(body, "document_type", limit=32),
        document_number=clean_number(_text(body, "document_number", limit=32)),
        issued_on=issued, expires_on=_date(body, "expires_on", nullable=True),
        name_match=_flag(body, "name_match"), birthdate_match=_flag(body, "birthdate_match"),
        sex_match=_flag(body, "sex_match"), photo_match=_flag(body, "photo_match"),
        address=address)


# --- responses -----------------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _who(people: dict[int, StaffMember], staff_id: int | None) -> dict[str, str] | None:
    person = people.get(staff_id) if staff_id is not None else None
    return {"username": person.username, "full_name": person.full_name} if person else None


def verification_json(staff: StaffMember, v: IdentityVerification, *,
                      summary: bool = False) -> dict[str, Any]:
    account = v.account
    people = counter_checks.staff_by_id(v.clerk_id, v.decided_by, v.revoked_by)
    body: dict[str, Any] = {
        "id": v.public_id, "code": v.display_code, "status": v.status.value,
        "submitted_at": _iso(v.submitted_at), "submitted_by": _who(people, v.clerk_id),
        "citizen": {"full_name": account.full_name},
    }
    if summary:
        return body
    body["citizen"].update(national_id=account.national_id, birthdate=_iso(account.birthdate),
                           sex=account.gender.value,
                           phone=counter_checks.masked_phone(account.phone))
    check = None
    if v.document_type is not None:
        check = {"document_type": v.document_type.value, "document_number": v.document_number,
                 "issued_on": _iso(v.document_issued_on),
                 "expires_on": _iso(v.document_expires_on),
                 **{name: getattr(v, name) for name in MATCHES},
                 "address": v.verified_address}
    body.update(
        assisted=v.assisted, created_at=_iso(v.created_at), expires_at=_iso(v.expires_at),
        check=check,
        decision=None if v.decided_at is None else {
            "decided_at": _iso(v.decided_at), "decided_by": _who(people, v.decided_by),
            "reject_reason": v.reject_reason.value if v.reject_reason else None},
        revocation=None if v.revoked_at is None else {
            "revoked_at": _iso(v.revoked_at), "revoked_by": _who(people, v.revoked_by),
            "reason": v.revoke_reason.value if v.revoke_reason else None},
        actions=counter_checks.allowed_actions(staff, v),
    )
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


def bad_request(message: str) -> Response:
    return api_error(400, "invalid_request", message)


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
    code = request.args.get("code")
    if not code or len(code) > 64:
        return bad_request(gettext('Give the enrolment code in the "code" query parameter.'))
    return _result(counter_checks.lookup(current_staff(), code, channel=CHANNEL))


@api_bp.get("/verifications/<public_id>")
def show(public_id: str) -> Response:
    return _result(counter_checks.get(current_staff(), public_id, channel=CHANNEL))


@api_bp.post("/verifications/<public_id>/submit")
def submit(public_id: str) -> Response:
    check = document_check(json_body())
    return _result(counter_checks.submit(current_staff(), public_id, check, channel=CHANNEL))


def _reason(body: dict[str, Any]) -> str:
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason:
        raise InvalidBody(gettext('Give the reason code in the text field "reason".'))
    return reason


@api_bp.post("/verifications/<public_id>/reject")
def reject(public_id: str) -> Response:
    reason = _reason(json_body())
    return _result(counter_decisions.reject(current_staff(), public_id, reason, channel=CHANNEL))


@api_bp.post("/verifications/<public_id>/approve")
def approve(public_id: str) -> Response:
    json_body(allow_empty=True)  # nothing to read, but a malformed body is still refused
    return _result(counter_decisions.approve(current_staff(), public_id, channel=CHANNEL))


@api_bp.post("/verifications/<public_id>/revoke")
def revoke(public_id: str) -> Response:
    reason = _reason(json_body())
    result = counter_decisions.revoke(current_staff(), public_id, reason, channel=CHANNEL)
    if result.logouts:
        backchannel.deliver(result.logouts)  # first attempt; `idp logout deliver` retries
    return _result(result.verification)


@api_bp.get("/queue")
def queue() -> Response:
    staff = current_staff()
    if not staff.is_supervisor:
        return api_error(403, "supervisor_only", gettext(counter_checks.MESSAGES["supervisor_only"]))
    page = counter_decisions.approval_queue(staff, parse_page(request.args.get("page")))
    return jsonify(items=[verification_json(staff, v, summary=True) for v in page.items],
                   page=page.page, pages=page.pages, total=page.total)
