"""Counter JSON API for the verification of organisations (DESIGN §5, business accounts). The
same services as the console; the same bearer guard, error shape and body rules as the
citizens' API (api.py).

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

from typing import Any

from flask import jsonify, request
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.business_check import BusinessCheck, clean_certificate_number, clean_reference
from idp.domain.document_check import DocumentCheck
from idp.models import OrganisationVerification, StaffMember
from idp.services import counter_checks, counter_organisation_decisions, counter_organisations
from idp.services.account_data import parse_page
from idp.web.counter import api_bp
from idp.web.counter.api import (
    CHANNEL,
    _date,
    _flag,
    _iso,
    _reason,
    _text,
    _who,
    bad_request,
    json_body,
)
from idp.web.counter.check_forms import clean_number
from idp.web.counter.guard import api_error, current_staff

PATH = "/organisation-checks"


def _optional_text(body: dict[str, Any], name: str, *, limit: int) -> str | None:
    return None if body.get(name) is None else _text(body, name, limit=limit)


def business_check(body: dict[str, Any]) -> BusinessCheck:
    """The check from a JSON body. Unknown members (an `office_id`, say) are ignored: the
    office is always the staff member's own. Lengths are bounded here generously; the
    domain says what is wrong with a value."""
    certificate_issued_on = _date(body, "certificate_issued_on")
    document_issued_on = _date(body, "document_issued_on")
    assert certificate_issued_on is not None and document_issued_on is not None
    document = DocumentCheck(
        document_type=_text(body, "document_type", limit=32),
        document_number=clean_number(_text(body, "document_number", limit=32)),
        issued_on=document_issued_on,
        expires_on=_date(body, "document_expires_on", nullable=True),
        name_match=_flag(body, "name_match"), birthdate_match=_flag(body, "birthdate_match"),
        sex_match=_flag(body, "sex_match"), photo_match=_flag(body, "photo_match"))
    poa_date = (None if body.get("power_of_attorney_date") is None
                else _date(body, "power_of_attorney_date"))
    return BusinessCheck(
        certificate_number=clean_certificate_number(_text(body, "certificate_number", limit=64)),
        certificate_issued_on=certificate_issued_on,
        certificate_match=_flag(body, "certificate_match"), document=document,
        authority=_text(body, "authority", limit=32),
        power_of_attorney_ref=clean_reference(
            _optional_text(body, "power_of_attorney_ref", limit=128)) or None,
        power_of_attorney_date=poa_date)


def organisation_check_json(staff: StaffMember, v: OrganisationVerification, *,
                            summary: bool = False) -> dict[str, Any]:
    organisation = v.organisation
    people = counter_checks.staff_by_id(v.clerk_id, v.decided_by, v.revoked_by)
    body: dict[str, Any] = {
        "id": v.public_id, "code": v.display_code, "status": v.status.value,
        "submitted_at": _iso(v.submitted_at), "submitted_by": _who(people, v.clerk_id),
        "organisation": {"name": organisation.name, "tax_code": organisation.tax_code},
    }
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
                 "certificate_issued_on": _iso(v.certificate_issued_on),
                 "certificate_match": v.certificate_match,
                 "document_type": v.document_type.value if v.document_type else None,
                 "document_number": v.document_number,
                 "document_issued_on": _iso(v.document_issued_on),
                 "document_expires_on": _iso(v.document_expires_on),
                 "person_match": v.person_match,
                 "authority": v.authority.value if v.authority else None,
                 "power_of_attorney_ref": v.power_of_attorney_ref,
                 "power_of_attorney_date": _iso(v.power_of_attorney_date)}
    body.update(
        representative={"full_name": representative.full_name,
                        "national_id": representative.national_id,
                        "birthdate": _iso(representative.birthdate),
                        "sex": representative.gender.value,
                        "phone": counter_checks.masked_phone(representative.phone),
                        "identity_level": representative.identity_loa},
        created_at=_iso(v.created_at), expires_at=_iso(v.expires_at), check=check,
        decision=None if v.decided_at is None else {
            "decided_at": _iso(v.decided_at), "decided_by": _who(people, v.decided_by),
            "reject_reason": v.reject_reason.value if v.reject_reason else None},
        revocation=None if v.revoked_at is None else {
            "revoked_at": _iso(v.revoked_at), "revoked_by": _who(people, v.revoked_by),
            "reason": v.revoke_reason.value if v.revoke_reason else None},
        actions=counter_checks.allowed_actions(staff, v),
    )
    return body


def _result(verification: OrganisationVerification) -> Response:
    return jsonify(organisation_check_json(current_staff(), verification))


@api_bp.get(PATH)
def org_lookup() -> Response:
    code = request.args.get("code")
    if not code or len(code) > 64:
        return bad_request(gettext('Give the enrolment code in the "code" query parameter.'))
    return _result(counter_organisations.lookup(current_staff(), code, channel=CHANNEL))


@api_bp.get(f"{PATH}/<public_id>")
def org_show(public_id: str) -> Response:
    return _result(counter_organisations.get(current_staff(), public_id, channel=CHANNEL))


@api_bp.post(f"{PATH}/<public_id>/submit")
def org_submit(public_id: str) -> Response:
    check = business_check(json_body())
    return _result(counter_organisations.submit(current_staff(), public_id, check,
                                                channel=CHANNEL))


@api_bp.post(f"{PATH}/<public_id>/reject")
def org_reject(public_id: str) -> Response:
    reason = _reason(json_body())
    return _result(counter_organisation_decisions.reject(current_staff(), public_id, reason,
                                                         channel=CHANNEL))


@api_bp.post(f"{PATH}/<public_id>/approve")
def org_approve(public_id: str) -> Response:
    json_body(allow_empty=True)  # nothing to read, but a malformed body is still refused
    return _result(counter_organisation_decisions.approve(current_staff(), public_id,
                                                          channel=CHANNEL))


@api_bp.post(f"{PATH}/<public_id>/revoke")
def org_revoke(public_id: str) -> Response:
    reason = _reason(json_body())
    return _result(counter_organisation_decisions.revoke(current_staff(), public_id, reason,
                                                         channel=CHANNEL))


@api_bp.get("/organisation-queue")
def org_queue() -> Response:
    staff = current_staff()
    if not staff.is_supervisor:
        return api_error(403, "supervisor_only",
                         gettext(counter_checks.MESSAGES["supervisor_only"]))
    page = counter_organisation_decisions.approval_queue(staff, parse_page(request.args.get("page")))
    return jsonify(items=[organisation_check_json(staff, v, summary=True) for v in page.items],
                   page=page.page, pages=page.pages, total=page.total)

