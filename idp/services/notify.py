"""Notifications go through the outbox table (DESIGN §2): written in the caller's transaction,
delivered afterwards. In development and tests the outbox is the fake SMS/e-mail gateway."""

from __future__ import annotations

from typing import Any

from idp.extensions import db
from idp.models.notification import Channel, OutboxMessage


def enqueue(
    channel: Channel,
    recipient: str,
    *,
    template: str,
    body: str,
    locale: str = "vi",
    account_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Add a message to the caller's transaction; it is sent only if that transaction commits."""
    message = OutboxMessage(
        channel=channel,
        recipient=recipient,
        template=template,
        body=body,
        locale=locale,
        account_id=account_id,
        data=data or {},
    )
    db.session.add(message)
    return message
