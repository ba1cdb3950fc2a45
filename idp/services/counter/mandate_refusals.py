"""Why a counter action on a mandate was refused (docs/architecture.md §14), in the counter's
refusal style (idp.services.counter.refusals): a stable code (the API's `error`), its HTTP
status and a message for staff; `refuse` undoes the transaction, commits only the
MANDATE_REFUSED audit event, and raises.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask_babel import gettext

from idp.domain.errors import N_, DomainError
from idp.domain.mandates import Status
from idp.extensions import db
from idp.models import AuditTag, Mandate, StaffMember
from idp.services.counter.mandate_scope import MSG_INVALID_SCOPE, MSG_SCOPE_REQUIRED
from idp.services.counter.refusals import MESSAGES, CounterRefusal
from idp.services.platform import audit

MANDATE_MESSAGES = {
    "not_found": N_("No mandate like this was found at your office."),
    "invalid_national_id": N_("Type the citizen's 12-digit personal ID number."),
    "citizen_not_found": N_("No PostID account has this ID number. The citizen must first "
                            "have an account verified in person."),
    "not_verified": N_("This account is not active or not verified in person (level 2): a "
                       "mandate needs a verified citizen. Verify the identity first."),
    "own_account": N_("You cannot make a mandate for your own account. Ask a colleague."),
    "colleague": N_("This citizen works at your office: the office's staff cannot act for "
                    "them. The citizen can give a mandate at another post office."),
    "scope_required": MSG_SCOPE_REQUIRED,
    "invalid_scope": MSG_INVALID_SCOPE,
    "invalid_duration": N_("Choose “this visit only” or a number of months from 1 to 12."),
    "conflict": N_("This mandate is now “%(status)s”: it can no longer be confirmed."),
    "day_passed": N_("A mandate can only be confirmed on the day it was made. Make a new "
                     "mandate with the citizen."),
    "code_not_sent": N_("No code has been sent for this mandate yet: send one first."),
    "wrong_code": N_("This code is not right. Check the SMS and type the 6 digits again."),
    "code_used_up": N_("This code can no longer be used (too many wrong tries, or it "
                       "expired). Send a new code, or let the citizen approve on their phone."),
    "no_more_codes": N_("No more codes can be sent for this mandate. The citizen can still "
                        "approve it on their own phone, or you can make a new mandate."),
    "sms_not_sent": N_("No SMS can be sent to this phone now (too many messages today). The "
                       "citizen can approve the mandate on their own phone, signed in to PostID."),
    "supervisor_only": MESSAGES["supervisor_only"],
    "already_ended": N_("This mandate is now “%(status)s”: there is nothing to end."),
}
MANDATE_STATUS = {"not_found": 404, "invalid_national_id": 400, "citizen_not_found": 404,
                  "not_verified": 409, "own_account": 403, "colleague": 403,
                  "scope_required": 400, "invalid_scope": 400, "invalid_duration": 400,
                  "conflict": 409, "day_passed": 409, "code_not_sent": 409, "wrong_code": 400,
                  "code_used_up": 409, "no_more_codes": 409, "sms_not_sent": 429, "supervisor_only": 403,
                  "already_ended": 409}
# How a refusal names the mandate's status now, in the reader's language.
STATUS_NAMES = {
    Status.PENDING: N_("waiting for the citizen's confirmation"),
    Status.ACTIVE: N_("active"),
    Status.EXPIRED: N_("expired"),
    Status.REVOKED: N_("ended"),
}


class MandateRefusal(CounterRefusal):
    """A counter action on a mandate refused; the same shape as CounterRefusal (`code`,
    `status`, `problems` of a refused ID-card check) with the mandate's `mandate_status` on a
    conflict."""

    def __init__(self, code: str, *, problems: list[DomainError] | None = None,
                 mandate_status: Status | None = None) -> None:
        super().__init__(code, problems=problems)
        if not problems:
            self.message = MANDATE_MESSAGES[code]
        self.status = MANDATE_STATUS.get(code, 400 if problems else 409)
        self.mandate_status = mandate_status

    @property
    def message_args(self) -> dict[str, str]:
        if self.mandate_status is None:
            return {}
        return {"status": gettext(STATUS_NAMES[self.mandate_status])}


def refuse(staff: StaffMember, code: str, *, channel: str, action: str,
           mandate: Mandate | None = None, account_id: int | None = None,
           problems: list[DomainError] | None = None,
           mandate_status: Status | None = None) -> NoReturn:
    """Undo the transaction, commit only the refusal's audit event (staff, office, the
    citizen's account and the mandate's public id when known; never an ID number), raise."""
    staff_id, office_id = staff.id, staff.office_id
    data: dict[str, Any] = {"reason": code, "action": action}
    if mandate is not None:
        data["mandate"] = mandate.public_id
        account_id = mandate.account_id
    if problems:
        data["problems"] = [p.code for p in problems]
    db.session.rollback()
    audit.record(AuditTag.MANDATE_REFUSED, account_id=account_id, staff_id=staff_id,
                 office_id=office_id, channel=channel, **data)
    db.session.commit()
    raise MandateRefusal(code, problems=problems, mandate_status=mandate_status)
