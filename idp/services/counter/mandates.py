"""The counter's side of a citizen's mandate to a post office (docs/architecture.md §14): find
the citizen by ID number, record the mandate with the ID-card check, read one or the office's
list, and end one (supervisors). The citizen confirms it with their own authentication: the SMS
code typed into the counter screen is in idp.services.counter.mandate_confirmation, the
approval on their own phone in idp.services.identity.

Every public function is one transaction; a refusal raises MandateRefusal having written only
its MANDATE_REFUSED audit event (idp.services.counter.mandate_refusals). Another office's
mandate answers `not_found` like an unknown one. Retries are safe (§4): the same mandate made
again by the same staff member within RETRY_WINDOW, or one ended again, is returned unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from idp.domain import mandates as rules
from idp.domain.document_check import DocumentCheck
from idp.domain.errors import N_, DomainError
from idp.domain.national_id import normalize_national_id
from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditTag,
    DocumentType,
    Mandate,
    MandateEnder,
    MandateUse,
    StaffMember,
)
from idp.models.base import utcnow
from idp.services.counter.acting import PUBLIC_ID_RE
from idp.services.counter.citizen_kind import card_problems
from idp.services.counter.mandate_refusals import refuse
from idp.services.counter.mandate_scope import read_duration, read_scope
from idp.services.counter.steps import Page, page_of
from idp.services.identity import acting
from idp.services.platform import audit
from idp.services.platform.secrets import new_public_id
from idp.services.portals import backchannel
from idp.services.standing import delegation

RETRY_WINDOW = timedelta(minutes=10)
PAGE_SIZE = 20
# The verification's wording of these problems ("reject the check") does not fit a mandate.
MANDATE_WORDING = {
    "document.expired": N_("The document has expired: no mandate can be made with it."),
    "document.mismatch": N_("Every item must match the document to make a mandate."),
}


@dataclass(frozen=True)
class MandateRow:
    """A mandate as the supervisor's list shows it: its status now and how often it was used."""

    mandate: Mandate
    status: rules.Status
    uses: int


def find_citizen(staff: StaffMember, national_id: str, *, channel: str = "web",
                 action: str = "lookup") -> Account:
    """The active, verified (LoA2+) account with this ID number, for whom `staff` may make a
    mandate. Refusals: invalid_national_id (400), own_account (403: the staff member's own
    number), citizen_not_found (404), not_verified (409), colleague (403: staff of the same
    office, standing.delegation.is_colleague). The look-up that opens the mandate form
    (`action` "lookup") is audited MANDATE_LOOKUP: staff see a citizen's name and birth date
    by typing a number, so every such look-up is on record."""
    try:
        number = normalize_national_id(national_id if isinstance(national_id, str) else "")
    except DomainError:
        refuse(staff, "invalid_national_id", channel=channel, action=action)
    if number == staff.national_id:
        refuse(staff, "own_account", channel=channel, action=action)
    account = db.session.scalar(select(Account).where(Account.national_id == number))
    if account is None:
        refuse(staff, "citizen_not_found", channel=channel, action=action)
    if account.status is not AccountStatus.ACTIVE or account.identity_loa < 2:
        refuse(staff, "not_verified", channel=channel, action=action, account_id=account.id)
    if delegation.is_colleague(number, staff.office_id):
        refuse(staff, "colleague", channel=channel, action=action, account_id=account.id)
    if action == "lookup":
        audit.record(AuditTag.MANDATE_LOOKUP, account_id=account.id, staff_id=staff.id,
                     office_id=staff.office_id, channel=channel)
        db.session.commit()
    return account


def create_mandate(staff: StaffMember, national_id: str, check: DocumentCheck, *,
                   kinds: list[str], client_ids: list[str], months: int,
                   channel: str = "web") -> Mandate:
    """Record a pending mandate of the citizen with this ID number to `staff`'s office.

    The ID-card check is the verification's (citizen_kind.card_problems: the number is the
    account's, the dates are valid, name, birth date, sex and photo match); the scope is kinds
    of procedure (Procedure values) and/or delegating portals by client id; `months` is 0
    (this visit only) to 12. The mandate stays pending until the citizen confirms it; its
    level is the account's. Audited MANDATE_CREATE. Refusals: those of find_citizen, the
    check's problem codes (400, every problem in `problems`), scope_required,
    invalid_scope, invalid_duration (400). The same mandate made again by the same staff
    member within RETRY_WINDOW, still pending, is returned unchanged."""
    account = find_citizen(staff, national_id, channel=channel, action="create")
    try:
        scope = read_scope(kinds, client_ids)
    except DomainError as error:
        refuse(staff, error.code.removeprefix("mandate."), channel=channel, action="create",
               account_id=account.id)
    try:
        duration = read_duration(months)
    except DomainError:
        refuse(staff, "invalid_duration", channel=channel, action="create",
               account_id=account.id)
    problems = [DomainError(p.code, MANDATE_WORDING.get(p.code, p.message))
                for p in card_problems(account, check)]
    if problems:
        refuse(staff, problems[0].code, channel=channel, action="create", account_id=account.id,
               problems=problems)
    kinds_, client_ids_ = scope
    now = utcnow()
    earlier = _same_mandate_made(staff, account, kinds_, client_ids_, duration.months, check)
    if earlier is not None:
        return earlier
    mandate = Mandate(
        public_id=new_public_id(), account_id=account.id, office_id=staff.office_id,
        created_by_id=staff.id, kinds=kinds_, client_ids=client_ids_, months=duration.months,
        loa=account.identity_loa, document_type=DocumentType(check.document_type),
        document_number=check.document_number, document_issued_on=check.issued_on,
        document_expires_on=check.expires_on, created_at=now,
        expires_at=rules.expires_at(duration, now))
    db.session.add(mandate)
    db.session.flush()
    audit.record(AuditTag.MANDATE_CREATE, account_id=account.id, staff_id=staff.id,
                 office_id=staff.office_id, channel=channel, mandate=mandate.public_id,
                 kinds=kinds_, client_ids=client_ids_, months=duration.months)
    db.session.commit()
    return mandate


