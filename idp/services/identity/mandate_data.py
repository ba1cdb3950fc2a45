"""A citizen's mandates in their data export and at account deletion (idp.services.account_data,
docs/architecture.md §12): what they let which post office do and every use; at deletion every
mandate still granting ends and the ID-card number recorded at the counter is erased; every link
as a child's guardian ends."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from idp.extensions import db
from idp.models import (
    AuditTag,
    Guardianship,
    Mandate,
    MandateEnder,
    MandateUse,
    OAuthClient,
    PostOffice,
)
from idp.models.base import utcnow
from idp.services.identity import acting
from idp.services.platform import audit
from idp.services.platform.clock import iso

GUARDIAN_DELETED = "guardian_deleted"


def export_rows(account_id: int) -> list[dict[str, Any]]:
    """Each mandate with its scope, dates, how it was confirmed or ended and its uses. Not the
    staff members' identities (they act for their office), as for verifications."""
    mandates = db.session.execute(
        select(Mandate, PostOffice.code).join(PostOffice, PostOffice.id == Mandate.office_id)
        .where(Mandate.account_id == account_id).order_by(Mandate.id)).all()
    uses: dict[int, list[dict[str, Any]]] = {}
    for mandate_id, client_id, used_at in db.session.execute(
            select(MandateUse.mandate_id, OAuthClient.client_id, MandateUse.used_at)
            .join(OAuthClient, OAuthClient.id == MandateUse.client_pk)
            .where(MandateUse.mandate_id.in_([m.id for m, _ in mandates]))
            .order_by(MandateUse.id)).all():
        uses.setdefault(mandate_id, []).append({"portal": client_id, "used_at": iso(used_at)})
    return [
        {"id": m.public_id, "office": office_code, "kinds": list(m.kinds or []),
         "portals": list(m.client_ids or []), "months": m.months, "loa": m.loa,
         "made_at": iso(m.created_at), "expires_at": iso(m.expires_at),
         "confirmed_at": iso(m.confirmed_at),
         "confirmed_by": m.confirmed_by.value if m.confirmed_by else None,
         "ended_at": iso(m.revoked_at), "ended_by": m.revoked_by.value if m.revoked_by else None,
         "document_type": m.document_type.value, "document_number": m.document_number,
         "document_issued_on": iso(m.document_issued_on),
         "document_expires_on": iso(m.document_expires_on),
         "uses": uses.get(m.id, [])}
        for m, office_code in mandates
    ]


def erase_for_deletion_in_transaction(account_id: int, *, placeholder_number: str) -> list[int]:
    """Account deletion, in the caller's transaction: every mandate not yet ended ends (by the
    system, audited, with its sessions), and each keeps its office, scope and dates (the staff's
    accountability) but not the ID-card number, which becomes ``placeholder_number``. Returns
    the back-channel deliveries queued for sessions still live."""
    queued: list[int] = []
    for mandate in db.session.scalars(select(Mandate).where(Mandate.account_id == account_id,
                                                            Mandate.revoked_at.is_(None))).all():
        queued += acting.end_mandate_in_transaction(mandate, by=MandateEnder.SYSTEM) or []
    db.session.execute(update(Mandate).where(Mandate.account_id == account_id)
                       .values(document_number=placeholder_number)
                       .execution_options(synchronize_session=False))
    return queued + _end_guardianships(account_id)


def _end_guardianships(guardian_id: int) -> list[int]:
    """The deleted account's links as a guardian end (`guardian_deleted`) with the sessions
    opened through them, so that they no longer count towards the child's two guardians."""
    now = utcnow()
    queued: list[int] = []
    for link in db.session.scalars(select(Guardianship).where(
            Guardianship.guardian_account_id == guardian_id,
            Guardianship.ended_at.is_(None))).all():
        link.ended_at, link.end_reason = now, GUARDIAN_DELETED
        queued += acting.end_guardian_sessions_in_transaction(link, reason=GUARDIAN_DELETED)
        audit.record(AuditTag.GUARDIAN_LINK_END, account_id=link.child_account_id,
                     actor_id=guardian_id, guardianship=link.public_id, reason=GUARDIAN_DELETED)
    return queued
