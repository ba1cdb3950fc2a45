"""Why a counter action was refused, in words for staff: the refusal codes of the counter
workflow (idp.services.counter.workflow), their HTTP statuses and messages, worded for a
citizen's check and, where that does not fit, for an organisation's.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from idp.domain.errors import N_, DomainError
from idp.errors import IdpError
from idp.models import VerificationStatus

MESSAGES = {
    "not_found": N_("No enrolment code or verification like this was found at your office."),
    "expired": N_("This enrolment code has expired. The citizen can ask for a new one online."),
    "cancelled": N_("The citizen cancelled this enrolment code."),
    "already_used": N_("This enrolment code has already been used; a decision was made on it."),
    "own_account": N_("You cannot act on your own account. Ask a colleague."),
    "supervisor_only": N_("Only a supervisor can do this."),
    "own_submission": N_("You submitted this check yourself: another supervisor must decide."),
    "conflict": N_("This verification is now “%(status)s”: someone else acted on it first. "
                   "Reload it to see its current state."),
    "invalid_reason": N_("Choose a reason from the list."),
    "account_disabled": N_("This account is disabled; it cannot be verified."),
    "invalid_check": N_("The document check cannot be submitted."),
}
# How a conflict names the record's status now.
STATUS_NAMES = {
    VerificationStatus.PENDING: N_("waiting for the document check"),
    VerificationStatus.SUBMITTED: N_("submitted for approval"),
    VerificationStatus.APPROVED: N_("approved"),
    VerificationStatus.REJECTED: N_("rejected"),
    VerificationStatus.EXPIRED: N_("expired"),
    VerificationStatus.CANCELLED: N_("cancelled"),
    VerificationStatus.REVOKED: N_("revoked"),
}
STATUS = {"not_found": 404, "own_account": 403, "supervisor_only": 403, "own_submission": 403,
          "invalid_reason": 400, "invalid_check": 400}

# Where the citizens' wording does not fit an organisation.
ORGANISATION_MESSAGES = {
    "own_account": N_("You cannot act on an organisation you represent or are a member of. "
                      "Ask a colleague."),
    "expired": N_("This enrolment code has expired. The organisation's representative can ask "
                  "for a new one online."),
    "cancelled": N_("The organisation's representative cancelled this enrolment code."),
    "account_disabled": N_("The representative's account is disabled; the organisation cannot "
                           "be verified."),
}


class CounterRefusal(IdpError):
    """A counter action refused; nothing changed but one audit event. `code` is stable and is
    the API's `error`; `problems` lists every problem of a refused document check;
    `current_status` names the record's status on a `conflict`."""

    def __init__(self, code: str, *, problems: list[DomainError] | None = None,
                 current_status: VerificationStatus | None = None) -> None:
        message = problems[0].message if problems else MESSAGES.get(code, MESSAGES["invalid_check"])
        super().__init__(code, message)
        self.status = STATUS.get(code, 400 if problems else 409)
        self.problems = problems or []
        self.current_status = current_status

    @property
    def message_args(self) -> dict[str, str]:
        """Values for `gettext(message, **args)` at the web edge: a conflict names the
        record's current status in the reader's language."""
        if self.current_status is None:
            return {}
        return {"status": gettext(STATUS_NAMES[self.current_status])}


class CounterOrganisationRefusal(CounterRefusal):
    """A CounterRefusal (same codes, statuses and API shape) worded for organisations."""

    def __init__(self, code: str, **kwargs: Any) -> None:
        super().__init__(code, **kwargs)
        if not self.problems and code in ORGANISATION_MESSAGES:
            self.message = ORGANISATION_MESSAGES[code]
