"""Named checks of the authorization endpoint, run in order (CHECKS) after Authlib's validation.

Each check either passes (returns None), asks for an interaction (returns an Interaction:
sign in, get verified, second factor, who the person acts as, or consent), or raises an
OAuth2Error that is redirected to the client's (already validated) redirect_uri.
OIDC Core §3.1.2.1–§3.1.2.6 and §5.5; levels of assurance per docs/architecture.md §9.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import (
    ConsentRequiredError,
    InteractionRequiredError,
    LoginRequiredError,
)
from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from idp.domain.stored_text import is_storable
from idp.errors import IdpError
from idp.models.base import utcnow
from idp.models.oauth import NONCE_LENGTH
from idp.oidc import acr as acr_rules
from idp.oidc import claims as claim_rules
from idp.oidc import delegated, organisation_choice
from idp.oidc.interaction import AuthorizationContext, Interaction, InteractionKind
from idp.services.identity import mfa, second_factors
from idp.services.portals import consents, keys
from idp.services.portals.subjects import subject_for

# Set on the way back from the sign-in page: the instant the interaction was asked for.
LOGIN_MARKER = "_postid_login"
# Long enough for a sign-in with TOTP; a marker from an earlier sign-in is refused after it.
MARKER_MAX_AGE_SECONDS = 900
# Set by "continue without" on an optional step-up: the voluntary level is not asked again.
MFA_SKIP_MARKER = "_postid_mfa_skip"
PROMPT_VALUES = {"none", "login", "consent", "select_account"}
MAX_PARAM_LENGTH = 4096
MAX_REQUEST_LENGTH = 4096  # all parameters, URL-encoded
MAX_CLAIMS_LENGTH = 4096
# The code stores the nonce: the column's width is the limit (was a 500 on PostgreSQL above it).
MAX_NONCE_LENGTH = NONCE_LENGTH


class UnmetAuthenticationRequirements(OAuth2Error):
    error = "unmet_authentication_requirements"  # OIDC Core errata / OpenID Connect Core §3.1.2.6


class RequestNotSupported(OAuth2Error):
    error = "request_not_supported"


class RequestUriNotSupported(OAuth2Error):
    error = "request_uri_not_supported"


def check_request_parameters(ctx: AuthorizationContext) -> None:
    # Refused here, after Authlib validated the redirect_uri: the error goes back to the portal.
    values = [value for _, value in ctx.params.items(multi=True)]
    if not all(is_storable(value) for value in values):
        raise InvalidRequestError("Parameters must not contain NUL or unpaired surrogates.")
    if any(len(value) > MAX_PARAM_LENGTH for value in values):
        raise InvalidRequestError(f"Parameters must be at most {MAX_PARAM_LENGTH} characters.")
    # The request travels on through PostID's own pages (the sign-in's `next`, the consent
    # form's action): bounded as a whole, so that it still fits a request line there.
    if len(urlencode(list(ctx.params.items(multi=True)))) > MAX_REQUEST_LENGTH:
        raise InvalidRequestError(
            f"The authorization request must be at most {MAX_REQUEST_LENGTH} characters in all.")
    nonce = ctx.params.get("nonce")
    if nonce and len(nonce) > MAX_NONCE_LENGTH:
        raise InvalidRequestError(f"The nonce must be at most {MAX_NONCE_LENGTH} characters.")
    if "request" in ctx.params:
        raise RequestNotSupported("Request objects are not supported.")
    if "request_uri" in ctx.params:
        raise RequestUriNotSupported("request_uri is not supported.")
    prompts = set(ctx.params.get("prompt", "").split())
    if not prompts <= PROMPT_VALUES:
        raise InvalidRequestError("Unknown 'prompt' value.")
    if "none" in prompts and len(prompts) > 1:
        raise InvalidRequestError("prompt=none cannot be combined with other values.")
    ctx.prompts = prompts
    max_age = ctx.params.get("max_age")
    if max_age is not None and (not max_age.isdigit() or len(max_age) > 10):
        raise InvalidRequestError("max_age must be a non-negative integer.")
    raw_claims = ctx.params.get("claims")
    if raw_claims:
        try:
            parsed = json.loads(raw_claims) if len(raw_claims) <= MAX_CLAIMS_LENGTH else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not is_storable(parsed) or not all(
            isinstance(parsed.get(k, {}), dict) for k in ("id_token", "userinfo")
        ):
            raise InvalidRequestError("The claims parameter must be a JSON object (OIDC Core 5.5).")
        ctx.claims_request = parsed
    ctx.acr = acr_rules.parse(ctx.params, ctx.claims_request, ctx.client.min_loa,
                              ctx.client.min_phishing_resistant)


def require_login(ctx: AuthorizationContext) -> Interaction | None:
    """A live session, fresh enough for prompt=login / max_age, for the hinted person."""
    if ctx.session is None:
        reason = "no_session"
    elif _just_signed_in(ctx):
        return None
    elif "login" in ctx.prompts or ("select_account" in ctx.prompts
                                    and not organisation_choice.wanted(ctx)):
        # With the organization scope, select_account asks who the person acts as
        # (idp.oidc.organisation_choice) rather than for a new sign-in.
        reason = "prompt"
    elif _too_old(ctx):
        reason = "max_age"
    elif not _matches_id_token_hint(ctx):
        reason = "hint"
    else:
        return None
    if "none" in ctx.prompts:
        raise LoginRequiredError(description=f"Sign-in required ({reason}).")
    hint = ctx.params.get("login_hint")
    return Interaction(InteractionKind.LOGIN, login_hint=hint if hint and len(hint) <= 64 else None)


def _just_signed_in(ctx: AuthorizationContext) -> bool:
    """The person signed in after this request sent them to the sign-in page. The marker is
    signed and short-lived: a forged or replayed one would skip prompt=login and max_age."""
    marker = ctx.params.get(LOGIN_MARKER, "")
    if ctx.session is None or not marker or len(marker) > 128:
        return False
    try:
        asked_at = _marker_serializer().loads(marker, max_age=MARKER_MAX_AGE_SECONDS)
    except BadData:
        return False
    return isinstance(asked_at, int) and ctx.session.authenticated_at.timestamp() >= asked_at


def _too_old(ctx: AuthorizationContext) -> bool:
    max_age = ctx.params.get("max_age")
    if max_age is None or ctx.session is None:
        return False
    return time.time() - ctx.session.authenticated_at.timestamp() > int(max_age)


def _matches_id_token_hint(ctx: AuthorizationContext) -> bool:
    hint = ctx.params.get("id_token_hint")
    if not hint or ctx.account is None:
        return True
    try:
        claims = keys.verify_jwt(hint, allow_expired=True)
    except IdpError:
        raise InvalidRequestError("The id_token_hint is not a valid ID token from this server.") from None
    return claims.get("sub") == subject_for(ctx.account, ctx.client)


def require_acr(ctx: AuthorizationContext) -> Interaction | None:
    """The person's identity can reach the required level (essential `acr`, client minimum).

    A level no session of theirs can reach (identity not verified at a counter) ends in
    `unmet_authentication_requirements` (OIDC Core §3.1.2.6): at once with prompt=none or when
    no known level was named, else after a page that explains how to get verified."""
    assert ctx.session is not None
    required = ctx.acr.required
    if required <= delegated.reachable_loa(ctx.session):
        return None
    if required == acr_rules.UNREACHABLE:
        raise UnmetAuthenticationRequirements(description="No essential acr value is supported.")
    if ctx.session.is_delegated:
        # Capped at the mandate's (or guardian's) level: no page can raise it in this sign-in.
        raise UnmetAuthenticationRequirements(
            description="A delegated sign-in does not reach the level required.")
    if "none" in ctx.prompts:
        raise UnmetAuthenticationRequirements(
            description="The identity of this account is not verified at a post office.")
    return Interaction(InteractionKind.UNMET)


def require_mfa(ctx: AuthorizationContext) -> Interaction | None:
    """A missing second factor is a step-up in this flow (docs/architecture.md §9).

    Required level: the TOTP challenge, or enrolment first. With prompt=none that is
    login_required when a code would do (an authentication screen) and interaction_required
    when TOTP must first be set up (§3.1.2.6). Voluntary level: only the challenge, only for a
    person who has TOTP, skippable, and never with prompt=none (best effort)."""
    assert ctx.session is not None and ctx.account is not None
    achieved = delegated.achieved_loa(ctx.session)
    if achieved >= ctx.acr.required:
        return Interaction(InteractionKind.STEP_UP, optional=True) if _step_up_helps(ctx, achieved) else None
    # require_acr passed, so the identity suffices: only the second factor is missing.
    if "none" in ctx.prompts:
        if second_factors.has_second_factor(ctx.account.id):  # TOTP or a passkey
            raise LoginRequiredError(description="A second factor is required for this level.")
        raise InteractionRequiredError(
            description="Two-step verification must be set up for this level.")
    return Interaction(InteractionKind.STEP_UP)


def require_phishing_resistance(ctx: AuthorizationContext) -> Interaction | None:
    """An essential acr of claims.PHISHING_RESISTANT: a passkey proven in this session, else a
    passkey step-up in this flow (or adding one, which proves it). With prompt=none that is
    login_required when the account has a passkey, interaction_required when it has none."""
    assert ctx.session is not None and ctx.account is not None
    if not ctx.acr.phishing_resistant or claim_rules.phishing_resistant(ctx.session.amr.split()):
        return None
    if ctx.session.is_delegated:
        # Nobody can prove the citizen's passkey for them, and the account pages where one
        # would be added are closed to a delegated session (§14): refused, never asked.
        raise UnmetAuthenticationRequirements(
            description="A delegated sign-in is not phishing-resistant.")
    if "none" in ctx.prompts:
        if second_factors.has_passkey(ctx.account.id):
            raise LoginRequiredError(description="A passkey is required for this sign-in.")
        raise InteractionRequiredError(description="A passkey must be added for this sign-in.")
    return Interaction(InteractionKind.PASSKEY)


def _step_up_helps(ctx: AuthorizationContext, achieved: int) -> bool:
    assert ctx.account is not None and ctx.session is not None
    preferred = ctx.acr.preferred
    return (preferred is not None and not ctx.session.is_delegated
            and achieved < preferred <= claim_rules.reachable_loa(ctx.account)
            and "none" not in ctx.prompts and ctx.params.get(MFA_SKIP_MARKER) != "1"
            and mfa.is_enrolled(ctx.account.id))


def require_consent_before_organisation(ctx: AuthorizationContext) -> None:
    """With prompt=none and the organization scope, consent_required comes before any answer
    about organisations: otherwise a portal never allowed the scope could learn, from the error
    it gets, whether the person belongs to any organisation."""
    if "none" in ctx.prompts and organisation_choice.wanted(ctx):
        _standing_consent(ctx)  # with prompt=none it passes or raises


def require_consent(ctx: AuthorizationContext) -> Interaction | None:
    """A standing consent for every requested scope, unless prompt=consent asks again. Not
    asked when the person has just answered on our consent page: code issuance acts on the
    answer (idp.oidc.consent)."""
    if ctx.decision is not None:
        return None
    return _standing_consent(ctx)


def _standing_consent(ctx: AuthorizationContext) -> Interaction | None:
    assert ctx.account is not None and ctx.session is not None
    # Under delegation the person at the screen is not the citizen: asked on every sign-in,
    # and the citizen's own standing consent does not answer for them.
    if not ctx.session.is_delegated and "consent" not in ctx.prompts \
            and consents.has_consented(ctx.account.id, ctx.client.id, ctx.scopes):
        return None
    if "none" in ctx.prompts:
        raise ConsentRequiredError(description="Consent is required for this client.")
    return Interaction(InteractionKind.CONSENT)


Check = Callable[[AuthorizationContext], Interaction | None]
# In this order (docs/architecture.md §6: parameters, login with max_age, a delegated
# session's right to this portal, acr, mfa, the
# organisation with its consent first, consent): each check relies on the ones before it (a
# session, a reachable level, the membership the consent page names).
CHECKS: tuple[Check, ...] = (
    check_request_parameters,
    require_login,
    delegated.check_delegation,
    require_acr,
    require_mfa,
    require_phishing_resistance,
    require_consent_before_organisation,
    organisation_choice.choose_organisation,
    require_consent,
)


def run(ctx: AuthorizationContext) -> Interaction | None:
    """The first interaction a check asks for, or None when a code may be issued. A check may
    also raise an OAuth2Error, which goes back to the portal."""
    for check in CHECKS:
        interaction = check(ctx)
        if interaction is not None:
            return interaction
    return None


def _marker_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="postid.login-marker")


def login_marker_value() -> str:
    """The instant the sign-in was asked for, signed (see _just_signed_in)."""
    return _marker_serializer().dumps(int(utcnow().timestamp()))
