"""`idp clients ...`: register and manage partner portals (OIDC clients).

A client secret is printed exactly once, by `create` or `rotate-secret`; the database keeps
only its SHA-256, and `list` / `show` never print a secret or its hash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from idp.cli.errors import refuse, refuse_idp_error
from idp.domain.procedures import PORTAL_KINDS
from idp.errors import IdpError, InvalidInput
from idp.models import ClaimsProfile, ClientAuthMethod, OAuthClient, SubjectType
from idp.oidc.claims import ACR_ALIASES, LOA_ACR, PHISHING_RESISTANT, level_of
from idp.services.platform.clock import iso
from idp.services.portals import clients as client_service
from idp.services.portals.client_metadata import ID_TOKEN_ALGS

MAX_JWKS_FILE_BYTES = 64 * 1024
ONCE = "Store the client_secret now: it is shown only this once (lost? use rotate-secret)."
# LoA1/LoA2/LoA3 in any case, or the URNs (docs/architecture.md §9).
ACR_CHOICE = click.Choice([*ACR_ALIASES, *LOA_ACR.values(), PHISHING_RESISTANT],
                          case_sensitive=False)
ACR_HELP = ("Lowest level of assurance accepted: LoA1, LoA2, LoA3 or the urn:vn:postid:loa:N "
            f"value; with {PHISHING_RESISTANT} (repeat the option) every sign-in must also be "
            "made with a passkey.")
PROFILE_CHOICE = click.Choice([profile.value for profile in ClaimsProfile], case_sensitive=False)
PROFILE_HELP = ("standard: OIDC claims only; dvcqg: also the National Public Service Portal claim "
                "names (docs/claims-dvcqg.md).")
PROCEDURE_HELP = ("A kind of procedure the portal serves, which mandates name (repeatable): "
                  + ", ".join(kind.value for kind in PORTAL_KINDS) + ".")
SERVICE_SCOPE_HELP = ("Space-separated scopes the portal's back end may ask for itself with the "
                      "client_credentials grant (RFC 6749 §4.4); empty: not allowed. Never a "
                      "person's scope (openid, profile, email, ...).")


@click.group(help="Register and manage partner portals (OIDC clients).")
def clients() -> None:
    pass


@clients.command("create")
@click.option("--name", required=True, help="Portal name shown to citizens (1-100 characters).")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True,
              help="Exact redirect URI (https; http only on 127.0.0.1/localhost). Repeatable.")
@click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True,
              help="Exact URI to return to after logout. Repeatable.")
@click.option("--backchannel-logout-uri", help="Back-channel logout endpoint of the portal.")
@click.option("--scope", default="openid profile", show_default=True,
              help="Space-separated scopes the portal may request; must include openid.")
@click.option("--auth-method", default=ClientAuthMethod.CLIENT_SECRET_BASIC.value, show_default=True,
              type=click.Choice([method.value for method in ClientAuthMethod]),
              help="Token endpoint authentication method.")
@click.option("--jwks-uri", help="URL of the portal's public keys (private_key_jwt only).")
@click.option("--jwks-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSON file with the portal's public keys (private_key_jwt only).")
@click.option("--subject-type", default=SubjectType.PUBLIC.value, show_default=True,
              type=click.Choice([kind.value for kind in SubjectType]),
              help="pairwise gives this portal its own subject per citizen.")
@click.option("--id-token-alg", default="RS256", show_default=True,
              type=click.Choice(list(ID_TOKEN_ALGS)), help="ID token signing algorithm.")
@click.option("--min-acr", multiple=True, default=["LoA1"], show_default=True, type=ACR_CHOICE,
              help=ACR_HELP + " Enforced like an essential acr.")
@click.option("--claims-profile", default=ClaimsProfile.STANDARD.value, show_default=True,
              type=PROFILE_CHOICE, help=PROFILE_HELP)
@click.option("--service-scope", default="", help=SERVICE_SCOPE_HELP)
@click.option("--accepts-delegation", is_flag=True,
              help="A post-office agent under a citizen's mandate (or a guardian) may sign in "
                   "to this portal for them (docs/portal-integration.md).")
@click.option("--procedure", "procedures", multiple=True, help=PROCEDURE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the new client as one JSON object.")
@with_appcontext
def create(
    name: str, redirect_uris: tuple[str, ...], post_logout_redirect_uris: tuple[str, ...],
    backchannel_logout_uri: str | None, scope: str, auth_method: str, jwks_uri: str | None,
    jwks_file: Path | None, subject_type: str, id_token_alg: str, min_acr: tuple[str, ...],
    claims_profile: str, service_scope: str, accepts_delegation: bool,
    procedures: tuple[str, ...], as_json: bool,
) -> None:
    """Register a partner portal and print its client_id and (once) its client_secret."""
    jwks = _read_jwks(jwks_file) if jwks_file is not None else None
    try:
        registered = client_service.register_client(
            name=name, redirect_uris=redirect_uris, post_logout_redirect_uris=post_logout_redirect_uris,
            backchannel_logout_uri=backchannel_logout_uri, scope=scope,
            auth_method=ClientAuthMethod(auth_method), jwks_uri=jwks_uri, jwks=jwks,
            subject_type=SubjectType(subject_type), id_token_signed_response_alg=id_token_alg,
            min_loa=_lowest_level(min_acr), min_phishing_resistant=PHISHING_RESISTANT in min_acr,
            claims_profile=claims_profile, service_scope=service_scope,
            accepts_delegation=accepts_delegation, procedures=procedures,
        )
    except IdpError as exc:
        refuse_idp_error(exc)
    client, secret = registered.client, registered.client_secret
    if as_json:
        click.echo(json.dumps({"client_id": client.client_id, "client_secret": secret,
                               **_metadata(client)}, ensure_ascii=False))
        return
    click.echo(f'Registered client "{client.name}".')
    click.echo(f"  client_id      {client.client_id}")
    if secret is not None:
        click.echo(f"  client_secret  {secret}")
        click.echo(ONCE)


@clients.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the clients as one JSON array.")
@with_appcontext
def list_command(as_json: bool) -> None:
    """List registered clients (never their secrets)."""
    rows = client_service.list_clients()
    if as_json:
        click.echo(json.dumps([_details(client) for client in rows], ensure_ascii=False))
        return
    if not rows:
        click.echo("No clients registered.")
    for client in rows:
        state = "active" if client.is_active else "disabled"
        click.echo(f"{client.client_id}  {state}  {client.token_endpoint_auth_method.value}  "
                   f"LoA{client.min_loa}+{' passkey' if client.min_phishing_resistant else ''}  "
                   f"{client.claims_profile.value}  {client.name}")


@clients.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print the client as one JSON object.")
@with_appcontext
def show(client_id: str, as_json: bool) -> None:
    """Show one client's registration (never its secret)."""
    client = client_service.get_client(client_id)
    if client is None:
        refuse_idp_error(InvalidInput("client.not_found", client_service.MSG_NOT_FOUND, field="client_id"))
    details = _details(client)
    if as_json:
        click.echo(json.dumps(details, ensure_ascii=False))
        return
    for key, value in details.items():
        if isinstance(value, list | dict):
            value = json.dumps(value, ensure_ascii=False)
        click.echo(f"{key:<29} {'-' if value is None else value}")


