"""What the counter JSON APIs of citizens' checks (api.py) and of organisations' checks
(api_organisations.py) share: reading a request's members with their bounds, the parts of
a check's JSON that do not depend on its kind, and the routes' common answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import jsonify, request
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.document_check import DocumentCheck, PostalAddress
from idp.models import IdentityVerification, OrganisationVerification, StaffMember
from idp.services.account_data import parse_page
from idp.services.counter import checks as counter_checks
from idp.services.counter.decisions import Page
from idp.services.platform.clock import iso
from idp.web.counter.check_forms import clean_number
from idp.web.counter.guard import api_error, current_staff

CHANNEL = "api"
# A document check is well under 1 KiB; anything much larger is not one.
MAX_BODY_BYTES = 8192
MAX_TEXT = 300
MAX_CODE = 64
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvalidBody(Exception):
    """The JSON body is malformed, oversized or of the wrong shape (or a query parameter is
    missing): 400 invalid_request."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def bad_request(message: str) -> Response:
    return api_error(400, "invalid_request", message)


# --- requests ------------------------------------------------------------------------------


def json_body(*, allow_empty: bool = False) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise InvalidBody(gettext("The request body is too large."))
    if allow_empty and not request.get_data(cache=True):
        return {}
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise InvalidBody(gettext("Send a JSON object as the request body."))
    return body


def code_param() -> str:
    """The enrolment code to look up, from the query parameter `code`."""
    code = request.args.get("code")
    if not code or len(code) > MAX_CODE:
        raise InvalidBody(gettext('Give the enrolment code in the “code” query parameter.'))
    return code


def read_text(body: dict[str, Any], name: str, *, limit: int = MAX_TEXT) -> str:
    value = body.get(name)
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidBody(gettext('“%(field)s” must be a text of at most %(n)s characters.',
                                  field=name, n=limit))
    return value


def read_date(body: dict[str, Any], name: str, *, nullable: bool = False) -> date | None:
    if name not in body:
        raise InvalidBody(gettext('“%(field)s” is missing.', field=name))
    value = body[name]
    if value is None and nullable:
        return None
    try:
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InvalidBody(gettext('“%(field)s” must be a date written YYYY-MM-DD.', field=name))


def read_flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise InvalidBody(gettext('“%(field)s” must be true or false.', field=name))
    return value


def read_document(body: dict[str, Any], *, issued: str, expires: str,
                  address: PostalAddress | None = None) -> DocumentCheck:
    """The ID document shown at the counter, its dates in the members `issued` and `expires`."""
    issued_on = read_date(body, issued)
    assert issued_on is not None
    return DocumentCheck(
        document_type=read_text(body, "document_type", limit=32),
        document_number=clean_number(read_text(body, "document_number", limit=32)),
        issued_on=issued_on, expires_on=read_date(body, expires, nullable=True),
        name_match=read_flag(body, "name_match"), birthdate_match=read_flag(body, "birthdate_match"),
        sex_match=read_flag(body, "sex_match"), photo_match=read_flag(body, "photo_match"),
        address=address)


def read_reason(body: dict[str, Any]) -> str:
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason:
        raise InvalidBody(gettext('Give the reason code in the text field “reason”.'))
    return reason


# --- responses -----------------------------------------------------------------------------

Verification = IdentityVerification | OrganisationVerification


def who(people: dict[int, StaffMember], staff_id: int | None) -> dict[str, str] | None:
    person = people.get(staff_id) if staff_id is not None else None
    return {"username": person.username, "full_name": person.full_name} if person else None


def summary_json(v: Verification, people: dict[int, StaffMember]) -> dict[str, Any]:
    """What a queue lists of a check (its kind adds who it is about)."""
    return {"id": v.public_id, "code": v.display_code, "status": v.status.value,
            "submitted_at": iso(v.submitted_at), "submitted_by": who(people, v.clerk_id)}


def decisions_json(staff: StaffMember, v: Verification,
                   people: dict[int, StaffMember]) -> dict[str, Any]:
    """The decisions made on a check, and those `staff` may still make."""
    return {
        "decision": None if v.decided_at is None else {
            "decided_at": iso(v.decided_at), "decided_by": who(people, v.decided_by),
            "reject_reason": v.reject_reason.value if v.reject_reason else None},
        "revocation": None if v.revoked_at is None else {
            "revoked_at": iso(v.revoked_at), "revoked_by": who(people, v.revoked_by),
            "reason": v.revoke_reason.value if v.revoke_reason else None},
        "actions": counter_checks.allowed_actions(staff, v),
    }


def queue_response(approval_queue: Callable[[StaffMember, int], Page],
                   as_json: Callable[..., dict[str, Any]]) -> Response:
    """A page of the office's approval queue, for supervisors only."""
    staff = current_staff()
    if not staff.is_supervisor:
        return api_error(403, "supervisor_only",
                         gettext(counter_checks.MESSAGES["supervisor_only"]))
    page = approval_queue(staff, parse_page(request.args.get("page")))
    # The staff named on the whole page, in one query rather than one per row.
    people = counter_checks.staff_by_id(
        *(i for v in page.items for i in (v.clerk_id, v.decided_by, v.revoked_by)))
    return jsonify(items=[as_json(staff, v, summary=True, people=people) for v in page.items],
                   page=page.page, pages=page.pages, total=page.total)
