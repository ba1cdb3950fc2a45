"""`idp demo seed`: the demo portal and citizen that `make run` shows to newcomers."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from idp.cli.errors import refuse
from idp.services import demo as demo_service
from idp.services import keys


@click.group(help="Demo data for local development.")
def demo() -> None:
    pass


@demo.command("seed")
@with_appcontext
def seed() -> None:
    """Create the demo portal and demo citizen if missing (safe to run again)."""
    settings = current_app.config["IDP_SETTINGS"]
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
    state = "created" if result.client_created else "already present"
    click.echo(f"Demo portal {state}:")
    click.echo(f"  client_id      {demo_service.DEMO_CLIENT_ID}")
    click.echo(f"  client_secret  {demo_service.DEMO_CLIENT_SECRET}")
    click.echo(f"  redirect_uri   {demo_service.DEMO_REDIRECT_URI}")
