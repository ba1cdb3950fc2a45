"""Notifications go through the outbox table (DESIGN §2): written in the caller's transaction,
delivered afterwards. In development and tests the outbox is the fake SMS/e-mail gateway."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idp.extensions import db
from idp.models.notification import Channel, OutboxMessage

if TYPE_CHECKING:
    from idp.models import Account


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


def _deliver(message: OutboxMessage) -> OutboxMessage:
    """Development: the outbox adapter logs it now. Gateway: nothing happens in the request;
    `deliver_pending` (idp outbox deliver) sends committed rows, so no notice goes out for a
    transaction that rolled back and no response waits on, or is timed by, a gateway."""
    from flask import current_app

    from idp.services.notifiers import OutboxNotifier

    settings = current_app.config["IDP_SETTINGS"]
    if settings.notifier == "outbox":
        OutboxNotifier(settings).deliver(message)
    return message


MAX_ATTEMPTS = 10


def deliver_pending(limit: int = 100) -> int:
    """Send committed, unsent messages through the configured gateway; one commit per
    message. Returns how many were sent. A no-op with the outbox notifier."""
    from flask import current_app
    from sqlalchemy import select

    from idp.services.notifiers import GatewayNotifier

    settings = current_app.config["IDP_SETTINGS"]
    if settings.notifier != "gateway":
        return 0
    gateway = GatewayNotifier(settings)
    query = (select(OutboxMessage)
             .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
             .order_by(OutboxMessage.id).limit(limit))
    sent = 0
    for message in db.session.scalars(query).all():
        gateway.deliver(message)
        sent += message.sent_at is not None
        db.session.commit()
    return sent


def send_sms(
    phone: str,
    text: str,
    *,
    template: str,
    account_id: int | None = None,
    locale: str = "vi",
    data: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Write an SMS to the outbox (caller's transaction) and hand it to the configured adapter."""
    return _deliver(enqueue(Channel.SMS, phone, template=template, body=text, locale=locale,
                            account_id=account_id, data=data))


def send_email(
    address: str,
    subject: str,
    text: str,
    *,
    template: str,
    account_id: int | None = None,
    locale: str = "vi",
    data: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Write an e-mail to the outbox (caller's transaction) and hand it to the adapter."""
    return _deliver(enqueue(Channel.EMAIL, address, template=template, body=text, locale=locale,
                            account_id=account_id, data={**(data or {}), "subject": subject}))


def tell_account(account: Account, *, template: str, sms: str, subject: str, body: str) -> None:
    """A security notice on every confirmed channel: the phone, and the e-mail once confirmed
    (an unconfirmed address may not be the person's). Texts already in the account's locale."""
    locale = account.locale or "vi"
    send_sms(account.phone, sms, template=template, account_id=account.id, locale=locale)
    if account.email and account.email_verified_at is not None:
        send_email(account.email, subject, body, template=template, account_id=account.id,
                   locale=locale)
