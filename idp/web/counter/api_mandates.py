"""Counter JSON API of mandates (docs/architecture.md §14). The same services as the console;
the same bearer guard, error shape and body rules as the checks' API (api.py, api_common.py).

    POST /counter/api/mandates                        make one: national_id, the ID-card check
                                                      (dates YYYY-MM-DD), kinds, client_ids, months
    GET  /counter/api/mandates/<public_id>            one mandate of the office
    POST /counter/api/mandates/<public_id>/send-code  send the citizen the confirmation code
    POST /counter/api/mandates/<public_id>/confirm    {"code": "123456"}, typed by the citizen
    GET  /counter/api/mandates?page=N                 the office's mandates (supervisors)
    POST /counter/api/mandates/<public_id>/end        end one (supervisors)

Errors are `{"error": code, "message": text}`; a refused ID-card check adds `problems`, a
mandate no longer in the status needed adds `current_status`. Described in
docs/counter-api.openapi.json.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext
from werkzeug.wrappers import Response

from idp.domain.phone import mask_phone_for_staff
from idp.models import Mandate
from idp.services.account_data import parse_page
from idp.services.counter import mandate_confirmation, mandates
from idp.services.counter.mandate_refusals import MandateRefusal
from idp.services.platform.clock import iso
from idp.services.standing import delegation
from idp.web.counter import api_bp
from idp.web.counter.api_common import (
    CHANNEL,
    InvalidBody,
    json_body,
    read_document,
    read_text,
)
from idp.web.counter.guard import current_staff

PATH = "/mandates"


def _read_list(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= 64 for v in value):
        raise InvalidBody(gettext('“%(field)s” must be a list of codes.', field=name))
    return value


def _read_months(body: dict[str, Any]) -> int:
    value = body.get("months")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidBody(gettext('“months” must be a whole number: 0 (this visit only) to 12.'))
    return value


def mandate_json(m: Mandate, *, uses: int, resend_in: int | None = None,
                 summary: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": m.public_id, "status": delegation.status_of(m).value,
        "citizen": {"full_name": m.account.full_name},
        "kinds": list(m.kinds), "client_ids": list(m.client_ids), "months": m.months,
        "created_at": iso(m.created_at), "expires_at": iso(m.expires_at),
        "created_by": {"username": m.created_by.username, "full_name": m.created_by.full_name},
        "confirmed_at": iso(m.confirmed_at),
        "confirmed_by": m.confirmed_by.value if m.confirmed_by else None,
        "revoked_at": iso(m.revoked_at), "revoked_by": m.revoked_by.value if m.revoked_by else None,
        "uses": uses}
    if summary:
        return body
    body["citizen"].update(national_id=m.account.national_id,
                           phone=mask_phone_for_staff(m.account.own_phone))
    body.update(level=m.loa, document={
        "document_type": m.document_type.value, "document_number": m.document_number,
        "issued_on": iso(m.document_issued_on), "expires_on": iso(m.document_expires_on)},
        code_sent=m.confirmation_challenge_id is not None, resend_in=resend_in)
    return body


def _result(m: Mandate, status: int = 200, **extra: Any) -> Response:
    pending = delegation.status_of(m).value == "pending"
    response = jsonify(mandate_json(m, uses=mandates.uses_of(m.id)[m.id],
                                    resend_in=mandate_confirmation.resend_in(m) if pending else None)
                       | extra)
    response.status_code = status
    return response


@api_bp.errorhandler(MandateRefusal)
def mandate_refusal(refusal: MandateRefusal) -> Response:
    body: dict[str, Any] = {"error": refusal.code,
                            "message": gettext(refusal.message, **refusal.message_args)}
    if refusal.problems:
        body["problems"] = [{"code": p.code, "message": gettext(p.message)}
                            for p in refusal.problems]
    if refusal.mandate_status is not None:
        body["current_status"] = refusal.mandate_status.value
    response = jsonify(body)
    response.status_code = refusal.status
    return response


@api_bp.post(PATH)
def mandate_create() -> Response:
    body = json_body()
    national_id = read_text(body, "national_id", limit=32)
    check = read_document(body, issued="issued_on", expires="expires_on")
    mandate = mandates.create_mandate(
        current_staff(), national_id, check, kinds=_read_list(body, "kinds"),
        client_ids=_read_list(body, "client_ids"), months=_read_months(body), channel=CHANNEL)
    return _result(mandate, 201)


@api_bp.get(f"{PATH}/<public_id>")
def mandate_show(public_id: str) -> Response:
    return _result(mandates.get_mandate(current_staff(), public_id, channel=CHANNEL))


@api_bp.post(f"{PATH}/<public_id>/send-code")
def mandate_send_code(public_id: str) -> Response:
    json_body(allow_empty=True)  # nothing to read, but a malformed body is still refused
    result = mandate_confirmation.send_confirmation_code(current_staff(), public_id,
                                                         channel=CHANNEL)
    return _result(result.mandate, sent=result.sent)


@api_bp.post(f"{PATH}/<public_id>/confirm")
def mandate_confirm(public_id: str) -> Response:
    code = read_text(json_body(), "code", limit=16)
    return _result(mandate_confirmation.confirm_with_code(current_staff(), public_id, code,
                                                          channel=CHANNEL))


@api_bp.get(PATH)
def mandate_list() -> Response:
    page = mandates.office_mandates(current_staff(), parse_page(request.args.get("page")),
                                    channel=CHANNEL)
    return jsonify(items=[mandate_json(row.mandate, uses=row.uses, summary=True)
                          for row in page.items],
                   page=page.page, pages=page.pages, total=page.total)


@api_bp.post(f"{PATH}/<public_id>/end")
def mandate_end(public_id: str) -> Response:
    json_body(allow_empty=True)
    return _result(mandates.end_mandate(current_staff(), public_id, channel=CHANNEL))
