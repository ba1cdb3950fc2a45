"""`idp outbox list`: the newest notifications (development: where demo OTPs are read)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from idp.extensions import db
from idp.models.notification import OutboxMessage


@click.group(help="Notifications written to the outbox (SMS and e-mail).")
def outbox() -> None:
    pass


@outbox.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of text.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many of the newest messages.")
@with_appcontext
def list_messages(as_json: bool, limit: int) -> None:
    """Newest first: time, channel, recipient, template and the full text (codes included)."""
    rows = list(db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)))
    if as_json:
        click.echo(json.dumps([
            {"id": m.id, "created_at": m.created_at.isoformat(), "channel": m.channel.value,
             "recipient": m.recipient, "template": m.template, "locale": m.locale,
             "body": m.body, "sent_at": m.sent_at.isoformat() if m.sent_at else None}
            for m in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("The outbox is empty.")
        return
    for m in rows:
        click.echo(f"#{m.id} {m.created_at:%Y-%m-%d %H:%M:%S} {m.channel.value} to {m.recipient} "
                   f"[{m.template}]")
        for line in m.body.splitlines():
            click.echo(f"    {line}")


@outbox.command("deliver")
@click.option("--loop", "interval", type=click.IntRange(1, 3600), default=None,
              help="Keep running, checking every N seconds (otherwise one pass).")
@with_appcontext
def deliver(interval: int | None) -> None:
    """Send pending SMS and e-mail through the gateway (IDP_NOTIFIER=gateway)."""
    import time

    from idp.services.platform import notify

    while True:
        click.echo(f"sent {notify.deliver_pending()} message(s)")
        if interval is None:
            return
        time.sleep(interval)
