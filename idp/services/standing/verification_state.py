"""The one place a verification's status changes (docs/architecture.md §4: domain state changes only
through its service). Every change is a conditional UPDATE on the expected status, so of two
concurrent actions on one verification exactly one wins; the loser sees `False` and reports
what the record now is. `live_account_id` follows the status, so the unique index keeps at
most one pending-or-submitted verification per account.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import update

from idp.extensions import db, rowcount
from idp.models import (
    AuditTag,
    IdentityVerification,
    OrganisationVerification,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.models.verification import LIVE_STATUSES
from idp.services.platform import audit


def transition(verification: IdentityVerification | OrganisationVerification,
               expected: VerificationStatus | Iterable[VerificationStatus],
               new: VerificationStatus, **values: Any) -> bool:
    """Move a citizen's or an organisation's verification from one of `expected` to `new`,
    setting `values` too, in the caller's transaction. True if this call made the change;
    False if the record was no longer in an expected status (someone else acted first).
    Reloads the object either way. The record's `live_key` column follows the status."""
    expected_set = (expected,) if isinstance(expected, VerificationStatus) else tuple(expected)
    model = type(verification)
    live_column, owner_column = model.live_key
    live = getattr(verification, owner_column) if new in LIVE_STATUSES else None
    result = db.session.execute(
        update(model)
        .where(model.id == verification.id, model.status.in_(expected_set))
        .values(status=new, version=model.version + 1, **{live_column: live}, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(verification)
    return rowcount(result) == 1


def expire_if_due(verification: IdentityVerification | OrganisationVerification, *,
                  channel: str = "web") -> bool:
    """A pending code past its expiry becomes `expired` (lazily, when next looked at), with
    its audit event. True if it is (now) expired. Caller commits."""
    status = verification.status  # transition() below reloads the record's own
    if status is VerificationStatus.EXPIRED:
        return True
    if status is not VerificationStatus.PENDING or verification.expires_at > utcnow():
        return False
    if transition(verification, VerificationStatus.PENDING, VerificationStatus.EXPIRED):
        if isinstance(verification, OrganisationVerification):
            audit.record(AuditTag.ORGANISATION_VERIFICATION_EXPIRE,
                         account_id=verification.requested_by, channel=channel,
                         organisation=verification.organisation.public_id,
                         verification=verification.public_id)
        else:
            audit.record(AuditTag.VERIFICATION_EXPIRE, account_id=verification.account_id,
                         channel=channel, verification=verification.public_id)
    return verification.status is VerificationStatus.EXPIRED
