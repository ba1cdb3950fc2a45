"""`idp staff ...`: counter clerks and supervisors.

The password is read from standard input only (never an argument: it would sit in the shell
history and the process list). `create` and `reset-totp` print a one-time enrolment code: the
supervisor hands it over in person, separately from the password, and the staff member types
it at their first console sign-in before setting up TOTP (the password alone never does).
"""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import with_appcontext

from idp.cli.errors import refuse_idp_error
from idp.cli.users import read_password
from idp.errors import IdpError
from idp.models import StaffMember, StaffRole
from idp.services.staff import admin as staff_service
from idp.services.staff import enrolment as staff_enrolment
from idp.services.staff import passkeys as staff_passkeys


@click.group(help="Manage counter staff (clerks and supervisors).")
def staff() -> None:
    pass


def _code_line(issued: staff_service.StaffWithCode) -> str:
    days = staff_enrolment.CODE_VALIDITY.days
    return (f"Set-up code (enrolment code) for {issued.staff.username}: {issued.enrolment_code} "
            f"(valid {days} days, shown once; the supervisor hands it over in person, separately "
            "from the "
            "password, and it is typed at the first sign-in at /counter/).")


def staff_json(member: StaffMember) -> dict[str, Any]:
    """What an operator needs to see; the staff member's ID number stays in the database."""
    return {
        "id": member.id,
        "username": member.username,
        "full_name": member.full_name,
        "office": member.office.code,
        "role": member.role.value,
        "status": member.status.value,
        "totp_enrolled": member.totp_confirmed_at is not None,
        "created_at": member.created_at.isoformat(),
        "disabled_at": member.disabled_at.isoformat() if member.disabled_at else None,
    }


@staff.command("create")
@click.option("--username", required=True, help="Sign-in name: 3-64 of a-z, 0-9, '.', '_', '-'.")
@click.option("--national-id", required=True, help="The staff member's 12-digit personal ID number.")
@click.option("--full-name", required=True, help="Full name exactly as on the ID card.")
@click.option("--office", "office_code", required=True, help="Code of the post office.")
@click.option("--role", required=True, type=click.Choice([role.value for role in StaffRole]),
              help="clerk checks documents; supervisor also approves.")
@click.option("--password-stdin", is_flag=True,
              help="Read the first password from standard input (required).")
@click.option("--json", "as_json", is_flag=True, help="Print the new staff member as JSON.")
@with_appcontext
def create(username: str, national_id: str, full_name: str, office_code: str, role: str,
           password_stdin: bool, as_json: bool) -> None:
    """Create a staff member and print their one-time enrolment code; with it and the password
    they set up TOTP at their first sign-in at /counter/login."""
    if not password_stdin:
        raise click.UsageError("--password-stdin is required: the password is read from standard input")
    password = read_password()
    details = staff_service.StaffDetails(username=username, national_id=national_id,
                                         full_name=full_name, office_code=office_code, role=role)
    try:
        issued = staff_service.create_staff(details, password, channel="cli")
    except IdpError as exc:
        refuse_idp_error(exc)
    member = issued.staff
    if as_json:
        click.echo(json.dumps(staff_json(member) | {"enrolment_code": issued.enrolment_code},
                              ensure_ascii=False))
    else:
        click.echo(f"Created {member.role.value} {member.username} at {member.office.code}.")
        click.echo(_code_line(issued))


@staff.command("disable")
@click.argument("username")
@with_appcontext
def disable(username: str) -> None:
    """Disable a staff member and end all their sessions now."""
    try:
        member = staff_service.disable_staff(username, channel="cli")
    except IdpError as exc:
        refuse_idp_error(exc)
    click.echo(f"Disabled {member.username}; their sessions have ended.")


@staff.command("reset-totp")
@click.argument("username")
@with_appcontext
def reset_totp(username: str) -> None:
    """Forget the staff member's authenticator (lost phone) or unfinished set-up and print a
    new enrolment code; they set up TOTP again with it at the next sign-in. Their sessions end
    now."""
    try:
        issued = staff_service.reset_staff_totp(username, channel="cli")
    except IdpError as exc:
        refuse_idp_error(exc)
    click.echo(f"Authenticator of {issued.staff.username} removed; their sessions have ended.")
    click.echo(_code_line(issued))


@staff.command("remove-passkeys")
@click.argument("username")
@with_appcontext
def remove_passkeys(username: str) -> None:
    """Remove every passkey of the staff member (lost security key or phone) and end their
    sessions. Their TOTP stays: in an office that requires passkeys they sign in with a code
    and add a new passkey before anything else."""
    try:
        member, removed = staff_passkeys.remove_all(username, channel="cli")
    except IdpError as exc:
        refuse_idp_error(exc)
    click.echo(f"{removed} passkey(s) of {member.username} removed; their sessions have ended.")


@staff.command("list")
@click.option("--office", "office_code", default=None, help="Only the staff of this office.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@with_appcontext
def list_command(office_code: str | None, as_json: bool) -> None:
    """List staff by username."""
    try:
        rows = staff_service.list_staff(office_code)
    except IdpError as exc:
        refuse_idp_error(exc)
    if as_json:
        click.echo(json.dumps([staff_json(member) for member in rows], ensure_ascii=False))
        return
    if not rows:
        click.echo("No staff.")
    for member in rows:
        totp = "totp" if member.totp_confirmed_at else "no-totp"
        click.echo(f"{member.username:<24}  {member.office.code:<16}  {member.role.value:<10}  "
                   f"{member.status.value:<8}  {totp:<7}  {member.full_name}")


__all__ = ["staff"]