def _same_mandate_made(staff: StaffMember, account: Account, kinds: list[str],
                       client_ids: list[str], months: int, check: DocumentCheck) -> Mandate | None:
    """A pending mandate the same staff member made just now with the same data (a double
    click, a lost response): a retry, not a second mandate."""
    recent = db.session.scalars(select(Mandate).where(
        Mandate.account_id == account.id, Mandate.created_by_id == staff.id,
        Mandate.confirmed_at.is_(None), Mandate.revoked_at.is_(None),
        Mandate.created_at > utcnow() - RETRY_WINDOW).order_by(Mandate.id.desc()))
    for mandate in recent:
        if (sorted(mandate.kinds) == sorted(kinds) and sorted(mandate.client_ids) == sorted(client_ids)
                and mandate.months == months and mandate.document_number == check.document_number
                and mandate.document_type.value == check.document_type
                and mandate.document_issued_on == check.issued_on
                and mandate.document_expires_on == check.expires_on):
            return mandate
    return None


def get_mandate(staff: StaffMember, public_id: str, *, channel: str = "web",
                action: str = "view") -> Mandate:
    """A mandate of `staff`'s office, by public id. Refusal: not_found (404: unknown,
    malformed, or another office's)."""
    mandate = None
    # The shape of secrets.new_public_id, checked before any query (a NUL is refused by
    # PostgreSQL text parameters with an error, not a miss).
    if isinstance(public_id, str) and PUBLIC_ID_RE.fullmatch(public_id):
        mandate = db.session.scalar(select(Mandate).where(Mandate.public_id == public_id))
    if mandate is None or mandate.office_id != staff.office_id:
        # Not even the citizen's account is recorded: another office's mandate is none of
        # this office's business.
        refuse(staff, "not_found", channel=channel, action=action)
    return mandate


def uses_of(*mandate_ids: int) -> dict[int, int]:
    """How many times each mandate was used to sign in to a portal."""
    if not mandate_ids:
        return {}
    counts = db.session.execute(
        select(MandateUse.mandate_id, func.count()).where(MandateUse.mandate_id.in_(mandate_ids))
        .group_by(MandateUse.mandate_id)).all()
    return dict.fromkeys(mandate_ids, 0) | {mandate_id: n for mandate_id, n in counts}


def office_mandates(staff: StaffMember, page: int = 1, *, channel: str = "web") -> Page:
    """The office's mandates, newest first, as MandateRow items (status now, uses), for
    supervisors. Refusal: supervisor_only (403)."""
    if not staff.is_supervisor:
        refuse(staff, "supervisor_only", channel=channel, action="list")
    query = select(Mandate).where(Mandate.office_id == staff.office_id)
    result = page_of(query, page, (Mandate.created_at.desc(), Mandate.id.desc()),
                     size=PAGE_SIZE)
    now = utcnow()
    uses = uses_of(*(m.id for m in result.items))
    rows = [MandateRow(m, delegation.status_of(m, now=now), uses[m.id]) for m in result.items]
    return Page(items=rows, page=result.page, pages=result.pages, total=result.total)


def end_mandate(staff: StaffMember, public_id: str, *, channel: str = "web") -> Mandate:
    """A supervisor ends a pending or active mandate of the office: it grants nothing any
    more, every session opened under it ends and its tokens are revoked
    (identity.acting.end_mandate_in_transaction, audited MANDATE_REVOKE); the portals'
    back-channel logouts get a first attempt after the commit. A mandate already ended is
    returned unchanged (a retry, or the citizen revoked it first). Refusals: supervisor_only
    (403), not_found (404), already_ended (409: it has expired)."""
    if not staff.is_supervisor:
        refuse(staff, "supervisor_only", channel=channel, action="end")
    mandate = get_mandate(staff, public_id, channel=channel, action="end")
    status = delegation.status_of(mandate)
    if status is rules.Status.REVOKED:
        return mandate
    if status is rules.Status.EXPIRED:
        refuse(staff, "already_ended", channel=channel, action="end", mandate=mandate,
               mandate_status=status)
    queued = acting.end_mandate_in_transaction(mandate, by=MandateEnder.SUPERVISOR,
                                               staff_id=staff.id, channel=channel)
    if queued is None:  # the citizen (or another supervisor) ended it first
        db.session.rollback()
        db.session.refresh(mandate)
        return mandate
    db.session.commit()
    backchannel.deliver_after_commit(queued)
    return mandate
