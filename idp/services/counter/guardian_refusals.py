"""Why a counter action on a child's registration under a guardian was refused
(docs/architecture.md §14): a stable code (the API's `error`), its HTTP status and a message for
staff; `refuse` undoes the transaction, commits only the refusal's audit event, and raises."""

from __future__ import annotations

from typing import NoReturn

from idp.domain.errors import N_, DomainError
from idp.errors import IdpError
from idp.models import AuditTag, StaffMember
from idp.services.counter import steps

MESSAGES = {
    "own_account": N_("You cannot register yourself or your own child. Ask a colleague."),
    "colleague": N_("You cannot register a colleague of your office or their child. Ask a "
                    "colleague of another office."),
    "guardian_not_verified": N_(
        "This ID number has no active PostID account verified at a counter. The parent must "
        "first have their identity verified, then come back with the birth certificate."),
    "account_exists": N_(
        "A PostID account already exists for the child's ID number, so nothing was changed. "
        "Check the ID number on the birth certificate."),
    "not_found": N_("No child's registration like this was found at your office."),
    "conflict": N_("This link is no longer waiting for the parent's confirmation."),
    "day_passed": N_("A link to a child can only be confirmed on the day it was made. Register "
                     "the child again with the parent."),
    "code_not_sent": N_("No code has been sent for this link yet: send one first."),
    "wrong_code": N_("This code is not right. Check the SMS and type the 6 digits again."),
    "code_used_up": N_("This code can no longer be used (too many wrong tries, or it expired). "
                       "Send a new code, or let the parent approve on their phone."),
    "no_more_codes": N_("No more codes can be sent for this link. The parent can still approve "
                        "it on their own phone, signed in to PostID."),
    "sms_not_sent": N_("No SMS can be sent to this phone now (too many messages today). The "
                       "parent can approve the link on their own phone, signed in to PostID."),
}
STATUS = {"own_account": 403, "colleague": 403, "guardian_not_verified": 409,
          "account_exists": 409, "not_found": 404, "conflict": 409, "day_passed": 409,
          "code_not_sent": 409, "wrong_code": 400, "code_used_up": 409, "no_more_codes": 409,
          "sms_not_sent": 429}


class GuardianRefusal(IdpError):
    """Refused; nothing changed but the refusal's audit event. `code` is the API's `error`;
    `problems` lists every problem of a refused ID-card check (400)."""

    def __init__(self, code: str, *, problems: list[DomainError] | None = None) -> None:
        super().__init__(code, problems[0].message if problems else MESSAGES[code])
        self.status = 400 if problems else STATUS[code]
        self.problems = problems or []


def refuse(staff: StaffMember, code: str, *, channel: str, account_id: int | None,
           action: str = "guardian_registration",
           problems: list[DomainError] | None = None) -> NoReturn:
    """Audit the refusal in its own commit (a clerk probing ID numbers leaves a trace)."""
    steps.store_refusal(AuditTag.COUNTER_VERIFICATION_REFUSED, staff, code, verification=None,
                        account_id=account_id, channel=channel, action=action,
                        problems=problems)
    raise GuardianRefusal(code, problems=problems)
