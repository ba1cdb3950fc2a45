"""`idp keys ...`: signing-key rotation and listing (docs/architecture.md §5, OIDC Core §10.1.1).

Rotate on a schedule (e.g. monthly) and after any suspected exposure: the NEXT key has then
been in the JWKS for a whole period before it starts signing.
"""

from __future__ import annotations

import json
from datetime import datetime

import click
from flask.cli import with_appcontext

from idp.cli.errors import refuse_idp_error
from idp.errors import IdpError
from idp.models import KeyState, SigningKey
from idp.services.portals import keys as key_service

COLUMNS = ("kid", "alg", "state", "created", "activated", "deactivated", "expires")


@click.group(help="Manage the signing keys of ID tokens and logout tokens.")
def keys() -> None:
    pass


@keys.command("rotate")
@click.option("--alg", type=click.Choice(key_service.ALGORITHMS), default="RS256", show_default=True,
              help="Key ring to rotate.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@with_appcontext
def rotate_command(alg: str, as_json: bool) -> None:
    """Promote NEXT to CURRENT, keep the old CURRENT published until its tokens expire,
    and publish a new NEXT key (an empty ring gets its first CURRENT and NEXT keys)."""
    try:
        new_next = key_service.rotate(alg)
    except IdpError as exc:
        refuse_idp_error(exc)
    current = next((k.kid for k in key_service.list_keys()
                    if k.alg == alg and k.state is KeyState.CURRENT), None)
    if as_json:
        click.echo(json.dumps({"alg": alg, "current": current, "next": new_next.kid}))
    else:
        click.echo(f"{alg}: current {current}, next {new_next.kid}")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (times in ISO 8601, UTC).")
@with_appcontext
def list_command(as_json: bool) -> None:
    """List every signing key, retired ones included."""
    rows = [_summary(key) for key in key_service.list_keys()]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("No signing keys yet; run `idp keys rotate`.")
        return
    table = [COLUMNS] + [tuple(_cell(row[c]) for c in COLUMNS) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    for line in table:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def _summary(key: SigningKey) -> dict[str, str | None]:
    return {
        "kid": key.kid,
        "alg": key.alg,
        "state": key.state.value,
        "created": _iso(key.created_at),
        "activated": _iso(key.activated_at),
        "deactivated": _iso(key.deactivated_at),
        "expires": _iso(key.expires_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _cell(value: str | None) -> str:
    return value if value is not None else "-"


@keys.command("rewrap")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@with_appcontext
def rewrap_command(as_json: bool) -> None:
    """Re-seal under IDP_KEY_ENCRYPTION_KEY every private key and TOTP secret that only
    IDP_KEY_ENCRYPTION_KEY_PREVIOUS opens (docs/operations.md). Safe to run again and while
    the nodes serve. Without a previous key, checks that the current key opens everything.
    Exit 1 if some value opens with neither key."""
    from flask import current_app

    from idp.services.platform import kek_rewrap

    outcomes = kek_rewrap.rewrap_all()
    failed = sum(len(outcome.failed) for outcome in outcomes)
    if as_json:
        click.echo(json.dumps({
            "previous_key_set": bool(current_app.config["IDP_SETTINGS"].key_encryption_key_previous),
            "kinds": [{"name": o.name, "sealed": o.sealed, "resealed": o.resealed,
                       "unreadable_ids": o.failed} for o in outcomes]}))
    else:
        for o in outcomes:
            unreadable = f", {len(o.failed)} open with neither key (ids {o.failed[:10]})" if o.failed else ""
            click.echo(f"{o.name}: {o.sealed} sealed, {o.resealed} re-sealed under the current key"
                       f"{unreadable}")
    if failed:
        click.echo(f"Error: {failed} sealed values open with neither key", err=True)
        raise click.exceptions.Exit(1)
