"""Signing in on behalf of an organisation (docs/architecture.md §10, scope `organization`).

After sign-in (and any step-up), a request with the `organization` scope needs an answer to
"who are you acting as?": the person themselves, or one of the organisations they may act for
now (idp.services.standing.organisation_access). The answer:

- is asked on our page, which comes back to /authorize with a signed, short-lived marker bound
  to this sign-in session and client (a forged or copied marker is ignored and the question
  asked again);
- is otherwise the one given last time in this session for this portal (the latest code),
  still valid, so a portal's silent re-authentication keeps acting for the same organisation;
- is always asked again with prompt=select_account;
- cannot be given by a person with no organisation to act for: they get a page that explains
  how to get one, and the portal gets access_denied (at once with prompt=none);
- with prompt=none and no usable earlier answer: account_selection_required (OIDC Core
  §3.1.2.6); but consent_required comes first when the portal has no standing consent (the
  check before this one, idp.oidc.checks.require_consent_before_organisation).

The membership chosen is checked again whenever the code or a token issued from it is used
(idp.services.portals.tokens.acts_legitimately).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import AccessDeniedError
from authlib.oidc.core.errors import AccountSelectionRequiredError
from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuthorizationCode, OrganisationMember
from idp.oidc.interaction import AuthorizationContext, Interaction, InteractionKind
from idp.services.standing import organisation_access

SCOPE = "organization"
CHOICE_MARKER = "_postid_org"
SELF = "self"
MARKER_MAX_AGE_SECONDS = 900
MAX_MARKER_LENGTH = 256


def wanted(ctx: AuthorizationContext) -> bool:
    return SCOPE in ctx.scopes


def choose_organisation(ctx: AuthorizationContext) -> Interaction | None:
    """Set ctx.membership (None: acting as oneself) or ask who the person acts as."""
    ctx.membership = None
    if not wanted(ctx):
        return None
    assert ctx.session is not None and ctx.account is not None
    choices = ctx.choices = organisation_access.acting_choices(ctx.account)
    if not choices:
        if "none" in ctx.prompts:
            raise AccessDeniedError(description="The person acts for no organisation.")
        return Interaction(InteractionKind.NO_ORGANISATION)
    answer = _marked_choice(ctx)
    if answer is None and "select_account" not in ctx.prompts:
        answer = _earlier_choice(ctx)
    if answer is not None:
        if answer == SELF:
            return None
        chosen = next((m for m in choices if m.id == answer), None)
        if chosen is not None:
            ctx.membership = chosen
            return None
    if "none" in ctx.prompts:
        raise AccountSelectionRequiredError(
            description="The person must choose who they act as for this request.")
    return Interaction(InteractionKind.CHOOSE_ORGANISATION)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="postid.org-choice")


def marker_value(ctx: AuthorizationContext, membership: OrganisationMember | None) -> str:
    """The signed answer carried back to /authorize (see _marked_choice)."""
    assert ctx.session is not None
    return _serializer().dumps({"sid": ctx.session.sid, "client": ctx.client.client_id,
                                "m": membership.public_id if membership else SELF})


def _marked_choice(ctx: AuthorizationContext) -> int | str | None:
    """SELF, a membership row id, or None when there is no valid marker for this session."""
    marker = ctx.params.get(CHOICE_MARKER, "")
    if not marker or len(marker) > MAX_MARKER_LENGTH or ctx.session is None:
        return None
    try:
        data = _serializer().loads(marker, max_age=MARKER_MAX_AGE_SECONDS)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("sid") != ctx.session.sid \
            or data.get("client") != ctx.client.client_id or not isinstance(data.get("m"), str):
        return None
    if data["m"] == SELF:
        return SELF
    membership = organisation_access.membership_by_public_id(ctx.session.account, data["m"])
    return membership.id if membership is not None else None


def _earlier_choice(ctx: AuthorizationContext) -> int | str | None:
    """The answer given for the latest code of this session and portal, if it asked for the
    scope; indexed by session (user_session id) and few rows per session."""
    assert ctx.session is not None
    latest = db.session.execute(
        select(AuthorizationCode.scope, AuthorizationCode.organisation_member_id)
        .where(AuthorizationCode.session_id == ctx.session.id,
               AuthorizationCode.client_pk == ctx.client.id)
        .order_by(AuthorizationCode.id.desc())
        .limit(1)
    ).first()
    if latest is None or SCOPE not in latest.scope.split():
        return None
    return latest.organisation_member_id or SELF

