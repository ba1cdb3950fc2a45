"""Protocol endpoints. Thin: parse, let Authlib validate, run the named checks, respond."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import (
    AccessDeniedError,
    InvalidClientError,
    InvalidRequestError,
    OAuth2Error,
)
from flask import Blueprint, render_template, request, url_for
from werkzeug.wrappers import Response

from idp import i18n
from idp.domain.stored_text import is_storable
from idp.extensions import csrf
from idp.models import UserSession
from idp.oidc import checks, consent, organisation_choice, server, userinfo
from idp.oidc.checks import MAX_PARAM_LENGTH
from idp.oidc.interaction import AuthorizationContext
from idp.services.standing import organisation_access
from idp.settings import current_settings
from idp.web.oidc import documents, error_text, interactions
from idp.web.oidc.documents import StaticDocument
from idp.web.redirects import safe_next
from idp.web.session_cookie import current_session

bp = Blueprint("oidc", __name__)
TRUST_PARAMETERS = ("client_id", "redirect_uri", "response_type")
SINGLE_VALUED = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                 "prompt", "max_age", "code_challenge", "code_challenge_method", "claims",
                 "login_hint", "id_token_hint", "acr_values", "ui_locales", "display",
                 "grant_type", "code", "code_verifier", "refresh_token", "client_secret",
                 "client_assertion", "client_assertion_type", "token", "token_type_hint")


def _document(document: StaticDocument) -> Response:
    """The same answer as the fast path (idp.web.oidc.documents) gives, for the requests it
    leaves to Flask (a query string, for one)."""
    status, headers, body = document.answer(request.headers.get("If-None-Match"))
    return Response(body, status=status, headers=headers)


@bp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    return _document(documents.discovery_document())


@bp.get("/jwks.json")
def jwks() -> Response:
    return _document(documents.jwks_document())


def _bad_parameters(*, trust_only: bool = False) -> str | None:
    """Repeated or oversized protocol parameters (RFC 6749 §3.1, §3.2), and text the database
    cannot hold (idp.domain.stored_text). For /authorize (trust_only) size and text are checked
    here only for the parameters that decide whether its redirect_uri can be trusted: the
    others' errors go back to the portal (checks.check_request_parameters)."""
    checked = TRUST_PARAMETERS if trust_only else tuple(request.values.keys())
    if not all(is_storable(value) for name in checked for value in request.values.getlist(name)):
        return "Parameters must not contain NUL or unpaired surrogates."
    for name in SINGLE_VALUED:
        values = request.values.getlist(name)
        if len(values) > 1:
            return f"Parameter '{name}' is repeated."
        if values and name in checked and len(values[0]) > MAX_PARAM_LENGTH:
            return f"Parameter '{name}' is too long."
    return None


def _with_iss(response: Response) -> Response:
    """RFC 9207: every authorization response names its issuer."""
    location = response.headers.get("Location")
    if response.status_code in (301, 302, 303) and location:
        i18n.finish_flow()  # back to the portal: the flow's language ends here
        response.headers["Location"] = add_params_to_uri(
            location, [("iss", current_settings().issuer)]
        )
    return response


def _authorization_error(error: OAuth2Error) -> Response:
    """Redirect to a validated redirect_uri, or show a page: never an unvalidated redirect."""
    if error.redirect_uri:
        status, body, headers = error()
        return _with_iss(Response(body, status=status, headers=headers))
    error = _untrusted_parameter(error) or error
    return Response(
        render_template("oidc/error.html", error=error.error, language_next=_this_page(),
                        description=error_text.explain(error)),
        status=400, mimetype="text/html",
    )


def _untrusted_parameter(error: OAuth2Error) -> OAuth2Error | None:
    """Authlib looks at response_type before the client (it picks the grant by it), so a
    request with no client_id at all was reported as an unsupported response_type. A developer
    fixes client_id, then redirect_uri, then response_type: name them in that order, with the
    texts the code grant uses (idp.oidc.grants), never the values."""
    if error.error != "unsupported_response_type":
        return None
    client_id = request.values.get("client_id")
    if not client_id:
        return InvalidClientError("Missing 'client_id' parameter.")
    client = server.query_client(client_id)
    if client is None:
        return InvalidClientError("The client does not exist on this server.")
    redirect_uri = request.values.get("redirect_uri")
    if not redirect_uri:
        return InvalidRequestError("Missing 'redirect_uri' in request.")
    if not client.check_redirect_uri(redirect_uri):
        return InvalidRequestError("The redirect_uri is not registered for this client.")
    return None


def _this_page() -> str:
    """Where the error page's language switch returns: the same request again, as a GET (the
    page never echoes a value, so showing it again is safe; a portal may have POSTed it). The
    forms posting to /authorize/... carry the request in their query. Too long for a `next`:
    the start page."""
    params = request.values if request.endpoint == "oidc.authorize" else request.args
    query = urlencode(list(params.items(multi=True)))
    return safe_next(url_for("oidc.authorize") + (f"?{query}" if query else ""), "/")


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt  # relying parties POST here (OIDC Core §3.1.2.1); nothing changes without consent
def authorize() -> Response:
    return _authorize(decision=None)


@bp.post("/authorize/consent")
def authorize_consent() -> Response:
    """The consent form (CSRF-protected) posts here with the original request in the query;
    so does "Back to the portal" on a portal's sign-in page (decision=deny)."""
    decision = request.form.get("decision")
    if decision not in ("allow", "deny"):
        return _authorization_error(InvalidRequestError("Missing consent decision."))
    if decision == "deny":
        # Declining needs no session: the same answer from the consent page and from the
        # sign-in page's "Back to the portal" (a person who declines to sign in, RFC 6749
        # §4.1.2.1 access_denied), and a session ended in another tab meanwhile does not
        # turn a refusal into a sign-in.
        return _back_to_portal(AccessDeniedError(description="The person declined the request."))
    return _authorize(decision=decision)


