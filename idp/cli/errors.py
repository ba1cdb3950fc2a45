"""How the CLI reports refused data: one line on stderr, exit code 1."""

from __future__ import annotations

from typing import NoReturn

import click

from idp.errors import IdpError
from idp.settings import SettingsError


def refuse(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(1)


def refuse_idp_error(exc: IdpError) -> NoReturn:
    where = f" ({exc.field})" if exc.field else ""
    refuse(f"{exc.message}{where} [{exc.code}]")


def refuse_settings(exc: SettingsError) -> NoReturn:
    refuse(f"invalid configuration: {exc}")
