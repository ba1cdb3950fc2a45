"""Signing in to a portal for a citizen under their mandate (docs/architecture.md §14): the
agent at the counter picks one of the mandates `standing.delegation.usable_mandates` offers,
and one transaction checks it again and opens the citizen's delegated session
(identity.acting), which the browser then carries back to the portal's authorization request.

- The office is the agent's, from their session, never the request: another office's mandate
  answers 404 like an unknown one (and is audited with the reason).
- Every refusal is audited MANDATE_SIGN_IN_REFUSED with the `idp.domain.mandates.Reason` in a
  commit of its own, and nothing else is stored.
- The mandate row is locked while the sign-in is checked and opened, so a revocation running
  at the same moment either comes first (refused here) or ends the new session with the rest.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from idp.domain.errors import N_
from idp.domain.mandates import Reason
from idp.extensions import db
from idp.models import AuditTag, Mandate, StaffMember, StaffSession, UserSession
from idp.services.counter.refusals import CounterRefusal
from idp.services.identity import acting, sessions
from idp.services.platform import audit, failures
from idp.services.portals import clients
from idp.services.standing import delegation

# The agent passed their password and TOTP (the console guard lets no other session act).
STAFF_AMR = "pwd otp mfa"
MAX_PUBLIC_ID = 22
PUBLIC_ID_RE = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_PUBLIC_ID}}}")  # secrets.new_public_id
# Refusals that are not a Reason of the rules: the mandate or the portal does not exist here.
NOT_FOUND = "not_found"
UNKNOWN_PORTAL = "unknown_portal"

MESSAGES = {
    NOT_FOUND: N_("No mandate like this was found at your office."),
    UNKNOWN_PORTAL: N_("This portal is not known to PostID, or it is disabled."),
    Reason.EXPIRED: N_("This mandate has expired. The citizen can give a new one at the counter."),
    Reason.REVOKED: N_("The citizen revoked this mandate (or it was ended); it no longer "
                       "allows signing in."),
    Reason.NOT_CONFIRMED: N_("The citizen has not confirmed this mandate yet."),
    Reason.PORTAL_NOT_COVERED: N_("This mandate does not cover this portal."),
    Reason.PORTAL_NOT_DELEGATING: N_("This portal does not accept sign-in by post-office staff."),
    Reason.AGENT_IS_SUBJECT: N_("You cannot sign in for yourself. Ask a colleague."),
    Reason.AGENT_IS_COLLEAGUE: N_("You cannot sign in for a colleague of your office."),
    Reason.SUBJECT_NOT_VERIFIED: N_("The citizen's account is no longer active or verified at "
                                    "the level of this mandate."),
    Reason.AGENT_INACTIVE: N_("Your staff account is not active."),
}
# Another office's mandate is invisible, like an unknown one (docs/architecture.md §8).
STATUS = {NOT_FOUND: 404, Reason.AGENT_OTHER_OFFICE: 404, UNKNOWN_PORTAL: 404,
          Reason.EXPIRED: 409, Reason.REVOKED: 409, Reason.NOT_CONFIRMED: 409}


class MandateSignInRefusal(CounterRefusal):
    """A delegated sign-in refused; `code` is the Reason's value (or `not_found`,
    `unknown_portal`), stable, as the audit trail stores it."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.message = MESSAGES.get(code, MESSAGES[NOT_FOUND])
        self.status = STATUS.get(code, 403)


def _refuse(code: str, staff: StaffMember, *, channel: str, mandate: Mandate | None,
            client_id: str) -> MandateSignInRefusal:
    """Undo the transaction, commit only the refusal's audit event; the caller raises."""
    event = {"staff_id": staff.id, "office_id": staff.office_id, "channel": channel,
             "account_id": mandate.account_id if mandate is not None else None,
             "mandate": mandate.public_id if mandate is not None else None,
             "client": client_id[:64], "reason": str(code)}
    failures.keep(AuditTag.MANDATE_SIGN_IN_REFUSED, discard=True, **event)
    return MandateSignInRefusal(str(code))


def _mandate(public_id: str) -> Mandate | None:
    if not isinstance(public_id, str) or not PUBLIC_ID_RE.fullmatch(public_id):
        return None  # never sent to the database (a NUL is an error in PostgreSQL)
    return db.session.scalar(select(Mandate).where(Mandate.public_id == public_id)
                             .with_for_update())


def sign_in_under_mandate(staff: StaffMember, staff_session: StaffSession,
                          mandate_public_id: str, client_id: str, *,
                          previous_session: UserSession | None = None,
                          user_agent: str | None = None,
                          channel: str = "web") -> sessions.NewSession:
    """Open the citizen's session for ``client_id`` under the mandate ``mandate_public_id``,
    for ``staff`` signed in with ``staff_session`` (TOTP done). One transaction: the mandate
    is checked again (delegation.mandate_refusal), the browser's previous citizen session, if
    any, ends (a sign-in replaces it), the session opens with the agent's `amr`, and
    MANDATE_SIGN_IN is audited. Returns the new session and its cookie token.

    Raises MandateSignInRefusal (audited MANDATE_SIGN_IN_REFUSED, nothing else stored)."""
    assert staff_session.mfa_verified_at is not None and staff_session.staff_id == staff.id
    client = clients.get_client(client_id)
    mandate = _mandate(mandate_public_id)
    if client is None or not client.is_active:
        raise _refuse(UNKNOWN_PORTAL, staff, channel=channel, mandate=None, client_id=client_id)
    if mandate is None:
        raise _refuse(NOT_FOUND, staff, channel=channel, mandate=None, client_id=client_id)
    reason = delegation.mandate_refusal(mandate, staff=staff, client=client)
    if reason is not None:
        # Audited with the citizen even for another office (the page answers 404 there): the
        # citizen's history shows who tried to use their mandate.
        raise _refuse(reason, staff, channel=channel, mandate=mandate, client_id=client.client_id)
    if previous_session is not None:
        sessions.revoke(previous_session, reason="reauthenticated")
    new = acting.open_mandate_session_in_transaction(mandate, staff=staff, client=client,
                                                     amr=STAFF_AMR, user_agent=user_agent)
    db.session.flush()
    audit.record(AuditTag.MANDATE_SIGN_IN, account_id=mandate.account_id,
                 session_id=new.session.id, staff_id=staff.id, office_id=staff.office_id,
                 channel=channel, mandate=mandate.public_id, client=client.client_id)
    db.session.commit()
    return new

