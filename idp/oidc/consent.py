"""The end of an authorization request: record consent, issue the code, commit once."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import AccessDeniedError
from flask_babel import get_locale
from werkzeug.wrappers import Response

from idp.extensions import db
from idp.models import AuditTag
from idp.oidc import claims as claim_rules
from idp.oidc import delegated, server
from idp.oidc.checks import UnmetAuthenticationRequirements
from idp.oidc.grants import Approval
from idp.oidc.interaction import AuthorizationContext
from idp.services.identity import mandate_uses
from idp.services.platform import audit
from idp.services.portals import consents


def complete_authorization(ctx: AuthorizationContext) -> Response:
    """Issue the authorization response, once the checks (idp.oidc.checks.run) ask for
    nothing more. One transaction: the consent record (when the person just allowed) and the
    code are stored together, or neither is.

    ctx.decision: "allow" / "deny" from the consent page, None when a standing consent covers
    the request. Raises AccessDeniedError on "deny" (redirected with error=access_denied), and
    UnmetAuthenticationRequirements if the level fell below the requirement since the checks:
    no code is ever issued for less than an essential `acr` or the client's minimum.
    """
    if ctx.decision == "deny":
        raise AccessDeniedError(description="The person declined the request.")
    session = ctx.session
    assert session is not None
    achieved = delegated.achieved_loa(session)  # under delegation: capped (idp.oidc.delegated)
    if achieved < ctx.acr.required or (ctx.acr.phishing_resistant
                                       and not claim_rules.phishing_resistant(session.amr.split())):
        raise UnmetAuthenticationRequirements(
            description="The requested level of assurance is not met for this account.")
    if session.is_delegated:
        # The agent's (or guardian's) answer is for this sign-in only, never the citizen's
        # standing consent; the use is recorded (and the citizen told) with the code.
        mandate_uses.record_use_in_transaction(session, ctx.client)
    elif ctx.decision == "allow":
        locale = get_locale()  # the language the consent page was shown in
        consents.grant_in_transaction(session, ctx.client, ctx.scopes,
                                      locale=locale.language if locale else None)
    if ctx.membership is not None:
        audit.record(AuditTag.OIDC_ORGANISATION_CHOSEN, account_id=session.account_id,
                     session_id=session.id, client=ctx.client.client_id,
                     organisation=ctx.membership.organisation.public_id,
                     membership=ctx.membership.public_id)
    ctx.grant.approval = Approval(
        session=session, organisation_member_id=ctx.membership.id if ctx.membership else None,
        claims_request=ctx.claims_request,
        acr=claim_rules.LOA_ACR[achieved],  # what was achieved, never more
    )
    response = server.create_authorization_response(grant=ctx.grant, grant_user=session.account)
    db.session.commit()
    return response
