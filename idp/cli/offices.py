"""`idp offices ...`: the post offices where counter staff work (the console's tenants)."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import with_appcontext

from idp.cli.errors import refuse_idp_error
from idp.domain.admin_units import province_name
from idp.errors import IdpError
from idp.models import PostOffice
from idp.services.staff import offices as office_service


@click.group(help="Manage post offices.")
def offices() -> None:
    pass


def office_json(office: PostOffice) -> dict[str, Any]:
    return {
        "id": office.id,
        "code": office.code,
        "name": office.name,
        "province_code": office.province_code,
        "province": province_name(office.province_code),
        "created_at": office.created_at.isoformat(),
        "passkeys_required": office.passkeys_required,
    }


@offices.command("create")
@click.option("--code", required=True, help="Office code: 2-16 of A-Z, 0-9, '-' (stored upper case).")
@click.option("--name", required=True, help="Office name, 1-100 characters.")
@click.option("--province", required=True,
              help="2-digit code of one of the 34 provinces and cities (since 1 Jul 2025), e.g. 01.")
@click.option("--json", "as_json", is_flag=True, help="Print the new office as one JSON object.")
@with_appcontext
def create(code: str, name: str, province: str, as_json: bool) -> None:
    """Create a post office."""
    try:
        office = office_service.create_office(code, name, province, channel="cli")
    except IdpError as exc:
        refuse_idp_error(exc)
    if as_json:
        click.echo(json.dumps(office_json(office), ensure_ascii=False))
    else:
        click.echo(f"Created post office {office.code} ({office.name}).")


@offices.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@with_appcontext
def list_command(as_json: bool) -> None:
    """List post offices by code."""
    rows = office_service.list_offices()
    if as_json:
        click.echo(json.dumps([office_json(office) for office in rows], ensure_ascii=False))
        return
    if not rows:
        click.echo("No post offices.")
    for office in rows:
        passkeys = "  [passkeys required]" if office.passkeys_required else ""
        click.echo(f"{office.code:<16}  {office.province_code}  {office.name}{passkeys}")


@offices.command("set-passkeys-required")
@click.argument("code")
@click.argument("setting", type=click.Choice(["on", "off"]))
@with_appcontext
def set_passkeys_required(code: str, setting: str) -> None:
    """Require passkeys for the office's staff (on), or accept TOTP again (off).

    When on, the console's second step takes only a passkey (a staff member without one signs
    in with TOTP once and must add one before anything else) and the terminal API refuses
    sign-in, since it cannot run WebAuthn."""
    try:
        office = office_service.set_passkeys_required(code, setting == "on", channel="cli")
    except IdpError as exc:
        refuse_idp_error(exc)
    state = "required" if office.passkeys_required else "not required"
    click.echo(f"Passkeys are {state} for the staff of {office.code}.")


__all__ = ["offices"]
