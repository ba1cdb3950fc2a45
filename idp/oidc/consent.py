"""The end of an authorization request: record consent, issue the code, commit once."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import AccessDeniedError
from flask_babel import get_locale
from werkzeug.wrappers import Response

from idp.extensions import db
from idp.models import AuditTag, Consent
from idp.oidc import claims as claim_rules
from idp.oidc import server
from idp.oidc.checks import AuthorizationContext, UnmetAuthenticationRequirements
from idp.services.platform import audit
from idp.settings import current_settings


def complete_authorization(ctx: AuthorizationContext, decision: str | None) -> Response:
    """Issue the authorization response. One transaction: the consent record (when the
    person just allowed) and the code are stored together, or neither is.

    decision: "allow" / "deny" from the consent page, None when a standing consent covers
    the request. Raises AccessDeniedError on "deny" (redirected with error=access_denied), and
    UnmetAuthenticationRequirements if the level fell below the requirement since the checks:
    no code is ever issued for less than an essential `acr` or the client's minimum.
    """
    if decision == "deny":
        raise AccessDeniedError(description="The person declined the request.")
    session = ctx.session
    assert session is not None
    achieved = claim_rules.achieved_loa(session.account, session.amr.split())
    if achieved < ctx.acr.required:
        raise UnmetAuthenticationRequirements(
            description="The requested level of assurance is not met for this account.")
    if decision == "allow":
        settings = current_settings()
        locale = get_locale()
        db.session.add(Consent(
            account_id=session.account_id, client_pk=ctx.client.id, scope=" ".join(ctx.scopes),
            text_version=settings.consent_text_version,
            locale=locale.language if locale else settings.default_locale,
        ))
        audit.record(AuditTag.CONSENT_GRANT, account_id=session.account_id, session_id=session.id,
                     client=ctx.client.client_id, scope=" ".join(ctx.scopes))
    if ctx.membership is not None:
        audit.record(AuditTag.OIDC_ORGANISATION_CHOSEN, account_id=session.account_id,
                     session_id=session.id, client=ctx.client.client_id,
                     organisation=ctx.membership.organisation.public_id,
                     membership=ctx.membership.public_id)
    request = ctx.grant.request
    request.user_session = session
    request.organisation_member_id = ctx.membership.id if ctx.membership else None
    request.claims_request = ctx.claims_request
    request.acr = claim_rules.LOA_ACR[achieved]  # what was achieved, never more
    response = server.create_authorization_response(grant=ctx.grant, grant_user=session.account)
    db.session.commit()
    return response
