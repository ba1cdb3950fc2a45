"""Notifications go through the outbox table (docs/architecture.md §12): written in the caller's transaction,
delivered afterwards. In development and tests the outbox is the fake SMS/e-mail gateway.
Every SMS passes the limits of `sms_limits` first; a refused one is not written (audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idp.extensions import db
from idp.models.base import utcnow
from idp.models.notification import Channel, OutboxMessage
from idp.services.platform.metrics import BACKLOG_CAP, Backlog
from idp.settings import current_settings

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
    national_id: str | None = None,
    asker: str = "stranger",
) -> OutboxMessage | None:
    """Add a message to the caller's transaction; it is sent only if that transaction commits.

    An SMS over a limit (sms_limits) is not added: None, and an audit event without the number.
    `national_id` is the ID number the SMS is about when no account is (a registration);
    `asker` who caused it, for the budget it counts in (sms_limits)."""
    stand_in = bool((data or {}).get("stand_in"))
    if channel is Channel.SMS and _suppressed(recipient, template, account_id, national_id,
                                              stand_in, asker):
        return None
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


def _suppressed(phone: str, template: str, account_id: int | None,
                national_id: str | None, stand_in: bool, asker: str) -> bool:
    from idp.models import Account, AuditTag
    from idp.services.platform import audit, sms_limits

    if national_id is None and account_id is not None:
        account = db.session.get(Account, account_id)
        national_id = account.national_id if account is not None else None
    budget = sms_limits.admit(phone, template=template, national_id=national_id,
                              stand_in=stand_in, asker=asker)
    if budget is None:
        return False
    audit.record(AuditTag.NOTIFY_SMS_SUPPRESSED, account_id=account_id, template=template,
                 limit=budget)
    return True


def discard(messages: list[OutboxMessage | None]) -> None:
    """Delete stand-in messages written only to do the same work as a real send (recovery).
    One DELETE whether or not there is anything to delete, so both paths run the same SQL."""
    from sqlalchemy import delete

    db.session.flush()
    ids = [message.id for message in messages if message is not None]
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids))
                       .execution_options(synchronize_session=False))
    for message in messages:
        if message is not None:
            db.session.expunge(message)


def _deliver(message: OutboxMessage | None) -> OutboxMessage | None:
    """Development: the outbox adapter logs it now. Gateway: nothing happens in the request;
    `deliver_pending` (idp outbox deliver) sends committed rows, so no notice goes out for a
    transaction that rolled back and no response waits on, or is timed by, a gateway."""
    from idp.services.platform.notifiers import OutboxNotifier

    settings = current_settings()
    # A stand-in (see discard) is deleted before the commit: never logged as if sent.
    if message is not None and settings.notifier == "outbox" and not message.data.get("stand_in"):
        OutboxNotifier(settings).deliver(message)
    return message


MAX_ATTEMPTS = 10


def deliver_pending(limit: int = 100) -> int:
    """Send committed, unsent messages through the configured gateway; one commit per
    message. Returns how many were sent. A no-op with the outbox notifier."""
    from sqlalchemy import select

    from idp.services.platform.notifiers import GatewayNotifier

    settings = current_settings()
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
        done = message.sent_at is not None or message.attempts >= MAX_ATTEMPTS
        if done and (message.data or {}).get(ERASE_AFTER_SEND):
            _blank(message)
        db.session.commit()
    return sent


def backlog() -> Backlog:
    """Messages waiting for the gateway (counted up to BACKLOG_CAP, along the `sent_at` index)
    and the age of the oldest; none with the outbox twin, whose row is the delivery. Reads in
    the caller's transaction."""
    from sqlalchemy import func, select

    if current_settings().notifier != "gateway":
        return Backlog(0, 0.0)
    waiting = (select(OutboxMessage.created_at)
               .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
               .limit(BACKLOG_CAP).subquery())
    count, oldest = db.session.execute(select(func.count(), func.min(waiting.c.created_at))).one()
    return Backlog.of(count, oldest, utcnow())


# A message of a deleted account: its number or address and its text are erased once it was
# delivered (or given up), so the account's deletion notice still reaches the person.
ERASE_AFTER_SEND = "erase_after_send"
ERASED: dict[str, Any] = {"erased": True}


def _blank(message: OutboxMessage) -> None:
    message.recipient = ""
    message.body = ""
    message.data = dict(ERASED)
    message.last_error = None


def forget_account_messages(account_id: int, addresses: list[str]) -> int:
    """At the deletion of an account, in the caller's transaction: blank the number or address
    and the text of every message it was sent (and of those sent to its phone or e-mail before
    the account existed: the registration code); one still waiting for the gateway is marked
    to be blanked as soon as it is delivered. The outbox twin (IDP_NOTIFIER=outbox) has
    nothing waiting: its row is the delivery. Returns how many were blanked now."""
    from sqlalchemy import and_, or_, select

    theirs = or_(OutboxMessage.account_id == account_id,
                 and_(OutboxMessage.account_id.is_(None), OutboxMessage.recipient.in_(addresses)))
    gateway = current_settings().notifier == "gateway"
    blanked = 0
    for message in db.session.scalars(select(OutboxMessage).where(theirs)).all():
        if message.recipient == "" and message.body == "":
            continue
        if gateway and message.sent_at is None and message.attempts < MAX_ATTEMPTS:
            message.data = {**(message.data or {}), ERASE_AFTER_SEND: True}
        else:
            _blank(message)
            blanked += 1
    return blanked


def send_sms(
    phone: str,
    text: str,
    *,
    template: str,
    account_id: int | None = None,
    locale: str = "vi",
    data: dict[str, Any] | None = None,
    national_id: str | None = None,
    asker: str = "stranger",
) -> OutboxMessage | None:
    """Write an SMS to the outbox (caller's transaction) and hand it to the configured adapter;
    None when a limit refused it (see enqueue)."""
    return _deliver(enqueue(Channel.SMS, phone, template=template, body=text, locale=locale,
                            account_id=account_id, data=data, national_id=national_id,
                            asker=asker))


def send_email(
    address: str,
    subject: str,
    text: str,
    *,
    template: str,
    account_id: int | None = None,
    locale: str = "vi",
    data: dict[str, Any] | None = None,
) -> OutboxMessage | None:
    """Write an e-mail to the outbox (caller's transaction) and hand it to the adapter."""
    return _deliver(enqueue(Channel.EMAIL, address, template=template, body=text, locale=locale,
                            account_id=account_id, data={**(data or {}), "subject": subject}))


def tell_account(account: Account, *, template: str, sms: str, subject: str, body: str,
                 data: dict[str, Any] | None = None) -> None:
    """A security notice on every confirmed channel: the phone, and the e-mail once confirmed
    (an unconfirmed address may not be the person's). Texts already in the account's locale."""
    locale = account.locale or "vi"
    send_sms(account.own_phone, sms, template=template, account_id=account.id, locale=locale,
             data=data)
    if account.email and account.email_verified_at is not None:
        send_email(account.email, subject, body, template=template, account_id=account.id,
                   locale=locale, data=data)
