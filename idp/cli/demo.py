"""`idp demo seed`: the demo portal and citizen that `make run` shows to newcomers."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from idp.cli.errors import refuse
from idp.services import demo as demo_service
from idp.services.portals import keys
from idp.settings import current_settings


@click.group(help="Demo data for local development.")
def demo() -> None:
    pass


@demo.command("seed")
@with_appcontext
def seed() -> None:
    """Create the demo portal and demo citizen if missing (safe to run again)."""
    settings = current_settings()
    if settings.is_production:
        refuse("demo data is never seeded in production")
    result = demo_service.seed_demo()
    keys.ensure_keys()  # signing keys exist before the first sign-in, not during it
    citizen = demo_service.DEMO_CITIZEN
    state = "created" if result.citizen_created else "already present"
    click.echo(f"Demo citizen {state}:")
    click.echo(f"  sign in at     {settings.issuer}/login")
    click.echo(f"  ID number      {citizen.national_id}   (or phone {citizen.phone})")
    click.echo(f"  password       {demo_service.DEMO_PASSWORD}")
    colleague = demo_service.DEMO_COLLEAGUE
    click.echo(f"  a colleague    {colleague.full_name}, ID number {colleague.national_id}, same "
               "password, verified at the demo post office (invite them to a company)")
    state = "created" if result.client_created else "already present"
    click.echo(f"Demo portal {state}:")
    click.echo(f"  client_id      {demo_service.DEMO_CLIENT_ID}")
    click.echo(f"  client_secret  {demo_service.DEMO_CLIENT_SECRET}")
    click.echo(f"  redirect_uri   {demo_service.DEMO_REDIRECT_URI}")
    state = "created" if demo_service.seed_demo_counter() else "already present"
    office = demo_service.DEMO_OFFICE
    click.echo(f"Demo post office {office[0]} ({office[1]}) {state}:")
    click.echo(f"  counter        {settings.issuer}/counter/")
    for member in (demo_service.DEMO_CLERK, demo_service.DEMO_SUPERVISOR):
        click.echo(f"  {member.role:<14} {member.username} / {demo_service.DEMO_STAFF_PASSWORD}")
    click.echo(f"  set-up code    {demo_service.DEMO_SETUP_CODE}   (asked once, at the first sign-in, "
               "before the authenticator app is set up)")
    click.echo("  second factor  set up at first sign-in with any authenticator app; once the set-up")
    click.echo("                 page shows the key, print the current code with:")
    click.echo("                 .venv/bin/idp demo totp USERNAME")


@demo.command("totp")
@click.argument("who")
@with_appcontext
def totp(who: str) -> None:
    """Print the current authenticator code of a staff USERNAME or a citizen's ID number.

    Development only: it stands in for an authenticator app while trying the demo, and works
    as soon as the set-up page has shown the key, i.e. after the set-up code was typed at the
    first sign-in (before the key is confirmed)."""
    settings = current_settings()
    if settings.is_production:
        refuse("authenticator codes are never printed in production")
    code = demo_service.current_totp_code(who)
    if code is None:
        refuse("no authenticator key for that staff username or ID number yet: staff get one at "
               "their first sign-in at /counter/, once the set-up code is typed")
    click.echo(code)
