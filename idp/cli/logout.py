"""`idp logout deliver`: send pending back-channel logout notices (cron or a loop)."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from idp.services.portals import backchannel


@click.group(help="Back-channel logout notices to partner portals.")
def logout() -> None:
    pass


@logout.command("deliver")
@click.option("--loop", "interval", type=click.IntRange(1, 3600), default=None,
              help="Keep running, checking every N seconds (otherwise one pass).")
@with_appcontext
def deliver(interval: int | None) -> None:
    """Post every due logout token; failures are retried later with back-off."""
    while True:
        sent = backchannel.deliver()
        click.echo(f"delivered {sent} logout notice(s)")
        if interval is None:
            return
        time.sleep(interval)
