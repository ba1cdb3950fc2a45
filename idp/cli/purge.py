"""`idp purge`: delete what the privacy notice says is kept no longer (run it daily)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from idp.services import retention
from idp.settings import current_settings


@click.command(help="Delete registrations older than IDP_REGISTRATION_RETENTION_DAYS (30) and "
                    "SMS/e-mail messages older than IDP_MESSAGE_RETENTION_DAYS (365), as the "
                    "privacy notice states. Idempotent; run it daily.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of text.")
@with_appcontext
def purge(as_json: bool) -> None:
    settings = current_settings()
    done = retention.purge()
    if as_json:
        click.echo(json.dumps({"registrations": done.registrations, "messages": done.messages,
                               "ceremonies": done.ceremonies}))
        return
    click.echo(f"deleted {done.registrations} registration(s) older than "
               f"{settings.registration_retention_days} days and {done.messages} message(s) "
               f"older than {settings.message_retention_days} days, and {done.ceremonies} "
               f"expired passkey ceremony(ies)")