@bp.post("/authorize/unmet")
def authorize_unmet() -> Response:
    """"Back to the portal" on the get-verified page (CSRF-protected form, original request in
    the query): error=unmet_authentication_requirements with state and iss (OIDC Core
    §3.1.2.6, RFC 9207), only ever to the redirect_uri Authlib validates again here."""
    return _back_to_portal(checks.UnmetAuthenticationRequirements(
        description="The person's identity is not verified at the level required."))


def _back_to_portal(error: OAuth2Error) -> Response:
    """`error` to the portal, once its request (client, redirect_uri) validates again."""
    try:
        grant, _ = _validated_request()
    except OAuth2Error as invalid:
        return _authorization_error(invalid)
    error.redirect_uri = grant.redirect_uri
    error.state = request.values.get("state")
    return _authorization_error(error)


@bp.post("/authorize/no-second-factor")
def authorize_without_second_factor() -> Response:
    """"Back to the portal" from two-step set-up (or the step-up) in the middle of a sign-in.

    error=unmet_authentication_requirements (OIDC Core §3.1.2.6), not access_denied: the
    person did not refuse the portal anything; PostID cannot authenticate them at the level
    the portal requires (a second factor), exactly the unmet case of the "get verified" page.
    The portal can then offer another way in. With state and iss (RFC 9207), only to the
    redirect_uri Authlib validates again here."""
    return _back_to_portal(checks.UnmetAuthenticationRequirements(
        description="The person has no second factor for the level required."))


@bp.post("/authorize/organisation")
def authorize_organisation() -> Response:
    """The "who are you acting as?" form (CSRF-protected, original request in the query):
    checks the answer and goes back to /authorize with it signed (organisation_choice)."""
    try:
        grant, session = _validated_request()
    except OAuth2Error as error:
        return _authorization_error(error)
    if session is None:  # signed out in another tab meanwhile: start again
        return _authorize(decision=None)
    ctx = AuthorizationContext(grant=grant, client=grant.request.client.row, session=session,
                               params=request.values)
    raw = request.form.get("organisation", "")
    membership = None
    if raw != organisation_choice.SELF:
        membership = organisation_access.membership_by_public_id(session.account, raw)
        if membership is None:
            return interactions.ask_to_choose_organisation(ctx, status=400, invalid=True)
    return interactions.back_with_choice(organisation_choice.marker_value(ctx, membership))


@bp.post("/authorize/no-organisation")
def authorize_no_organisation() -> Response:
    """"Back to the portal" on the no-organisation page: error=access_denied to the
    redirect_uri Authlib validates again here."""
    return _back_to_portal(AccessDeniedError(description="The person acts for no organisation."))


def _validated_request() -> tuple[Any, UserSession | None]:
    """Authlib's validation of the authorization request (client, redirect_uri, response_type,
    scope, PKCE). Raises OAuth2Error; a redirect_uri is set on it only once validated."""
    problem = _bad_parameters(trust_only=True)
    if problem:
        raise InvalidRequestError(problem)
    session = current_session()
    try:
        return server.get_consent_grant(end_user=session.account if session else None), session
    except ValueError:
        # Authlib refuses to build an error description from non-ASCII input; so do we.
        raise InvalidRequestError("Malformed request parameters.") from None


def _authorize(decision: str | None) -> Response:
    try:
        grant, session = _validated_request()
    except OAuth2Error as invalid:
        return _authorization_error(invalid)
    ctx = AuthorizationContext(grant=grant, client=grant.request.client.row, session=session,
                               params=request.values, decision=decision)
    try:
        interaction = checks.run(ctx)
        if interaction is not None:
            return interactions.ask(interaction, ctx)
        return _with_iss(consent.complete_authorization(ctx))
    except ValueError:
        error = InvalidRequestError("Malformed request parameters.")
    except OAuth2Error as raised:
        error = raised
    # From here on the redirect_uri has been validated: errors go back to the client.
    error.redirect_uri = error.redirect_uri or grant.redirect_uri
    error.state = request.values.get("state")
    return _authorization_error(error)


@bp.post("/token")
@csrf.exempt
def token() -> Response:
    problem = _bad_parameters() or _form_problem()
    if problem:
        return server.token_error_response(None, InvalidRequestError(problem))
    try:
        return server.create_token_response()
    except ValueError:
        return server.token_error_response(None, InvalidRequestError("Malformed request parameters."))


def _form_problem() -> str | None:
    if request.mimetype != "application/x-www-form-urlencoded":
        return "The body must be application/x-www-form-urlencoded."
    if request.args:
        return "Parameters must be sent in the body, not the query."
    return None


@bp.post("/token/revoke")
@csrf.exempt
def revoke() -> Response:
    problem = _bad_parameters() or _form_problem()
    if problem:
        return server.handle_error_response(None, InvalidRequestError(problem))
    try:
        return server.create_endpoint_response("revocation")
    except ValueError:
        return server.handle_error_response(None, InvalidRequestError("Malformed request parameters."))


@bp.post("/token/introspect")
@csrf.exempt
def introspect() -> Response:
    problem = _bad_parameters() or _form_problem()
    if problem:
        return server.handle_error_response(None, InvalidRequestError(problem))
    try:
        return server.create_endpoint_response("introspection")
    except ValueError:
        return server.handle_error_response(None, InvalidRequestError("Malformed request parameters."))


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf.exempt
def userinfo_endpoint() -> Response:
    return userinfo.respond()