@clients.command("rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print client_id and the new secret as JSON.")
@with_appcontext
def rotate_secret(client_id: str, as_json: bool) -> None:
    """Replace a client's secret; the old one stops working at once. Prints the new one once."""
    try:
        secret = client_service.rotate_secret(client_id)
    except IdpError as exc:
        refuse_idp_error(exc)
    if as_json:
        click.echo(json.dumps({"client_id": client_id, "client_secret": secret}))
        return
    click.echo(f"New secret for client {client_id} (the old one no longer works):")
    click.echo(f"  client_secret  {secret}")
    click.echo(ONCE)


@clients.command("set-min-acr")
@click.argument("client_id")
@click.argument("values", metavar="VALUE...", nargs=-1, required=True, type=ACR_CHOICE)
@with_appcontext
def set_min_acr(client_id: str, values: tuple[str, ...]) -> None:
    """Set the minimum CLIENT_ID accepts, the whole of it: a level (LoA1, LoA2 or LoA3; the
    lowest named counts) and/or urn:vn:postid:phishing_resistant (every sign-in made with a
    passkey in this session); a level alone drops phishing resistance, the URN alone means
    LoA1 with it.

    Applies from the next sign-in; tokens already issued keep their level."""
    try:
        client = client_service.set_min_loa(client_id, _lowest_level(values),
                                            PHISHING_RESISTANT in values)
    except IdpError as exc:
        refuse_idp_error(exc)
    resistant = ", phishing resistant (a passkey)" if client.min_phishing_resistant else ""
    click.echo(f"Client {client.client_id} now requires LoA{client.min_loa} "
               f"({LOA_ACR[client.min_loa]}) or higher{resistant}.")


@clients.command("set-claims-profile")
@click.argument("client_id")
@click.argument("profile", type=PROFILE_CHOICE)
@with_appcontext
def set_claims_profile(client_id: str, profile: str) -> None:
    """Set the claims profile of CLIENT_ID (PROFILE: standard or dvcqg).

    Applies to tokens issued from now on; tokens already issued keep their claims."""
    try:
        client = client_service.set_claims_profile(client_id, profile)
    except IdpError as exc:
        refuse_idp_error(exc)
    click.echo(f"Client {client.client_id} now uses the claims profile "
               f"{client.claims_profile.value}.")


