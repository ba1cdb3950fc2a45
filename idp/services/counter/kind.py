"""The description of a kind of counter check: what the one counter workflow
(idp.services.counter.workflow) needs to know to run a citizen's identity check
(idp.services.counter.citizen_kind) or an organisation's (idp.services.counter.organisation_kind).

The workflow owns the order of every step, the four-eyes rules, the refusals and the
conditional status changes; a description only says what differs: the record's model, whose
account it concerns, its audit tags and wording, what the clerk checks, and what a decision does
to the account or the organisation and tells its owner. A rejection changes neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from idp.domain.errors import DomainError
from idp.models import (
    Account,
    AuditTag,
    IdentityVerification,
    OrganisationVerification,
    RejectReason,
    StaffMember,
)
from idp.services.counter.refusals import CounterRefusal

Verification = IdentityVerification | OrganisationVerification
# The record of one kind: the workflow returns the kind's own model, not either of them.
V = TypeVar("V", bound=Verification)


@dataclass(frozen=True)
class AuditTags:
    """The audit event of each step of one kind of check."""

    refused: AuditTag
    view: AuditTag
    submit: AuditTag
    approve: AuditTag
    reject: AuditTag
    revoke: AuditTag


@dataclass(frozen=True)
class CheckKind(Generic[V]):
    """One kind of counter check. The callables take the kind's own record (and, for the clerk's
    check, its own check: idp.domain.document_check.DocumentCheck or
    idp.domain.business_check.BusinessCheck); they run inside the workflow's transaction."""

    # The record and how refusals are worded (same codes and statuses for every kind).
    model: type[V]
    refusal: type[CounterRefusal]
    tags: AuditTags
    # The record's relationship to its owner, loaded with the rows of the supervisor's lists.
    owner: Any
    # The account its audit events are about: the citizen's, or the representative's.
    account_id: Callable[[Any], int]
    # The public ids its audit events name besides the verification's (the organisation's).
    audit_ids: Callable[[Any], dict[str, Any]]
    # The account that must not be disabled for the check to be submitted or approved.
    account: Callable[[Any], Account]
    # The staff member is the owner, or close enough to it to be barred (403 own_account).
    is_own: Callable[[StaffMember, Any], bool]
    # Whether the owner (by the id in the model's live_key) still exists; None: it always does.
    owner_exists: Callable[[int], bool] | None
    # The clerk's check: its problems against the record's owner (none: it can be submitted),
    # the columns it sets, and what its audit event says of it.
    problems: Callable[[Any, Any], list[DomainError]]
    check_values: Callable[[StaffMember, Any, datetime], dict[str, Any]]
    submit_audit: Callable[[Any], dict[str, Any]]
    # What a decision does to the account or the organisation, in the decision's transaction:
    # approval (given its time) returns what its audit event adds; revocation returns the
    # back-channel logouts to attempt after the commit.
    approved: Callable[[Any, datetime], dict[str, Any]]
    revoked: Callable[[Any], list[int]]
    # The notices to the owner, in their language.
    notify_approved: Callable[[Any], None]
    notify_rejected: Callable[[Any, RejectReason], None]
    notify_revoked: Callable[[Any], None]

    def owner_id(self, verification: V) -> int:
        """The id of the record's owner (account or organisation)."""
        owner_id: int = getattr(verification, self.model.live_key[1])
        return owner_id
