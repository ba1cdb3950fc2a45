"""Counter JSON API for the verification of organisations (docs/architecture.md §8, business accounts). The
same services as the console; the same bearer guard, error shape and body rules as the
citizens' API (api.py, api_common.py).

    GET  /counter/api/organisation-checks?code=XXXX-XXXX     look up an organisation's code
    GET  /counter/api/organisation-checks/<public_id>         one organisation check
    POST /counter/api/organisation-checks/<public_id>/submit  the check (dates YYYY-MM-DD)
    POST /counter/api/organisation-checks/<public_id>/reject  {"reason": "<reject reason code>"}
    POST /counter/api/organisation-checks/<public_id>/approve {} (supervisors)
    POST /counter/api/organisation-checks/<public_id>/revoke  {"reason": "..."} (supervisors)
    GET  /counter/api/organisation-queue?page=N               the office's approval queue

Described in docs/counter-api.openapi.json.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from idp.domain.business_check import BusinessCheck, clean_certificate_number, clean_reference
from idp.domain.phone import mask_phone_for_staff
from idp.models import OrganisationVerification, StaffMember
from idp.services.counter import checks as counter_checks
from idp.services.counter import organisation_checks, organisation_decisions
from idp.services.platform.clock import iso
from idp.web.counter import api_bp
from idp.web.counter.api_common import (
    CHANNEL,
    code_param,
    decisions_json,
    json_body,
    queue_response,
    read_date,
    read_document,
    read_flag,
    read_reason,
    read_text,
    summary_json,
)
from idp.web.counter.guard import current_staff

PATH = "/organisation-checks"


def _optional_text(body: dict[str, Any], name: str, *, limit: int) -> str | None:
    return None if body.get(name) is None else read_text(body, name, limit=limit)


def business_check(body: dict[str, Any]) -> BusinessCheck:
    """The check from a JSON body. Unknown members (an `office_id`, say) are ignored: the
    office is always the staff member's own. Lengths are bounded here generously; the
    domain says what is wrong with a value."""
    certificate_issued_on = read_date(body, "certificate_issued_on")
    assert certificate_issued_on is not None
    document = read_document(body, issued="document_issued_on", expires="document_expires_on")
    poa_date = (None if body.get("power_of_attorney_date") is None
                else read_date(body, "power_of_attorney_date"))
    return BusinessCheck(
        certificate_number=clean_certificate_number(read_text(body, "certificate_number", limit=64)),
        certificate_issued_on=certificate_issued_on,
        certificate_match=read_flag(body, "certificate_match"), document=document,
        authority=read_text(body, "authority", limit=32),
        power_of_attorney_ref=clean_reference(
            _optional_text(body, "power_of_attorney_ref", limit=128)) or None,
        power_of_attorney_date=poa_date)


def organisation_check_json(staff: StaffMember, v: OrganisationVerification, *,
                            summary: bool = False,
                            people: dict[int, StaffMember] | None = None) -> dict[str, Any]:
    organisation = v.organisation
    if people is None:
        people = counter_checks.staff_by_id(v.clerk_id, v.decided_by, v.revoked_by)
    body = summary_json(v, people) | {
        "organisation": {"name": organisation.name, "tax_code": organisation.tax_code}}
    if summary:
        return body
    representative = organisation.representative
    body["organisation"].update(
        tax_code_kind=organisation.tax_code_kind.value, head_office=organisation.head_office,
        representative_title=organisation.representative_title.value,
        status=organisation.status.value)
    check = None
    if v.certificate_number is not None:
        check = {"certificate_number": v.certificate_number,
                 "certificate_issued_on": iso(v.certificate_issued_on),
                 "certificate_match": v.certificate_match,
                 "document_type": v.document_type.value if v.document_type else None,
                 "document_number": v.document_number,
                 "document_issued_on": iso(v.document_issued_on),
                 "document_expires_on": iso(v.document_expires_on),
                 "person_match": v.person_match,
                 "authority": v.authority.value if v.authority else None,
                 "power_of_attorney_ref": v.power_of_attorney_ref,
                 "power_of_attorney_date": iso(v.power_of_attorney_date)}
    body.update(
        representative={"full_name": representative.full_name,
                        "national_id": representative.national_id,
                        "birthdate": iso(representative.birthdate),
                        "sex": representative.gender.value,
                        "phone": mask_phone_for_staff(representative.own_phone),
                        "identity_level": representative.identity_loa},
        created_at=iso(v.created_at), expires_at=iso(v.expires_at), check=check,
        **decisions_json(staff, v, people))
    return body


def _result(verification: OrganisationVerification) -> Response:
    return jsonify(organisation_check_json(current_staff(), verification))


@api_bp.get(PATH)
def org_lookup() -> Response:
    return _result(organisation_checks.lookup(current_staff(), code_param(), channel=CHANNEL))


@api_bp.get(f"{PATH}/<public_id>")
def org_show(public_id: str) -> Response:
    return _result(organisation_checks.get(current_staff(), public_id, channel=CHANNEL))


@api_bp.post(f"{PATH}/<public_id>/submit")
def org_submit(public_id: str) -> Response:
    check = business_check(json_body())
    return _result(organisation_checks.submit(current_staff(), public_id, check,
                                                channel=CHANNEL))


def _with_reason(public_id: str, decide: Callable[..., OrganisationVerification]) -> Response:
    """Reject or revoke: `decide(staff, public_id, reason)` with the reason from the body."""
    reason = read_reason(json_body())
    return _result(decide(current_staff(), public_id, reason, channel=CHANNEL))


@api_bp.post(f"{PATH}/<public_id>/reject")
def org_reject(public_id: str) -> Response:
    return _with_reason(public_id, organisation_decisions.reject)


@api_bp.post(f"{PATH}/<public_id>/approve")
def org_approve(public_id: str) -> Response:
    json_body(allow_empty=True)  # nothing to read, but a malformed body is still refused
    return _result(organisation_decisions.approve(current_staff(), public_id,
                                                          channel=CHANNEL))


@api_bp.post(f"{PATH}/<public_id>/revoke")
def org_revoke(public_id: str) -> Response:
    return _with_reason(public_id, organisation_decisions.revoke)


@api_bp.get("/organisation-queue")
def org_queue() -> Response:
    return queue_response(organisation_decisions.approval_queue, organisation_check_json)