@clients.command("set-service-scope")
@click.argument("client_id")
@click.argument("scope")
@with_appcontext
def set_service_scope(client_id: str, scope: str) -> None:
    """Set the scopes CLIENT_ID's back end may ask for itself (client_credentials grant).

    SCOPE is space-separated (quote it); "" clears it and ends the grant for this client. Its
    own tokens outside the new scope are revoked at once."""
    try:
        client, revoked = client_service.set_service_scope(client_id, scope)
    except IdpError as exc:
        refuse_idp_error(exc)
    if client.service_scope:
        click.echo(f"Client {client.client_id} may use client_credentials with the service "
                   f"scope: {client.service_scope}")
    else:
        click.echo(f"Client {client.client_id} may no longer use client_credentials "
                   "(no service scope).")
    if revoked:
        click.echo(f"Its tokens outside the new scope, revoked: {revoked}.")


@clients.command("set-delegation")
@click.argument("client_id")
@click.argument("setting", type=click.Choice(["on", "off"]))
@click.option("--procedure", "procedures", multiple=True,
              help=PROCEDURE_HELP + " Replaces the list; without it the list is kept.")
@click.option("--no-procedures", is_flag=True, help="Clear the list of procedures.")
@with_appcontext
def set_delegation(client_id: str, setting: str, procedures: tuple[str, ...],
                   no_procedures: bool) -> None:
    """Turn delegated sign-in on or off for CLIENT_ID (SETTING: on or off), and set the kinds
    of procedure it serves.

    Applies at once: delegated sessions for this portal are refused from their next visit."""
    if procedures and no_procedures:
        refuse("--procedure and --no-procedures exclude each other")
    chosen = [] if no_procedures else (list(procedures) if procedures else None)
    try:
        client = client_service.set_delegation(client_id, accepts=setting == "on",
                                               procedures=chosen)
    except IdpError as exc:
        refuse_idp_error(exc)
    kinds = ", ".join(client.procedures) or "none"
    state = "accepts" if client.accepts_delegation else "does not accept"
    click.echo(f"Client {client.client_id} {state} delegated sign-in; procedures: {kinds}.")


@clients.command("disable")
@click.argument("client_id")
@with_appcontext
def disable(client_id: str) -> None:
    """Disable a client: it can no longer authenticate (safe to run again)."""
    try:
        client = client_service.disable_client(client_id)
    except IdpError as exc:
        refuse_idp_error(exc)
    assert client.disabled_at is not None
    click.echo(f"Client {client.client_id} is disabled (since {client.disabled_at.isoformat()}).")


def _metadata(client: OAuthClient) -> dict[str, Any]:
    """Registered metadata (RFC 7591 §2 names); no secret, no hash."""
    return {
        "name": client.name,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "scope": client.scope,
        "token_endpoint_auth_method": client.token_endpoint_auth_method.value,
        "grant_types": client.grant_types,
        "subject_type": client.subject_type.value,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "jwks_uri": client.jwks_uri,
        # Not RFC 7591: PostID's per-client minimum, in acr form (like default_acr_values).
        "min_acr": LOA_ACR[client.min_loa],
        # With it: every sign-in must be made with a passkey (urn:vn:postid:phishing_resistant).
        "min_phishing_resistant": client.min_phishing_resistant,
        # Not RFC 7591 either: which claim names the portal receives (docs/claims-dvcqg.md).
        "claims_profile": client.claims_profile.value,
        # Nor this: what its back end may ask for itself (client_credentials; "" = nothing).
        "service_scope": client.service_scope,
        # Nor these: whom an agent or guardian may sign in for, for which kinds of procedure.
        "accepts_delegation": client.accepts_delegation,
        "procedures": list(client.procedures),
    }


def _details(client: OAuthClient) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        **_metadata(client),
        "jwks": client.jwks,
        "sector_identifier": client.sector_identifier,
        "active": client.is_active,
        "created_at": iso(client.created_at),
        "secret_rotated_at": iso(client.secret_rotated_at),
        "disabled_at": iso(client.disabled_at),
    }


def _lowest_level(choices: tuple[str, ...]) -> int:
    """The lowest level named (click.Choice returned canonical spellings, so a lookup misses
    only PHISHING_RESISTANT, which is no level); LoA1 when none is named."""
    levels = [level for level in map(level_of, choices) if level is not None]
    return min(levels, default=1)


def _read_jwks(path: Path) -> Any:
    """The JSON in `path`; its shape is the service's to check."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_JWKS_FILE_BYTES + 1)
    except OSError:
        refuse("the JWKS file cannot be read")
    if len(raw) > MAX_JWKS_FILE_BYTES:
        refuse("the JWKS file is too large (at most 64 KiB)")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        refuse("the JWKS file is not valid UTF-8 JSON")


__all__ = ["clients"]
