"""`idp keys ...`: signing-key rotation and listing (filled in by the keys work)."""

import click


@click.group(help="Manage the signing keys of ID tokens and logout tokens.")
def keys() -> None:
    pass
