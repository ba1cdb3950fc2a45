"""What the authorization endpoint shows or where it sends the browser when a check asks the
person to do something: sign in, get verified, pass a second factor, choose who they act as
(scope `organization`), or consent.

Every way back to /authorize carries the original request parameters, so the request is
validated again from scratch there (nothing is trusted from the detour).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import redirect, render_template, request, url_for
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from idp.models import OAuthClient
from idp.oidc import checks, delegated, organisation_choice
from idp.oidc import claims as claim_rules
from idp.oidc.interaction import AuthorizationContext, Interaction, InteractionKind
from idp.services.portals import clients
from idp.services.standing import organisation_access

# Form fields of our own pages, never part of the protocol request.
OWN_FIELDS = ("csrf_token", "decision", "organisation")
VERIFICATION_PATH = "/account/verification"  # the citizen's "get verified" page


def original_params(*, drop: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    # Werkzeug 3.1 types CombinedMultiDict.items(multi=True) as (key, list) pairs; it yields
    # one (key, value) pair per value, in the request's order.
    pairs = cast(Iterable[tuple[str, str]], request.values.items(multi=True))
    return [(k, v) for k, v in pairs if k not in OWN_FIELDS + drop]


def authorize_url(params: list[tuple[str, str]]) -> str:
    return url_for("oidc.authorize") + "?" + urlencode(params)


Page = Callable[[Interaction, AuthorizationContext], Response]
# The page of each kind of interaction; every kind has one (tests/oidc/test_interaction_pages.py).
PAGES: dict[InteractionKind, Page] = {
    InteractionKind.LOGIN: lambda interaction, ctx: ask_to_sign_in(interaction),
    InteractionKind.UNMET: lambda interaction, ctx: explain_unmet(ctx),
    InteractionKind.STEP_UP: lambda interaction, ctx: ask_for_second_factor(interaction),
    InteractionKind.PASSKEY: lambda interaction, ctx: ask_for_passkey(),
    InteractionKind.CHOOSE_ORGANISATION: lambda interaction, ctx: ask_to_choose_organisation(ctx),
    InteractionKind.NO_ORGANISATION: lambda interaction, ctx: explain_no_organisation(ctx),
    InteractionKind.CONSENT: lambda interaction, ctx: ask_for_consent(ctx),
}


def ask(interaction: Interaction, ctx: AuthorizationContext) -> Response:
    page = PAGES.get(interaction.kind)
    if page is None:  # a new kind without its page: never guess one (least of all consent)
        raise LookupError(f"No page for the interaction {interaction.kind!r}.")
    return page(interaction, ctx)


def ask_to_sign_in(interaction: Interaction) -> Response:
    params = original_params(drop=(checks.LOGIN_MARKER,))
    params.append((checks.LOGIN_MARKER, checks.login_marker_value()))
    query: dict[str, Any] = {"next": authorize_url(params)}
    if request.values.get("ui_locales"):
        query["ui_locales"] = request.values["ui_locales"][:64]  # the sign-in page speaks it too
    if interaction.login_hint:
        query["login_hint"] = interaction.login_hint
    return redirect(url_for("auth.login", **query))


def ask_for_second_factor(interaction: Interaction) -> Response:
    """To the step-up page of the current session (idp/web/mfa), which comes back here. The
    login marker is kept: a prompt=login sign-in a moment ago still counts on the way back."""
    query: dict[str, Any] = {"next": authorize_url(original_params())}
    if interaction.optional:
        query["optional"] = "1"
    return redirect(url_for("mfa.step_up", **query))


def ask_for_passkey() -> Response:
    """To the passkey step-up of the current session (idp/web/mfa/passkeys.py), which adds one
    first when the account has none, and comes back here."""
    return redirect(url_for("mfa.passkey_step_up", next=authorize_url(original_params())))


def verification_url() -> str:
    try:
        return url_for("citizen.verification")
    except BuildError:  # the citizen's verification pages are not registered in this build
        return VERIFICATION_PATH


def explain_unmet(ctx: AuthorizationContext) -> Response:
    """The portal needs a counter-verified identity: say how to get one, and offer the way
    back to the portal with error=unmet_authentication_requirements (a CSRF-protected POST
    to /authorize/unmet, which validates the redirect_uri again)."""
    return Response(
        render_template(
            "oidc/unmet.html",
            client=ctx.client,
            account=ctx.account,
            required=min(ctx.acr.required, 3),
            verification_url=verification_url(),
            action=url_for("oidc.authorize_unmet") + "?" + urlencode(original_params()),
        ),
        mimetype="text/html",
    )


def ask_for_consent(ctx: AuthorizationContext) -> Response:
    return Response(
        render_template(
            "oidc/consent.html",
            client=ctx.client,
            scopes=[s for s in ctx.scopes if s != "openid"],
            account=ctx.account,
            # The address scope releases only a counter-verified address: say which case this is.
            has_address=ctx.account is not None and bool(claim_rules.verified_address(ctx.account)),
            acting_for=ctx.membership,
            delegated=delegated.who_signs_in(ctx.session),
            action=url_for("oidc.authorize_consent") + "?" + urlencode(original_params()),
            # A guardian (or an agent) already signed in never sees the sign-in page's links
            # for signing in for someone else (§14): offer them here, with this request to resume.
            delegation_next=(authorize_url(original_params())
                             if ctx.client.accepts_delegation and ctx.session is not None
                             and not ctx.session.is_delegated
                             else None),
        ),
        mimetype="text/html",
    )


def ask_to_choose_organisation(ctx: AuthorizationContext, *, status: int = 200,
                               invalid: bool = False) -> Response:
    """"Who are you acting as?": the person, or one of the organisations they may act for now.
    The form posts to /authorize/organisation, which comes back here with the answer signed."""
    assert ctx.account is not None
    # Computed by the check that asked; the form's own POST (a refused answer) asks anew.
    choices = ctx.choices or organisation_access.acting_choices(ctx.account)
    if not choices:
        return explain_no_organisation(ctx)
    return Response(
        render_template(
            "oidc/choose_organisation.html", client=ctx.client, account=ctx.account,
            choices=choices, invalid=invalid, self_value=organisation_choice.SELF,
            action=url_for("oidc.authorize_organisation") + "?" + urlencode(
                original_params(drop=(organisation_choice.CHOICE_MARKER,))),
            # Also the answer to a refused POST: the switch asks again at /authorize.
            language_next=authorize_url(original_params(drop=(organisation_choice.CHOICE_MARKER,))),
        ),
        status=status, mimetype="text/html",
    )


def back_with_choice(marker: str) -> Response:
    params = original_params(drop=(organisation_choice.CHOICE_MARKER,))
    params.append((organisation_choice.CHOICE_MARKER, marker))
    return redirect(authorize_url(params), code=303)


def explain_no_organisation(ctx: AuthorizationContext) -> Response:
    """The portal wants someone acting for an organisation and this person acts for none:
    say how that comes about, and offer the way back (error=access_denied)."""
    try:
        register_url = url_for("business.register")
    except BuildError:  # the business pages are not registered in this build
        register_url = None
    return Response(
        render_template(
            "oidc/no_organisation.html", client=ctx.client, account=ctx.account,
            register_url=register_url,
            action=url_for("oidc.authorize_no_organisation") + "?" + urlencode(original_params()),
        ),
        mimetype="text/html",
    )


@dataclass(frozen=True)
class WaitingPortal:
    """The portal whose authorization request a detour (two-step set-up, step-up) resumes."""

    client: OAuthClient
    action: str  # the "back to the portal" form's target


def waiting_portal(next_url: str | None, *,
                   endpoint: str = "oidc.authorize_without_second_factor") -> WaitingPortal | None:
    """The portal of `next` when it is an authorization request to resume, else None.

    Only the client's name comes from here; the form posts the original request to `endpoint`
    (by default /authorize/no-second-factor), which validates it (client, redirect_uri) again."""
    if not next_url:
        return None
    parts = urlsplit(next_url)
    if parts.path != url_for("oidc.authorize"):
        return None
    params = parse_qsl(parts.query, keep_blank_values=True)
    client = clients.get_client(dict(params).get("client_id", ""))
    if client is None or not client.is_active:
        return None
    kept = [(k, v) for k, v in params if k not in OWN_FIELDS]
    return WaitingPortal(client=client,
                         action=url_for(endpoint) + "?" + urlencode(kept))
