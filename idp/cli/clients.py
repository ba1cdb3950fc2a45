"""`idp clients ...`: partner-portal registration (filled in by the clients work)."""

import click


@click.group(help="Register and manage partner portals (OIDC clients).")
def clients() -> None:
    pass
