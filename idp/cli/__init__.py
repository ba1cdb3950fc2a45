"""The `idp` admin command line.

Exit codes: 0 success, 1 the data was refused (nothing written), 2 usage error (Click's own).
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo
from flask_migrate.cli import db as db_group
from sqlalchemy.exc import SQLAlchemyError

from idp.cli.audit import audit
from idp.cli.clients import clients
from idp.cli.demo import demo
from idp.cli.errors import refuse, refuse_settings
from idp.cli.keys import keys
from idp.cli.logout import logout
from idp.cli.offices import offices
from idp.cli.outbox import outbox
from idp.cli.purge import purge
from idp.cli.serve import serve
from idp.cli.staff import staff
from idp.cli.users import users


def _create_app() -> Flask:
    from idp import create_app
    from idp.settings import SettingsError

    try:
        return create_app()
    except SettingsError as exc:
        refuse_settings(exc)


class IdpGroup(click.Group):
    """Turns database failures in any subcommand into one line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
            refuse(f"database error ({type(cause).__name__}: {first_line}); "
                   "is the database reachable and migrated (idp db upgrade)?")


@click.group(cls=IdpGroup, help="PostID identity provider: administration commands.")
@click.version_option(package_name="postid", prog_name="idp")
def cli() -> None:
    pass


cli.add_command(db_group, "db")
cli.add_command(users)
cli.add_command(serve)
cli.add_command(demo)
cli.add_command(keys)
cli.add_command(clients)
cli.add_command(logout)
cli.add_command(outbox)
cli.add_command(offices)
cli.add_command(staff)
cli.add_command(audit)
cli.add_command(purge)


def main() -> None:
    # Commands that need the application build it lazily through ScriptInfo (Flask's
    # with_appcontext), so `idp --help` works without a database or settings.
    cli.main(obj=ScriptInfo(create_app=_create_app, set_debug_flag=False), prog_name="idp")
