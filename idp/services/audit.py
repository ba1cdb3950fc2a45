"""Audit trail. `record` adds an event to the caller's transaction, so the event is stored
exactly when the action it describes is. Events carry ids and codes, not personal data."""

from __future__ import annotations

from typing import Any

from idp.extensions import db
from idp.models.audit import AuditEvent, AuditTag


def record(
    tag: AuditTag,
    *,
    account_id: int | None = None,
    actor_id: int | None = None,
    session_id: int | None = None,
    channel: str = "web",
    **data: Any,
) -> AuditEvent:
    event = AuditEvent(
        tag=tag.value,
        account_id=account_id,
        actor_id=actor_id,
        session_id=session_id,
        channel=channel,
        data=data,
    )
    db.session.add(event)
    return event
