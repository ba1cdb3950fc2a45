"""The activity history of an account (docs/architecture.md §11): which audit events the person reads, and the
names those events point to.

Audit events carry ids, never personal data or names, so the names of organisations, post
offices and portals are looked up when the page is shown. Every audit tag has a decision here
(tests/web/account/test_activity.py fails for a tag without one):

- SHOWN: one line per event;
- VISIT: one line per counter visit: the look-ups and the document check of one code at one
  office are a single line, that of the first look-up (the decision has a line of its own);
  (ONLY_WHEN narrows a shown tag to the events that record one value);
- HIDDEN: recorded for the auditors, not worth a line to the person (the person's own form
  mistakes, a clerk's refused attempts, internal bookkeeping, halves of an event already shown);
- NOT_CITIZEN: never recorded against a citizen's account (staff, portals, offices, keys).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select
from sqlalchemy.orm import aliased

from idp.extensions import db
from idp.models import AuditEvent, AuditTag, OAuthClient, Organisation, PostOffice

PAGE_SIZE = 20


class Decision(enum.Enum):
    SHOWN = "shown"
    VISIT = "visit"
    HIDDEN = "hidden"
    NOT_CITIZEN = "not_citizen"


T = AuditTag
S, V, H, N = Decision.SHOWN, Decision.VISIT, Decision.HIDDEN, Decision.NOT_CITIZEN
DECISIONS: dict[AuditTag, Decision] = {
    T.ACCOUNT_CREATE: S, T.ACCOUNT_ACTIVATE: S, T.ACCOUNT_DELETE: S,
    T.ACCOUNT_LOGIN_SUCCESS: S, T.ACCOUNT_LOGIN_FAILURE: S, T.ACCOUNT_LOGIN_THROTTLED: S,
    T.ACCOUNT_LOGOUT: S, T.ACCOUNT_SESSION_REVOKE: S,
    T.ACCOUNT_PASSWORD_REHASH: H,  # storage upgrade on sign-in: nothing the person did
    T.ACCOUNT_PASSWORD_CHANGE: S, T.ACCOUNT_PASSWORD_RECOVER: S,
    T.ACCOUNT_PHONE_CONFIRM: S, T.ACCOUNT_EMAIL_CONFIRM: S, T.ACCOUNT_CONTACT_CHANGE: S,
    T.ACCOUNT_MFA_ENROL: S, T.ACCOUNT_MFA_REMOVE: S,
    # At sign-in and set-up it is stored with the line that says it (sign-in, turned on); a
    # step-up, later in a session, for a portal that needs it, has no other line (ONLY_WHEN).
    T.ACCOUNT_MFA_SUCCESS: S,
    T.ACCOUNT_MFA_FAILURE: S,  # but not while setting it up (MISTYPED)
    T.ACCOUNT_RECOVERY_CODE_USE: S,
    T.ACCOUNT_DATA_EXPORT: S,
    T.CONSENT_GRANT: S, T.CONSENT_REVOKE: S, T.OIDC_ORGANISATION_CHOSEN: S,
    T.OIDC_CODE_REPLAY: S, T.OIDC_REFRESH_REUSE: S,
    T.REGISTRATION_START: N,  # before any account exists
    T.REGISTRATION_DUPLICATE: S,  # somebody registered again with this account's details
    T.VERIFICATION_REQUEST: S, T.VERIFICATION_CANCEL: S, T.VERIFICATION_EXPIRE: S,
    T.COUNTER_VERIFICATION_VIEW: V, T.COUNTER_VERIFICATION_SUBMIT: V,
    T.COUNTER_VERIFICATION_APPROVE: S, T.COUNTER_VERIFICATION_REJECT: S,
    T.COUNTER_VERIFICATION_REVOKE: S,
    T.COUNTER_VERIFICATION_REFUSED: H,  # a clerk's refused attempt (wrong code, wrong stage)
    T.COUNTER_ASSISTED_REGISTRATION: H,  # stored with its account.create, which names the office
    # A child's account (docs/architecture.md §14), read once the young person has their own.
    T.GUARDIAN_CHILD_REGISTER: H,  # stored with its account.create, which names the office
    T.GUARDIAN_LINK: S, T.GUARDIAN_SIGN_IN: S, T.GUARDIAN_LINK_END: S,
    T.GUARDIAN_SIGN_IN_REFUSED: H,  # nothing happened to the account
    # The parent's confirmation of a link: its steps are the counter's; the link itself is
    # the guardian.link line.
    T.GUARDIAN_CODE_SENT: H, T.GUARDIAN_CONFIRM: H, T.GUARDIAN_CONFIRM_FAILURE: H,
    T.GUARDIAN_USE: H,  # its guardian.sign_in line already names the portal
    T.ORGANISATION_REGISTER: S,
    T.ORGANISATION_REFUSED: H,  # the person's own form mistakes on the business pages
    T.ORGANISATION_VERIFICATION_REQUEST: S, T.ORGANISATION_VERIFICATION_CANCEL: S,
    T.ORGANISATION_VERIFICATION_EXPIRE: S,
    T.COUNTER_ORGANISATION_VIEW: V, T.COUNTER_ORGANISATION_SUBMIT: V,
    T.COUNTER_ORGANISATION_APPROVE: S, T.COUNTER_ORGANISATION_REJECT: S,
    T.COUNTER_ORGANISATION_REVOKE: S,
    T.COUNTER_ORGANISATION_REFUSED: H,  # a clerk's refused attempt
    T.ORGANISATION_MEMBER_INVITE: S, T.ORGANISATION_MEMBER_ACCEPT: S,
    T.ORGANISATION_MEMBER_DECLINE: S, T.ORGANISATION_MEMBER_CANCEL: S,
    T.ORGANISATION_MEMBER_SUSPEND: S, T.ORGANISATION_MEMBER_REINSTATE: S,
    T.ORGANISATION_MEMBER_REMOVE: S, T.ORGANISATION_MEMBER_UPDATE: S,
    T.ORGANISATION_MEMBER_EXPIRE: H,  # bookkeeping of an unanswered invitation, no account
    T.CLIENT_CREATE: N, T.CLIENT_SECRET_ROTATE: N, T.CLIENT_DISABLE: N, T.CLIENT_UPDATE: N,
    T.CLIENT_TOKEN_ISSUED: N,  # a portal's back end acting for itself, never for a person
    T.KEYS_ROTATE: N, T.AUDIT_KEY_ROTATE: N, T.OFFICE_CREATE: N, T.RETENTION_PURGE: N,
    T.STAFF_CREATE: N, T.STAFF_DISABLE: N, T.STAFF_LOGIN_SUCCESS: N, T.STAFF_LOGIN_FAILURE: N,
    T.STAFF_MFA_ENROL: N, T.STAFF_MFA_FAILURE: N, T.STAFF_MFA_RESET: N, T.STAFF_LOGOUT: N,
    T.STAFF_MFA_REMOVE: N, T.OFFICE_UPDATE: N,
    # An SMS held back by a limit: an operators' record; showing it would tell the account what
    # strangers typed, and the limits stay silent (sms_limits).
    T.NOTIFY_SMS_SUPPRESSED: H,
    T.NOTIFY_SMS_TOTAL_REACHED: N,  # the nationwide alarm, never about one account
    # Acting for another person: what was decided and every use are lines; the steps between
    # (the code sent, a delegated session opened before its use) and refused attempts are the
    # auditors' (the counter's wrong codes die after five guesses, like any SMS code).
    T.MANDATE_CREATE: S, T.MANDATE_CONFIRM: S, T.MANDATE_REVOKE: S, T.MANDATE_USE: S,
    T.MANDATE_CODE_SENT: H, T.MANDATE_CONFIRM_FAILURE: H, T.MANDATE_REFUSED: H,
    T.MANDATE_SIGN_IN: H, T.MANDATE_SIGN_IN_REFUSED: H,
    # Staff saw the person's name and birth date by typing their number: a counter visit.
    T.MANDATE_LOOKUP: V,
    # Somebody signed in for the person tried their account pages: theirs to know.
    T.DELEGATED_ACCOUNT_CHANGE_REFUSED: S,
}
# A wrong code while turning two-step verification on is a typing mistake, not an attempt.
MISTYPED = {T.ACCOUNT_MFA_FAILURE: ("step", "enrol")}
# Shown only when the event records this value (the other events of the tag are halves of a
# line already shown).
ONLY_WHEN = {T.ACCOUNT_MFA_SUCCESS: ("step", "step_up")}
SHOWN_TAGS = [t.value for t, d in DECISIONS.items() if d in (S, V)]
VISIT_TAGS = {
    T.COUNTER_VERIFICATION_VIEW.value: "person", T.COUNTER_VERIFICATION_SUBMIT.value: "person",
    T.MANDATE_LOOKUP.value: "person",
    T.COUNTER_ORGANISATION_VIEW.value: "organisation",
    T.COUNTER_ORGANISATION_SUBMIT.value: "organisation",
}


@dataclass(frozen=True)
class Entry:
    """One line: the event and the names its ids point to now (None when gone or absent)."""

    event: AuditEvent
    organisation: str | None = None
    office: str | None = None
    portal: str | None = None

    @property
    def tag(self) -> str:
        return self.event.tag

    def datum(self, key: str) -> object:
        return (self.event.data or {}).get(key)


@dataclass(frozen=True)
class ActivityPage:
    entries: list[Entry]
    page: int
    pages: int
    total: int


def _visible(account_id: int) -> ColumnElement[bool]:
    """The events of this account that make a line (see the module docstring)."""
    earlier = aliased(AuditEvent)
    conditions: list[ColumnElement[bool]] = [
        AuditEvent.account_id == account_id, AuditEvent.tag.in_(SHOWN_TAGS)]
    for tag, (key, value) in MISTYPED.items():
        conditions.append(not_(and_(AuditEvent.tag == tag.value,
                                    func.coalesce(AuditEvent.data[key].as_string(), "") == value)))
    for tag, (key, value) in ONLY_WHEN.items():
        conditions.append(or_(AuditEvent.tag != tag.value,
                              func.coalesce(AuditEvent.data[key].as_string(), "") == value))
    for family in ("person", "organisation"):
        tags = [tag for tag, kind in VISIT_TAGS.items() if kind == family]
        same_visit = exists().where(
            earlier.account_id == account_id, earlier.tag.in_(tags), earlier.id < AuditEvent.id,
            earlier.office_id == AuditEvent.office_id,
            earlier.data["verification"].as_string()
            == AuditEvent.data["verification"].as_string())
        conditions.append(or_(AuditEvent.tag.not_in(tags), not_(same_visit)))
    return and_(*conditions)


def _lookup(key: Any, name: Any, keys: set[Any]) -> dict[Any, str]:
    if not keys:
        return {}
    return {k: v for k, v in db.session.execute(select(key, name).where(key.in_(keys)))}


def _client(data: dict[str, Any]) -> str | None:
    """The portal's client_id (consent.revoke calls it client_id, the others client)."""
    client = data.get("client") or data.get("client_id")
    return str(client) if client else None


def _names(events: list[AuditEvent]) -> list[Entry]:
    """Resolve the ids the events carry to today's names, one query per kind."""
    offices = _lookup(PostOffice.id, PostOffice.name,
                      {e.office_id for e in events if e.office_id is not None})
    organisations = _lookup(Organisation.public_id, Organisation.name,
                            {str(e.data["organisation"]) for e in events
                             if (e.data or {}).get("organisation")})
    portals = _lookup(OAuthClient.client_id, OAuthClient.name,
                      {c for e in events if (c := _client(e.data or {}))})
    entries = []
    for event in events:
        data = event.data or {}
        entries.append(Entry(event=event, organisation=organisations.get(str(data.get("organisation"))),
                             office=offices.get(event.office_id),
                             portal=portals.get(_client(data))))
    return entries


def activity(account_id: int, page: int = 1) -> ActivityPage:
    """One page of the account's history, newest first."""
    visible = _visible(account_id)
    total = db.session.scalar(select(func.count(AuditEvent.id)).where(visible)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages)
    events = db.session.scalars(
        select(AuditEvent).where(visible)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return ActivityPage(entries=_names(list(events)), page=page, pages=pages, total=total)
