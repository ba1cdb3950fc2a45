"""`idp users ...`: account administration."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click
from flask.cli import with_appcontext

from idp.cli.errors import refuse, refuse_idp_error
from idp.errors import IdpError
from idp.services.identity.accounts import CitizenDetails, create_citizen

MAX_PASSWORD_BYTES = 4096


@click.group(help="Manage citizen accounts.")
def users() -> None:
    pass


@users.command("create-citizen")
@click.option("--national-id", required=True, help="12-digit personal ID number (CCCD).")
@click.option("--full-name", required=True, help="Full name exactly as on the ID card.")
@click.option("--birthdate", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Date of birth, YYYY-MM-DD.")
@click.option("--gender", required=True, type=click.Choice(["male", "female"]),
              help="Sex as on the ID card.")
@click.option("--phone", required=True, help="Vietnamese mobile number, e.g. 0912345678.")
@click.option("--email", default=None, help="E-mail address (optional).")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input (required; never pass it as an argument).")
@click.option("--json", "as_json", is_flag=True, help="Print the new account as one JSON object.")
@with_appcontext
def create_citizen_command(
    national_id: str, full_name: str, birthdate: datetime, gender: str, phone: str,
    email: str | None, password_stdin: bool, as_json: bool,
) -> None:
    """Create an active citizen account (level of assurance 1) with a password."""
    if not password_stdin:
        raise click.UsageError("--password-stdin is required: the password is read from standard input")
    password = read_password()
    details = CitizenDetails(
        national_id=national_id, full_name=full_name, birthdate=birthdate.date(),
        gender=gender, phone=phone, email=email,
    )
    try:
        account = create_citizen(details, password, channel="cli")
    except IdpError as exc:
        refuse_idp_error(exc)
    summary = {
        "id": account.id,
        "sub": account.sub,
        "national_id": account.national_id,
        "full_name": account.full_name,
        "phone": account.phone,
        "email": account.email,
        "created_at": account.created_at.isoformat(),
    }
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        click.echo(f"Created citizen account {account.id} (sub {account.sub}).")


def read_password() -> str:
    """The first line of stdin, without its line ending; other whitespace is part of it."""
    raw = sys.stdin.buffer.read(MAX_PASSWORD_BYTES + 1)
    if len(raw) > MAX_PASSWORD_BYTES:
        refuse("the password on standard input is too long")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        refuse("the password on standard input is not UTF-8")
    line = text.split("\n", 1)[0].removesuffix("\r")
    if not line:
        raise click.UsageError("no password on standard input (pipe it in, e.g. with printf)")
    return line


__all__ = ["users"]
